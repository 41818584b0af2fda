#!/usr/bin/env bash
# IOCP replay: >= 100,000 connections at >= 200/s of which >= 20% are reset right after
# connect (SO_LINGER 0), the rest real TLS clients with a random payload, while a few
# connections keep relay traffic flowing and the watchdog probes every second.
# Checks: every real client served, the relay stream verified, 0 accept stalls, 0 failed
# probes, broker healthy. Output in build/soak-iocp/.
# Usage: scripts/soak-iocp.sh [--connections N (100000)] [--rate R (400)]
#                             [--reset-fraction F (0.25)] [--windows] [--no-build]
# --windows: the broker is tlsbroker.exe --console under Wine (output in build/soak-iocp-windows/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
source scripts/bench/wine.sh

connections=100000 rate=400 fraction=0.25 build=1
while (($#)); do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --reset-fraction) fraction=$2; shift 2 ;;
    --windows) TARGET=windows; shift ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--connections N] [--rate R] [--reset-fraction F] [--windows] [--no-build]" >&2; exit 2 ;;
  esac
done
port_echo=19020 port_tls=19463 port_status=19120
out=build/soak-iocp
[[ $TARGET == windows ]] && out=build/soak-iocp-windows
duration=$(awk -v n="$connections" -v r="$rate" 'BEGIN { printf "%d", n / r + 1 }')

soak_setup $build "$out" $port_echo $port_tls $port_status
((build)) && build_windows
wine_setup "$out"

broker_config "$out/tlsbroker.json" --name iocp --listen $port_tls --status $port_status --backend $port_echo \
  'watchdog={"enabled": true, "interval_ms": 200, "probe_interval_ms": 1000, "probe_timeout_ms": 800,
             "on_unrecoverable": "report"}' \
  listeners.0.backlog=1024 listeners.0.connection_log=false

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port $port_echo || die "echo backend did not start"
start_broker "$out/tlsbroker.out" "$out/tlsbroker.json"
wait_port $port_tls 60 || die "tlsbroker did not start (see $out/tlsbroker.out)"

log "iocp replay: $connections connections at $rate/s, $fraction reset, plus 4 relay streams (~${duration}s)"
start_bg "$out/relay.log" "$LOADGEN" throughput --target "127.0.0.1:$port_tls" --concurrency 4 \
  --duration "$duration" --max-mbps 20 --threads 1 --json
relay=$last_pid
start_bg "$out/storm.log" "$LOADGEN" reset-storm --target "127.0.0.1:$port_tls" --connections "$connections" \
  --rate "$rate" --reset-fraction "$fraction" --payload 4096 --progress 30 --threads 2 --json
storm=$last_pid

storm_rc=0 relay_rc=0
wait $storm || storm_rc=$?
wait $relay || relay_rc=$?
grep '^{' "$out/storm.log" >"$out/storm.json" || true
grep '^{' "$out/relay.log" >"$out/relay.json" || true
body=$(http_get $port_status /metrics)
echo "$body" >"$out/metrics.txt"
http_get $port_status /status >"$out/status.json"
get() { awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%.0f", s }' <<<"$body"; }
stalls=$(get tlsbroker_accept_stalls_total)
violations=$(get tlsbroker_accept_invariant_violations_total)
probes_ok=$(get 'tlsbroker_watchdog_probes_total{listener="iocp",result="ok"}')
probes_failed=$(get 'tlsbroker_watchdog_probes_total{listener="iocp",result="failed"}')
loop_stalls=$(get tlsbroker_event_loop_stalls_total)
healthy=$(get tlsbroker_healthy)
accepted=$(get tlsbroker_connections_accepted_total)
conn_errors=$(get 'tlsbroker_accept_errors_total{listener="iocp",class="connection"}')

sj=$out/storm.json rj=$out/relay.json
failures=()
((storm_rc == 0)) || failures+=("reset storm: exit code $storm_rc")
((relay_rc == 0)) || failures+=("relay streams: exit code $relay_rc")
[[ $(jget "$sj" real_failed) == 0 ]] || failures+=("real clients failed: $(jget "$sj" real_failed)")
[[ $stalls == 0 ]] || failures+=("accept stalls: $stalls")
[[ $probes_failed == 0 ]] || failures+=("failed watchdog probes: $probes_failed")
[[ $healthy == 1 ]] || failures+=("broker unhealthy")
grep -q '"select_reactor": false' "$out/status.json" || failures+=("Asio's select reactor started (or no /status)")
awk -v r="$(jget "$sj" connect_rate_per_s)" 'BEGIN { exit !(r >= 200) }' ||
  failures+=("connection rate $(jget "$sj" connect_rate_per_s)/s is below 200/s")
awk -v a="$(jget "$sj" resets)" -v n="$connections" 'BEGIN { exit !(a >= 0.2 * n) }' ||
  failures+=("only $(jget "$sj" resets) resets")

{
  echo "iocp replay ($TARGET build), $(date -u +"%Y-%m-%d %H:%M UTC"): $connections connections at $(jget "$sj" connect_rate_per_s)/s" \
    "in $(jget "$sj" elapsed_s) s"
  echo "resets $(jget "$sj" resets); real clients $(jget "$sj" real_clients), served $(jget "$sj" real_served)," \
    "failed $(jget "$sj" real_failed); real client p99 $(jget "$sj" real_client_p99_ms) ms"
  echo "relay: $(jget "$rj" bytes_echoed) bytes echoed and verified ($(jget "$rj" mb_per_s) MB/s), $(jget "$rj" failed) failed"
  echo "broker: accepted $accepted, accept errors (connection) $conn_errors, accept stalls $stalls," \
    "invariant violations $violations, probes ok $probes_ok failed $probes_failed, event-loop stalls $loop_stalls," \
    "healthy $healthy, RSS $(($(rss_kb "$broker") / 1024)) MB"
  if ((${#failures[@]})); then printf 'FAILED: %s\n' "${failures[@]}"; else echo "PASSED"; fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
