#!/usr/bin/env bash
# The site-server mix against the Linux build and the Windows build under Wine, one after
# the other in the same run, so that the two can be compared:
#   N long-lived TLS clients ramped in at 50/s, each sending a 16..4,000-byte message every
#   1..3 s and checking the echo, reconnecting after a random lifetime (~10 reconnects/s at
#   full size); 10% of them stop reading mid-stream (the broker must reap them within
#   write_stall_ms + 2 s); on top, ~50 slowloris connections at any time (half a
#   ClientHello, reaped by the handshake timeout) and 5 connect-then-reset per second.
# Before the mix, each broker holds 2,000 idle TLS connections to measure RSS per idle
# connection. Per target it checks: no connect timed out (15 s) or was refused, no exchange
# failed, every stalled writer reaped in time, 0 watchdog stalls and 0 socket
# re-creations, and on Windows that Asio's select reactor never started; with both targets,
# the Windows connect p99 is at most 3x the Linux one.
# Usage: scripts/soak-site-mix.sh [--clients N (2025)] [--seconds S (300)]
#          [--targets "linux windows"] [--idle N (2000)] [--no-build]
#          [--stalled F (0.10)] [--slowloris R (5/s)] [--resets R (5/s)]   (to take the mix apart)
# Output in build/soak-site-mix/<target>/ and build/soak-site-mix/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
source scripts/bench/wine.sh
source scripts/bench/site-mix.sh

clients=2025 seconds=300 targets="linux windows" idle=2000 build=1
stalled=0.10 slowloris=5 resets=5  # fraction of clients that stop reading; new slowloris and resets per second
while (($#)); do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --stalled) stalled=$2; shift 2 ;;
    --slowloris) slowloris=$2; shift 2 ;;
    --resets) resets=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--clients N] [--seconds S] [--targets \"linux windows\"] [--idle N] [--no-build]" >&2
       exit 2 ;;
  esac
done
((seconds >= 40)) || { echo "$0: a run needs at least 40 s" >&2; exit 2; }
out=build/soak-site-mix
stall_ms=10000
lifetime=$(site_mix_lifetime "$clients" "$seconds")
ramp=$(awk -v n="$clients" -v s="$seconds" 'BEGIN { r = 50; if (n / r > s / 3) r = n / (s / 3); printf "%.0f", r }')

soak_setup $build "$out" 19031 19431 19131 19032 19432 19132
if ((build)) && [[ " $targets " == *" windows "* ]]; then TARGET=windows build_windows; fi

# run_target NAME ECHO_PORT TLS_PORT STATUS_PORT: one broker through the idle and the mix phases.
run_target() {
  local name=$1 port_echo=$2 port_tls=$3 port_status=$4 dir=$out/$1
  TARGET=$name
  rm -rf "$dir"
  mkdir -p "$dir"
  make_cert "$dir"
  wine_setup "$dir"
  site_mix_broker_config "$dir/tlsbroker.json" "$port_tls" "$port_status" "$port_echo" \
    'watchdog={"enabled": true, "on_unrecoverable": "report"}' listeners.0.timeouts.handshake_ms=10000 \
    listeners.0.timeouts.idle_ms=60000 listeners.0.timeouts.write_stall_ms=$stall_ms
  start_bg "$dir/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 1
  wait_port "$port_echo" || die "echo backend did not start"
  start_broker "$dir/tlsbroker.out" "$dir/tlsbroker.json"
  wait_port "$port_tls" 60 || die "$name broker did not start (see $dir/tlsbroker.out)"
  local active deadline
  active() { metric "$port_status" tlsbroker_connections_active; }

  # Idle connections: RSS with none, then with $idle held (the broker counts them all).
  local rss0 rss1
  rss0=$(rss_kb "$broker")
  start_bg "$dir/hold.log" "$LOADGEN" hold --target "127.0.0.1:$port_tls" --connections "$idle" --rate 500 \
    --payload 64 --hold 600 --ready-file "$dir/hold.ready" --timeout 15 --threads 2 --json
  local hold=$last_pid
  deadline=$((SECONDS + 120))
  until [[ -f $dir/hold.ready && $(active) -ge $idle ]] || ((SECONDS > deadline)); do sleep 0.5; done
  rss1=$(rss_kb "$broker")
  kill -TERM "$hold" 2>/dev/null || true
  wait "$hold" || true
  deadline=$((SECONDS + 60))
  until [[ $(active) == 0 ]] || ((SECONDS > deadline)); do sleep 0.5; done
  echo $(((rss1 - rss0) * 1024 / idle)) >"$dir/rss_per_idle_bytes"
  grep '^{' "$dir/hold.log" >"$dir/hold.json" || true

  # The mix.
  log "$name: $clients clients at $ramp/s for $seconds s (lifetime ~${lifetime} s), stalled $stalled, slowloris $slowloris/s, resets $resets/s"
  site_mix_command "$port_tls" "$clients" "$ramp" "$seconds" "$stalled"
  start_bg "$dir/site.log" "${site_mix_cmd[@]}" --progress 10
  local site=$last_pid
  local others=()
  if ((slowloris > 0)); then
    start_bg "$dir/slow.log" "$LOADGEN" slowloris --target "127.0.0.1:$port_tls" \
      --connections $((slowloris * seconds)) --rate "$slowloris" --half-hello --duration 30 --threads 1 --json
    others+=("$last_pid")
  fi
  if ((resets > 0)); then
    start_bg "$dir/resets.log" "$LOADGEN" reset-storm --target "127.0.0.1:$port_tls" \
      --connections $((resets * seconds)) --rate "$resets" --reset-fraction 1 --threads 1 --json
    others+=("$last_pid")
  fi
  local rc=0 p
  wait "$site" || rc=$?
  for p in "${others[@]}"; do wait "$p" || true; done
  echo "$rc" >"$dir/site.rc"
  for f in site slow resets; do grep '^{' "$dir/$f.log" >"$dir/$f.json" || true; done
  http_get "$port_status" /metrics >"$dir/metrics.txt"
  http_get "$port_status" /status >"$dir/status.json"
  stop_started
  [[ $name == windows ]] && { wineserver -k >/dev/null 2>&1 || true; }
  return 0
}

i=0
for t in $targets; do
  run_target "$t" $((19031 + i)) $((19431 + i)) $((19131 + i))
  i=$((i + 1))
done

# --- checks --------------------------------------------------------------------------------
failures=()
mget() { awk -v m="$2" 'index($0, m) == 1 { s += $NF } END { printf "%.0f", s }' "$out/$1/metrics.txt"; }
{
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' target connects "connect failures" \
    "connect p99 ms" "exchanges (failed)" "stalled writers reaped (max ms)" "watchdog stalls" "re-creations" \
    "select reactor" "RSS per idle connection"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  for t in $targets; do
    d=$out/$t
    sj=$d/site.json
    reactor=$(grep -o '"select_reactor": [a-z]*' "$d/status.json" | awk '{print $2}' || true)
    printf '| %s | %s | %s | %s | %s (%s) | %s (%s) | %s | %s | %s | %s B |\n' "$t" "$(jget "$sj" connects)" \
      "$(jget "$sj" connect_failures)" "$(jget "$sj" handshake_p99_ms)" "$(jget "$sj" exchanges)" \
      "$(jget "$sj" exchange_failures)" "$(jget "$sj" stalled_reaped)" "$(jget "$sj" reap_max_ms)" \
      "$(mget "$t" tlsbroker_accept_stalls_total)" \
      "$(mget "$t" 'tlsbroker_watchdog_recoveries_total{listener="site",step="recreate"}')" \
      "${reactor:-?}" "$(cat "$d/rss_per_idle_bytes")"
  done
} >"$out/table.md"

for t in $targets; do
  d=$out/$t
  sj=$d/site.json
  [[ -s $sj ]] || { failures+=("$t: no report from the site clients"); continue; }
  [[ $(jget "$sj" connect_failures) == 0 ]] ||
    failures+=("$t: $(jget "$sj" connect_failures) connects failed: $(grep -o '"failures": {[^}]*}' "$sj")")
  [[ $(jget "$sj" exchange_failures) == 0 ]] || failures+=("$t: $(jget "$sj" exchange_failures) exchanges failed")
  [[ $(cat "$d/site.rc") == 0 ]] || failures+=("$t: site clients exit code $(cat "$d/site.rc")")
  ((seconds < 60)) || [[ $stalled == 0 ]] || (($(jget "$sj" stalled_reaped) > 0)) ||
    failures+=("$t: no stalled writer was reaped")
  awk -v m="$(jget "$sj" reap_max_ms)" -v l=$((stall_ms + 2000)) 'BEGIN { exit !(m <= l) }' ||
    failures+=("$t: a stalled writer was reaped after $(jget "$sj" reap_max_ms) ms (allowed $((stall_ms + 2000)))")
  [[ $(mget "$t" tlsbroker_accept_stalls_total) == 0 ]] || failures+=("$t: watchdog stalls")
  [[ $(mget "$t" 'tlsbroker_watchdog_recoveries_total{listener="site",step="recreate"}') == 0 ]] ||
    failures+=("$t: listening socket re-created")
  ((resets == 0)) || [[ $(jget "$d/resets.json" resets) -gt 0 ]] || failures+=("$t: the reset clients did not run")
  grep -q '"select_reactor": false' "$d/status.json" || failures+=("$t: Asio's select reactor started")
done
if [[ " $targets " == *" linux "* && " $targets " == *" windows "* ]]; then
  lp=$(jget "$out/linux/site.json" handshake_p99_ms) wp=$(jget "$out/windows/site.json" handshake_p99_ms)
  awk -v l="$lp" -v w="$wp" 'BEGIN { exit !(w <= 3 * l) }' ||
    failures+=("Windows connect p99 $wp ms is above 3x Linux ($lp ms)")
fi

{
  echo "site mix, $(date -u +"%Y-%m-%d %H:%M UTC"), $clients clients ramped at $ramp/s, $seconds s, lifetime ~${lifetime} s;" \
    "RSS per idle connection with $idle held"
  cat "$out/table.md"
  if ((${#failures[@]})); then printf 'FAILED: %s\n' "${failures[@]}"; else echo "PASSED"; fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
