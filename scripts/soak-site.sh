#!/usr/bin/env bash
# Site-server replay: 2,025 long-lived TLS clients connect at ~10/s and exchange a message
# every few seconds, with reconnect churn; 10% of the clients stop reading mid-stream and 5%
# vanish without closing. The broker runs with short idle/write-stall timeouts so that the
# stuck peers are reaped within the run. /metrics and the broker's RSS are sampled every
# 5 s into build/soak-site/samples.csv, drawn into samples.png, and checked:
#   no client refused; stuck peers reaped (timeout counters move); active connections stay
#   at the expected level and return to zero afterwards; RSS flat.
# Usage: scripts/soak-site.sh [--minutes N (30) | --seconds N] [--clients N (2025)] [--no-build]
# Short runs connect faster than 10/s so that every client is in within the first half, and
# sample every 2 s. The suite runs a short form (ctest soak.site: 100 s, 400 clients).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

minutes=30 seconds="" clients=2025 build=1
while (($#)); do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--minutes N | --seconds N] [--clients N] [--no-build]" >&2; exit 2 ;;
  esac
done
duration=${seconds:-$((minutes * 60))}
((duration >= 60)) || { echo "$0: a run needs at least 60 s" >&2; exit 2; }
span=$(awk -v d="$duration" 'BEGIN { if (d % 60) printf "%d s", d; else printf "%d min", d / 60 }')
period=$((duration >= 600 ? 5 : 2))
# The clients' message interval and the broker's reaping timeouts (also used by the model).
interval=3 idle_s=20 stall_s=10
rate=$(awk -v n="$clients" -v d="$duration" 'BEGIN { r = n / (d * 0.5); printf "%.1f", (r > 10 ? r : 10) }')
lifetime=$((duration / 2 < 300 ? duration / 2 : 300))
port_echo=19010 port_tls=19453 port_status=19110
out=build/soak-site

soak_setup $build "$out" $port_echo $port_tls $port_status

broker_config "$out/tlsbroker.json" --name site --listen $port_tls --status $port_status --backend $port_echo \
  'watchdog={"enabled": true, "probe_interval_ms": 2000, "probe_timeout_ms": 1000, "on_unrecoverable": "report"}' \
  listeners.0.backlog=1024 listeners.0.max_connections=10000 listeners.0.connection_log=false \
  listeners.0.timeouts.handshake_ms=10000 listeners.0.timeouts.idle_ms=$((idle_s * 1000)) \
  listeners.0.timeouts.write_stall_ms=$((stall_s * 1000)) listeners.0.timeouts.half_close_ms=10000 \
  'listeners.0.keepalive={"idle_s": 30, "interval_s": 5, "count": 3}'

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port $port_echo || die "echo backend did not start"
start_bg "$out/tlsbroker.out" "$TLSBROKER" --config "$out/tlsbroker.json"
broker=$last_pid
wait_port $port_tls || die "tlsbroker did not start (see $out/tlsbroker.out)"

log "site replay: $clients clients at $rate/s for $span (lifetime ~${lifetime}s), sampling every $period s"
start_bg "$out/loadgen.log" "$LOADGEN" site --target "127.0.0.1:$port_tls" --clients "$clients" --rate "$rate" \
  --duration "$duration" --interval $interval --lifetime "$lifetime" --stop-reading-fraction 0.10 --vanish-fraction 0.05 \
  --progress 1 --threads 2 --json
lg=$last_pid

m() { metric $port_status "$1"; }
echo "t_s,active,accepted,handshakes_ok,handshakes_failed,rejected,timeouts_idle,timeouts_write_stall,probe_latency_ms,rss_kb,client_live,client_stuck" \
  >"$out/samples.csv"
t0=$SECONDS
sample() {
  local body
  body=$(http_get $port_status /metrics) || return 0
  get() { awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%.0f", s }' <<<"$body"; }
  printf '%d,%s,%s,%s,%s,%s,%s,%s,%s,%s' $((SECONDS - t0)) \
    "$(get tlsbroker_connections_active)" "$(get tlsbroker_connections_accepted_total)" \
    "$(get 'tlsbroker_handshakes_total{listener="site",result="ok"}')" \
    "$(get 'tlsbroker_handshakes_total{listener="site",result="failed"}')" \
    "$(get tlsbroker_connections_rejected_total)" \
    "$(get 'tlsbroker_timeouts_total{listener="site",kind="idle"}')" \
    "$(get 'tlsbroker_timeouts_total{listener="site",kind="write_stall"}')" \
    "$(awk '/^tlsbroker_watchdog_probe_latency_seconds/ { printf "%.3f", $NF * 1000 }' <<<"$body")" \
    "$(rss_kb "$broker")" >>"$out/samples.csv"
  # The clients' own view (their last progress line): live and stuck connections.
  tail -n 20 "$out/loadgen.log" | awk '/^site:/ { l = $5; s = $7 } END { printf ",%d,%d\n", l, s }' >>"$out/samples.csv"
}
deadline=$((SECONDS + duration + 120))
while kill -0 $lg 2>/dev/null && ((SECONDS < deadline)); do
  sample
  sleep $period
done
lg_rc=0
wait $lg || lg_rc=$?
# After the clients left: the broker must be back to zero live connections.
drain_deadline=$((SECONDS + 30))
while ((SECONDS < drain_deadline)); do
  sample
  [[ $(m tlsbroker_connections_active) == 0 ]] && break
  sleep 2
done
sample
grep '^{' "$out/loadgen.log" >"$out/loadgen.json" || true

# --- checks --------------------------------------------------------------------------------
failures=()
lj=$out/loadgen.json
[[ $(jget "$lj" connect_failures) == 0 ]] || failures+=("clients refused or failed to connect: $(jget "$lj" connect_failures)")
[[ $(jget "$lj" exchange_failures) == 0 ]] || failures+=("message exchanges failed: $(jget "$lj" exchange_failures)")
((lg_rc == 0)) || failures+=("load generator exit code $lg_rc")
last=$(tail -1 "$out/samples.csv")
IFS=, read -r _ active_end _ _ hs_failed rejected idle_to stall_to _ _ <<<"$last"
[[ $rejected == 0 ]] || failures+=("broker rejected $rejected connections")
((idle_to > 0)) || failures+=("no idle timeouts: vanished clients were not reaped")
((stall_to > 0)) || failures+=("no write-stall timeouts: clients that stopped reading were not reaped")
[[ $active_end == 0 ]] || failures+=("$active_end connections still active 30 s after the clients left")
# Active connections after ramp-up (second half of the run), against the level the clients'
# own model predicts (Little's law): a normal client holds its connection for a lifetime L
# (mean) and waits ~1 s before reconnecting; a client that gets stuck does so after
# d = max(2 x interval, U x life / 2) on every connection, comes back at once, and leaves
# the stuck connection to the broker for about the write-stall timeout (stopped reading)
# or the idle timeout less half an interval (vanished). Allowed: 5% of the clients + 10
# either way. Separately, the broker's count must stay within 5% + 20 of what the clients
# themselves hold (live + stuck not yet reaped): a leak shows there first.
expected=$(awk -v n0="$(jget "$lj" normal_clients)" -v ns="$(jget "$lj" stop_reading_clients)" \
  -v nv="$(jget "$lj" vanishing_clients)" -v L="$lifetime" -v i="$interval" -v w="$stall_s" -v v="$idle_s" \
  'BEGIN { srand(1); for (k = 0; k < 100000; k++) { x = rand() * L * (0.5 + rand()) / 2; d += (x > 2 * i ? x : 2 * i) }
     d /= 100000
     printf "%.0f", n0 * L / (L + 1) + ns * (1 + w / d) + nv * (1 + (v - i / 2) / d) }')
read -r lo hi rss_first rss_last rss_max worst <<<"$(awk -F, -v h="$((duration / 2))" -v d="$duration" \
  'NR > 1 && $1 >= h && $1 <= d - 10 { if (lo == "" || $2 < lo) lo = $2; if ($2 > hi) hi = $2;
     if (first == "") first = $10; lastr = $10; if ($10 > mx) mx = $10
     dev = $2 - $11 - $12; if (dev < 0) dev = -dev; if (dev > worst) worst = dev }
   END { print lo + 0, hi + 0, first + 0, lastr + 0, mx + 0, worst + 0 }' "$out/samples.csv")"
band=$((clients * 5 / 100 + 10)) dev_ok=$((clients * 5 / 100 + 20))
min_ok=$((expected - band)) max_ok=$((expected + band))
((lo >= min_ok && hi <= max_ok)) ||
  failures+=("active connections in the second half ranged $lo..$hi, expected $min_ok..$max_ok (model $expected)")
((worst <= dev_ok)) ||
  failures+=("active connections differed from the clients' count by up to $worst (allowed $dev_ok)")
# RSS flat: over the second half, growth within 10% (noise, allocator caches). Runs shorter
# than 10 minutes still fill the allocator's caches in their second half: 25% there.
rss_ok=$((duration >= 600 ? 10 : 25))
growth=$(awk -v a="$rss_first" -v b="$rss_last" 'BEGIN { if (a > 0) printf "%.1f", (b - a) * 100 / a; else print 0 }')
awk -v g="$growth" -v ok="$rss_ok" 'BEGIN { exit !(g <= ok) }' ||
  failures+=("RSS grew ${growth}% over the second half (allowed ${rss_ok}%)")

if command -v gnuplot >/dev/null; then
  gnuplot <<GP || log "gnuplot failed; no chart"
set terminal pngcairo size 1000,900
set output "$out/samples.png"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 3,1 title "tlsbroker site replay: $clients clients, $span"
set xlabel "seconds"
set ylabel "active connections"
plot "$out/samples.csv" using 1:2 with lines lw 2 title "active (broker)", "" using 1:(\$11+\$12) with lines title "held by clients (live + stuck)", "" using 1:7 with lines title "idle timeouts (cumulative)", "" using 1:8 with lines title "write-stall timeouts (cumulative)"
set ylabel "accept latency, ms (watchdog probe)"
plot "$out/samples.csv" using 1:9 with linespoints title "probe latency"
set ylabel "RSS, MB"
plot "$out/samples.csv" using 1:(\$10/1024) with lines lw 2 title "tlsbroker RSS"
unset multiplot
GP
fi

{
  echo "site replay, $(date -u +"%Y-%m-%d %H:%M UTC"), $span, $clients clients at $rate/s"
  echo "connects $(jget "$lj" connects), connect failures $(jget "$lj" connect_failures), exchanges $(jget "$lj" exchanges)," \
    "exchange failures $(jget "$lj" exchange_failures), churn closes $(jget "$lj" churn_closes)"
  echo "stuck connections $(jget "$lj" stuck_started): reaped after write stall $(jget "$lj" stalled_reaped)," \
    "after going silent $(jget "$lj" vanished_reaped); reap time p50 $(jget "$lj" reap_p50_ms) ms, max $(jget "$lj" reap_max_ms) ms"
  echo "broker: idle timeouts $idle_to, write-stall timeouts $stall_to, rejected $rejected, failed handshakes $hs_failed"
  echo "active in second half $lo..$hi (model $expected, allowed $min_ok..$max_ok), largest difference to the clients' own" \
    "count $worst (allowed $dev_ok), $active_end at the end"
  echo "RSS second half: $((rss_first / 1024)) MB -> $((rss_last / 1024)) MB (${growth}%), max $((rss_max / 1024)) MB"
  if ((${#failures[@]})); then printf 'FAILED: %s\n' "${failures[@]}"; else echo "PASSED"; fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
