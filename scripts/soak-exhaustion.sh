#!/usr/bin/env bash
# Exhaustion replay: the broker runs with a low descriptor limit (ulimit -n 256) while 40
# long-lived clients exchange verified messages twice a second; then a burst of 300 clients
# drives it out of descriptors. Checks: accept errors of class "resource" counted and the
# listener backing off; after the burst leaves, the broker accepts again by itself (a fresh
# batch of clients all served, byte-exact); the 40 clients it had already accepted lost
# nothing. Output in build/soak-exhaustion/.
# Usage: scripts/soak-exhaustion.sh [--fd-limit N (256)] [--burst N (300)] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

fd_limit=256 burst=300 build=1
while (($#)); do
  case "$1" in
    --fd-limit) fd_limit=$2; shift 2 ;;
    --burst) burst=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--fd-limit N] [--burst N] [--no-build]" >&2; exit 2 ;;
  esac
done
port_echo=19030 port_tls=19473 port_status=19130
out=build/soak-exhaustion
steady_clients=40 steady_s=45

soak_setup $build "$out" $port_echo $port_tls $port_status

broker_config "$out/tlsbroker.json" --name exhaust --listen $port_tls --status $port_status --backend $port_echo \
  'watchdog={"enabled": true, "probe_interval_ms": 1000, "probe_timeout_ms": 800, "on_unrecoverable": "report"}' \
  listeners.0.backlog=1024 listeners.0.max_connections=1000 listeners.0.connection_log=false

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port $port_echo || die "echo backend did not start"
start_bg "$out/tlsbroker.out" bash -c "ulimit -n $fd_limit && exec \"\$0\" --config \"\$1\"" \
  "$TLSBROKER" "$out/tlsbroker.json"
broker=$last_pid
wait_port $port_tls || die "tlsbroker did not start (see $out/tlsbroker.out)"
log "broker fd limit: $(awk '/Max open files/ { print $4 }' "/proc/$broker/limits")"

get_metric() { metric $port_status "$1"; }

# 1. Connections the broker accepts before the exhaustion; they must lose nothing.
log "phase 1: $steady_clients clients exchanging verified messages for $steady_s s"
start_bg "$out/steady.log" "$LOADGEN" site --target "127.0.0.1:$port_tls" --clients $steady_clients --rate 40 \
  --duration $steady_s --interval 0.5 --lifetime 100000 --stop-reading-fraction 0 --vanish-fraction 0 \
  --message 1000 --progress 15 --threads 1 --json
steady=$last_pid
sleep 4

# 2. The burst: more clients than descriptors. Many fail; the broker must keep going.
log "phase 2: burst of $burst clients against a limit of $fd_limit descriptors"
"$LOADGEN" hold --target "127.0.0.1:$port_tls" --connections "$burst" --rate "$burst" --hold 8 --timeout 6 \
  --threads 2 --json >"$out/burst.json" 2>"$out/burst.log" &
burst_pid=$!
started_pids+=("$burst_pid")
states=""
deadline=$((SECONDS + 40))
while kill -0 $burst_pid 2>/dev/null && ((SECONDS < deadline)); do
  s=$(http_get $port_status /metrics | awk '/^tlsbroker_listener_state/ && $NF == 1 { match($0, /state="[a-z_]+"/);
      print substr($0, RSTART + 7, RLENGTH - 8) }')
  states+="${s:-unreachable} "
  sleep 1
done
wait $burst_pid || true
resource_errors=$(get_metric 'tlsbroker_accept_errors_total{listener="exhaust",class="resource"}')
pauses=$(get_metric tlsbroker_accept_pauses_total)

# 3. Recovery without help: a fresh batch of clients, all served byte-exact.
sleep 2
log "phase 3: recovery check"
recover_rc=0
"$LOADGEN" verify --target "127.0.0.1:$port_tls" --connections 100 --concurrency 8 --payload 65536 --threads 2 \
  --json >"$out/recover.json" 2>"$out/recover.log" || recover_rc=$?
state_after=$(http_get $port_status /metrics | awk '/^tlsbroker_listener_state/ && $NF == 1 { match($0, /state="[a-z_]+"/);
  print substr($0, RSTART + 7, RLENGTH - 8) }')
resumes=$(get_metric tlsbroker_accept_resumes_total)

steady_rc=0
wait $steady || steady_rc=$?
grep '^{' "$out/steady.log" >"$out/steady.json" || true
stalls=$(get_metric tlsbroker_accept_stalls_total)
healthy=$(get_metric tlsbroker_healthy)
alive=yes
kill -0 $broker 2>/dev/null || alive=no

st=$out/steady.json
failures=()
[[ $alive == yes ]] || failures+=("the broker exited")
((resource_errors > 0)) || failures+=("no accept errors of class resource: the limit was not reached")
[[ $states == *backing_off* ]] || failures+=("the listener was never seen backing off (states: $states)")
((recover_rc == 0)) || failures+=("recovery batch failed: $(jget "$out/recover.json" failed) of 100")
[[ $state_after == accepting ]] || failures+=("listener state after the burst: $state_after")
((steady_rc == 0)) || failures+=("steady clients: exit code $steady_rc")
[[ $(jget "$st" exchange_failures) == 0 ]] || failures+=("steady clients lost exchanges: $(jget "$st" exchange_failures)")
[[ $(jget "$st" connects) == "$steady_clients" ]] ||
  failures+=("steady clients reconnected: $(jget "$st" connects) connects for $steady_clients clients")

{
  echo "exhaustion replay, $(date -u +"%Y-%m-%d %H:%M UTC"): fd limit $fd_limit, burst $burst"
  echo "burst: established $(jget "$out/burst.json" established), failed $(jget "$out/burst.json" failed)" \
    "(expected: the broker is out of descriptors)"
  echo "broker: accept errors (resource) $resource_errors, pauses $pauses, resumes $resumes, stalls $stalls," \
    "healthy $healthy; listener states seen: $states"
  echo "recovery: $(jget "$out/recover.json" ok)/100 clients served byte-exact; state $state_after"
  echo "steady clients: $(jget "$st" connects) connections, $(jget "$st" exchanges) exchanges," \
    "$(jget "$st" exchange_failures) failed"
  if ((${#failures[@]})); then printf 'FAILED: %s\n' "${failures[@]}"; else echo "PASSED"; fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
