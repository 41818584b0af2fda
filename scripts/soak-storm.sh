#!/usr/bin/env bash
# Reconnect storm: after a network blip every client comes back at once. 1,500 TLS clients
# connect at 1,000/s to a broker with an RSA-4096 certificate and one worker thread, its
# watchdog probing every 1,000 ms with a 500 ms timeout. The handshakes queue up; the
# watchdog's canary waits in the accept queue behind real clients while accepts keep
# completing. That is overload, not a stall. Checks:
#   0 stalls, 0 recovery steps, 0 listening-socket re-creations, 0 refused connects, the
#   resets of queued connections, the broker still running and healthy, slow probes counted
#   (tlsbroker_watchdog_probes_total{result="slow"} > 0). Handshakes that outlast the
#   clients' 30 s timeout on a very busy machine are reported but not failed.
# A client whose connect or handshake fails tries again a second later (as the site clients
# do), so a refused connect shows up in the clients' failures as "connect_refused".
# Output in build/soak-storm/ (summary.txt, loadgen.json, metrics.txt, tlsbroker.log).
# Usage: scripts/soak-storm.sh [--clients N (1500)] [--rate R (1000)] [--seconds S (30)] [--no-build]
#                              [--windows EXE]
# --windows EXE: the broker is the Windows edition (tlsbroker.exe from scripts/build-windows.sh)
# run with --console under Wine in a fresh prefix; the clients and the echo backend stay Linux.
# The suite runs a short form (ctest soak.storm: the same storm, 20 s, about 25 s in all).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

clients=1500 rate=1000 duration=30 build=1 windows_exe=""
while (($#)); do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) duration=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --windows) windows_exe=$(realpath "$2"); shift 2 ;;
    *) echo "usage: $0 [--clients N] [--rate R] [--seconds S] [--no-build] [--windows EXE]" >&2; exit 2 ;;
  esac
done
port_echo=19040 port_tls=19483 port_status=19140
out=build/soak-storm

soak_setup $build "$out" $port_echo $port_tls $port_status
# The expensive handshake of the field report: RSA-4096 (made once, kept in the output folder).
if [[ ! -f $out/rsa4096.key ]]; then
  (umask 077 && openssl req -x509 -newkey rsa:4096 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$out/rsa4096.key" -out "$out/rsa4096.crt" 2>/dev/null)
fi
chmod 600 "$out/rsa4096.key"
rm -f "$out/tlsbroker.log"

broker_config "$out/tlsbroker.json" --name storm --listen $port_tls --status $port_status --backend $port_echo \
  --cert rsa4096.crt --key rsa4096.key threads=1 \
  'watchdog={"enabled": true, "probe_interval_ms": 1000, "probe_timeout_ms": 500, "on_unrecoverable": "exit"}' \
  listeners.0.max_connections=10000 listeners.0.connection_log=false listeners.0.timeouts.handshake_ms=60000

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port $port_echo || die "echo backend did not start"
if [[ -n $windows_exe ]]; then
  export WINEPREFIX=$PWD/$out/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  wineserver -k >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
  trap 'stop_started; wineserver -k >/dev/null 2>&1 || true' EXIT
  start_bg "$out/tlsbroker.out" wine "$(winepath -w "$windows_exe")" --console \
    --config "$(winepath -w "$PWD/$out/tlsbroker.json")"
else
  start_bg "$out/tlsbroker.out" "$TLSBROKER" --config "$out/tlsbroker.json"
fi
broker=$last_pid
wait_port $port_tls 60 || die "tlsbroker did not start (see $out/tlsbroker.out)"
# Let the first probes pass on the idle broker.
sleep 2

log "storm: $clients clients at $rate/s, RSA-4096, threads 1, probes 1000/500 ms, for $duration s"
lg_rc=0
"$LOADGEN" site --target "127.0.0.1:$port_tls" --clients "$clients" --rate "$rate" --duration "$duration" \
  --interval 5 --lifetime 100000 --stop-reading-fraction 0 --vanish-fraction 0 --message 100 \
  --timeout 30 --progress 5 --threads 2 --json >"$out/loadgen.log" 2>&1 || lg_rc=$?
grep '^{' "$out/loadgen.log" >"$out/loadgen.json" || true

alive=yes broker_rc=""
if ! kill -0 "$broker" 2>/dev/null; then
  alive=no
  wait "$broker" && broker_rc=0 || broker_rc=$?
fi
http_get $port_status /metrics >"$out/metrics.txt"
m() { awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%.0f\n", s }' "$out/metrics.txt"; }
stalls=$(m tlsbroker_accept_stalls_total)
recreations=$(m tlsbroker_listener_recreations_total)
steps=$(m tlsbroker_watchdog_recoveries_total)
probes_ok=$(m 'tlsbroker_watchdog_probes_total{listener="storm",result="ok"}')
probes_slow=$(m 'tlsbroker_watchdog_probes_total{listener="storm",result="slow"}')
probes_failed=$(m 'tlsbroker_watchdog_probes_total{listener="storm",result="failed"}')
healthy=$(m tlsbroker_healthy)
lj=$out/loadgen.json
j() { jget "$lj" "$1" || true; }
# Lost to the broker: refused (no listening socket) or reset (a queue thrown away).
refused=$(j connect_refused)
refused=${refused:-0}
reset=$(j handshake_reset)
reset=${reset:-0}
timeouts=$(j handshake_timeout)
timeouts=${timeouts:-0}
connects=$(j connects)
connect_failures=$(j connect_failures)
failure_reasons=$(grep -o '"failures": {[^}]*}' "$lj" 2>/dev/null || true)

failures=()
[[ $alive == yes ]] || failures+=("the broker exited (code $broker_rc)")
[[ -s $out/metrics.txt ]] || failures+=("no metrics (status endpoint unreachable)")
[[ $stalls == 0 ]] || failures+=("$stalls accept stalls")
[[ $recreations == 0 ]] || failures+=("$recreations listening-socket re-creations")
[[ $steps == 0 ]] || failures+=("$steps watchdog recovery steps")
((refused == 0)) || failures+=("$refused refused connects")
((reset == 0)) || failures+=("$reset connections reset before their handshake")
[[ -n ${connect_failures:-} ]] || failures+=("no report from the load generator")
other=$((${connect_failures:-0} - refused - reset - timeouts))
((other == 0)) || failures+=("$other connects or handshakes failed otherwise ($failure_reasons)")
[[ $healthy == 1 ]] || failures+=("the broker reports unhealthy")
((probes_slow > 0)) || failures+=("no slow probes counted (was the broker overloaded at all?)")
# Handshakes that outlast the clients' 30 s timeout are the machine's speed (RSA-4096 on one
# busy thread), not the watchdog's doing: reported, not failed.

{
  echo "reconnect storm, $(date -u +"%Y-%m-%d %H:%M UTC")${windows_exe:+, Windows edition under Wine}:" \
    "$clients clients at $rate/s, RSA-4096, threads 1," \
    "probes 1000/500 ms, $duration s"
  echo "clients: connected $connects, failed connects or handshakes $connect_failures (refused $refused," \
    "reset $reset, timed out $timeouts)" \
    "${failure_reasons:+$failure_reasons }handshake p50 $(j handshake_p50_ms) ms, p99 $(j handshake_p99_ms) ms," \
    "max $(j handshake_max_ms) ms; exchanges $(j exchanges), exchange failures $(j exchange_failures); exit code $lg_rc"
  echo "watchdog: probes ok $probes_ok, slow $probes_slow, failed $probes_failed; stalls $stalls, recovery steps" \
    "$steps, re-creations $recreations; healthy $healthy; broker running: $alive"
  if ((${#failures[@]})); then printf 'FAILED: %s\n' "${failures[@]}"; else echo "PASSED"; fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
