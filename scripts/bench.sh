#!/usr/bin/env bash
# Side-by-side benchmark: tlsbroker, HAProxy and stunnel on 127.0.0.1 with the same ECDSA
# P-256 certificate, the same echo backend (tlsbroker-echo) and the same load generator.
# For each: full and resumed handshakes/s at 16 clients (tlsbroker also with a PROXY v2 header
# before each ClientHello, as behind an L4 balancer: listeners[].accept_proxy), RSS per idle
# TLS connection with 3,000 held, echo relay MB/s (streaming), request/response relay round
# trips/s (16 KiB each way) at 1, 4 and 16 connections, syscalls per round trip and per
# handshake (tlsbroker and HAProxy, under strace), and the most concurrent connections held
# (of 9,000).
# Writes build/bench/results.md, results.json and results.png; says plainly which targets
# are missed. The Windows column: the same handshake measure for tlsbroker.exe under Wine, built
# with OpenSSL 3.0 and with 3.5 (the shipped build), both in the same run (scripts/bench/wine-bench.sh).
# Usage: scripts/bench.sh [--quick] [--no-build] [--only tlsbroker|haproxy|stunnel|wine] [--no-wine]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

quick=0 build=1 only="" wine=1
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --no-build) build=0; shift ;;
    --only) only=$2; shift 2 ;;
    --no-wine) wine=0; shift ;;
    *) echo "usage: $0 [--quick] [--no-build] [--only tlsbroker|haproxy|stunnel|wine] [--no-wine]" >&2; exit 2 ;;
  esac
done

if ((quick)); then hs_s=4 tp_s=4 hold_s=4 rounds=1; else hs_s=8 tp_s=6 hold_s=8 rounds=5; fi
concurrency=16 threads=2 idle_conns=3000 max_conns=9000
port_echo=19000 port_status=19100
port_proxy=19446  # tlsbroker's second listener: accept_proxy v2 (as behind an L4 balancer)
declare -A port=([tlsbroker]=19443 [haproxy]=19444 [stunnel]=19445)
servers=(tlsbroker haproxy stunnel)
if [[ $only == wine ]]; then servers=(); elif [[ -n $only ]]; then servers=("$only") wine=0; fi

((build)) && build_all --bench
[[ " ${servers[*]} " != *" haproxy "* ]] || command -v haproxy >/dev/null || die "haproxy missing (scripts/install-deps.sh)"
[[ " ${servers[*]} " != *" stunnel "* ]] || command -v stunnel4 >/dev/null || die "stunnel4 missing (scripts/install-deps.sh --bench)"
raise_fd_limit
out=build/bench
mkdir -p "$out"
rm -f "$out"/*.json.part "$out"/ready
make_cert "$out"
trap stop_started EXIT
trap 'exit 130' INT TERM

for p in "$port_echo" "$port_status" "$port_proxy" "${port[@]}"; do require_free_port "$p"; done

# --- the servers -------------------------------------------------------------------------
# tlsbroker's config; bench/wine-bench.sh writes its Windows builds' from it, with OVERRIDEs
# (scripts/bench/config.sh): bench_tlsbroker_config FILE [OVERRIDE...].
bench_tlsbroker_config() {
  local file=$1
  shift
  broker_config "$file" --name bench --listen "${port[tlsbroker]}" --status "$port_status" --backend "$port_echo" \
    threads=$threads watchdog.enabled=true \
    listeners.0.backlog=4096 listeners.0.max_connections=10000 listeners.0.connection_log=false \
    listeners.1.name=bench-proxy listeners.1.listen=127.0.0.1:$port_proxy \
    listeners.1.backlog=4096 listeners.1.max_connections=10000 listeners.1.connection_log=false \
    listeners.1.accept_proxy=v2 'listeners.1.trusted_proxies=["127.0.0.1"]' \
    'listeners.1.tls={"certificate": "server.crt", "private_key": "server.key"}' \
    listeners.1.backend.address=127.0.0.1:$port_echo "$@"
}
bench_tlsbroker_config "$out/tlsbroker.json"
bench_haproxy_config "$out/haproxy.cfg" "${port[haproxy]}" "$port_echo" 9990 "$PWD/$out/server.pem" "$threads" "$(ulimit -n)"
cat >"$out/stunnel.conf" <<CFG
foreground = yes
pid =
output = $PWD/$out/stunnel.log
debug = 3
[bench]
accept = 127.0.0.1:${port[stunnel]}
connect = 127.0.0.1:$port_echo
cert = $PWD/$out/server.crt
key = $PWD/$out/server.key
sslVersionMin = TLSv1.2
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
CFG

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port "$port_echo" || die "echo backend did not start"
# A rounded field of a loadgen report: jnum FILE KEY DECIMALS.
jnum() { local v; v=$(jget "$1" "$2"); [[ -n $v ]] && printf "%.${3:-0}f" "$v"; }
# An integer field, 0 when missing.
jint() { local v; v=$(jget "$1" "$2"); echo "${v:-0}"; }
loadgen() { timeout 300 "$LOADGEN" "$@" --threads 2 --json; }
settle() { sleep 2; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
declare -A r

# --- the Windows column, first, while no Linux server runs (scripts/bench/wine-bench.sh) -------
source scripts/bench/wine.sh
source scripts/bench/wine-bench.sh
((wine == 0)) || wine_bench

# --- the Linux servers ---------------------------------------------------------------------

declare -A pid
for s in "${servers[@]}"; do
  case $s in
    tlsbroker) start_bg "$out/tlsbroker.out" "$TLSBROKER" --config "$out/tlsbroker.json" ;;
    haproxy) start_bg "$out/haproxy.out" haproxy -db -f "$out/haproxy.cfg" ;;
    stunnel) start_bg "$out/stunnel.out" stunnel4 "$out/stunnel.conf" ;;
  esac
  pid[$s]=$last_pid
  wait_port "${port[$s]}" || die "$s did not start (see $out/$s.out)"
done

# --- the measurements ----------------------------------------------------------------------
# Handshake rates and relay throughput are measured in interleaved rounds (the order rotates) and the median is
# kept, so that a change in background load does not favour one server; the server's CPU
# time over those runs gives handshakes per CPU-second as well.
declare -A hs_runs res_runs hs_ticks hs_ok mb_runs rr_runs
hs_proxy_runs=""
for ((round = 0; round < rounds; round++)); do
  for ((i = 0; i < ${#servers[@]}; i++)); do
    s=${servers[$(((i + round) % ${#servers[@]}))]}
    t="127.0.0.1:${port[$s]}"
    log "$s: full handshakes ($hs_s s, $concurrency clients), round $((round + 1))/$rounds"
    ticks=$(cpu_ticks "${pid[$s]}")
    loadgen handshake --target "$t" --concurrency $concurrency --duration $hs_s >"$out/$s-handshake.json" || true
    hs_ticks[$s]=$((${hs_ticks[$s]:-0} + $(cpu_ticks "${pid[$s]}") - ticks))
    hs_ok[$s]=$((${hs_ok[$s]:-0} + $(jint "$out/$s-handshake.json" ok)))
    hs_runs[$s]+=" $(jnum "$out/$s-handshake.json" handshakes_per_s)"
    r[$s.hs_failed]=$((${r[$s.hs_failed]:-0} + $(jint "$out/$s-handshake.json" failed)))
    settle
    if [[ $s == tlsbroker ]]; then
      # The same full handshakes, each connection first sending a PROXY v2 header.
      log "tlsbroker: full handshakes with a PROXY v2 header, round $((round + 1))/$rounds"
      loadgen handshake --proxy-header 2 --target "127.0.0.1:$port_proxy" --concurrency $concurrency \
        --duration $hs_s >"$out/tlsbroker-proxy-handshake.json" || true
      hs_proxy_runs+=" $(jnum "$out/tlsbroker-proxy-handshake.json" handshakes_per_s)"
      r[tlsbroker.hs_proxy_failed]=$((${r[tlsbroker.hs_proxy_failed]:-0} + $(jint "$out/tlsbroker-proxy-handshake.json" failed)))
      settle
    fi
    log "$s: resumed handshakes, round $((round + 1))/$rounds"
    loadgen handshake --resume --target "$t" --concurrency $concurrency --duration $hs_s >"$out/$s-resume.json" || true
    res_runs[$s]+=" $(jnum "$out/$s-resume.json" resumed_per_s)"
    r[$s.res_share]=$(awk -v a="$(jget "$out/$s-resume.json" resumed)" -v b="$(jget "$out/$s-resume.json" ok)" \
      'BEGIN { if (b > 0) printf "%.2f", a / b }')
    settle
    log "$s: echo relay throughput, round $((round + 1))/$rounds"
    loadgen throughput --target "$t" --concurrency 8 --duration $tp_s >"$out/$s-throughput.json" || true
    mb_runs[$s]+=" $(jnum "$out/$s-throughput.json" mb_per_s 1)"
    settle
    for c in 1 4 16; do
      log "$s: request/response relay (16 KiB each way), $c connections, round $((round + 1))/$rounds"
      loadgen reqresp --target "$t" --concurrency $c --size 16k --duration $tp_s >"$out/$s-reqresp$c.json" || true
      rr_runs[$s.$c]+=" $(jnum "$out/$s-reqresp$c.json" round_trips_per_s)"
      r[$s.rr${c}_failed]=$((${r[$s.rr${c}_failed]:-0} + $(jint "$out/$s-reqresp$c.json" failed)))
      settle
    done
  done
done
r[tlsbroker.hs_proxy]=$(median <<<"$hs_proxy_runs")
r[tlsbroker.hs_proxy_runs]=$(echo $hs_proxy_runs | tr ' ' '/')
for s in "${servers[@]}"; do
  for c in 1 4 16; do
    r[$s.rr$c]=$(median <<<"${rr_runs[$s.$c]}")
    r[$s.rr${c}_runs]=$(echo ${rr_runs[$s.$c]} | tr ' ' '/')
  done
done

# Syscalls per relayed round trip (4 connections) and per full handshake, under strace.
source scripts/bench/syscalls.sh
for s in "${servers[@]}"; do
  [[ $s == stunnel ]] && continue
  t="127.0.0.1:${port[$s]}"
  log "$s: syscalls per round trip and per handshake (strace; counts only)"
  syscalls_per "$s.rr" "${pid[$s]}" round_trips reqresp --target "$t" --concurrency 4 --size 16k --duration 3
  settle
  syscalls_per "$s.hs" "${pid[$s]}" ok handshake --target "$t" --concurrency $concurrency --duration 3
  settle
done
for s in "${servers[@]}"; do
  r[$s.mbps]=$(median <<<"${mb_runs[$s]}")
  r[$s.mb_runs]=$(echo ${mb_runs[$s]} | tr ' ' '/')
  r[$s.hs]=$(median <<<"${hs_runs[$s]}")
  r[$s.res]=$(median <<<"${res_runs[$s]}")
  r[$s.hs_runs]=$(echo ${hs_runs[$s]} | tr ' ' '/')
  r[$s.res_runs]=$(echo ${res_runs[$s]} | tr ' ' '/')
  # Handshakes per CPU-second of the server: its efficiency, whatever else loads the machine.
  r[$s.hs_cpu]=$(awk -v n="${hs_ok[$s]}" -v t="${hs_ticks[$s]}" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (t > 0) printf "%.0f", n / (t / hz) }')
done

for s in "${servers[@]}"; do
  t="127.0.0.1:${port[$s]}"
  log "$s: RSS with $idle_conns idle connections"
  before=$(rss_kb "${pid[$s]}")
  rm -f "$out/ready"
  loadgen hold --target "$t" --connections $idle_conns --rate 1000 --hold $((hold_s + 6)) \
    --ready-file "$out/ready" >"$out/$s-idle.json" &
  lg=$!
  deadline=$((SECONDS + 60))
  until [[ -s $out/ready ]] || ((SECONDS > deadline)); do sleep 0.2; done
  sleep 3
  after=$(rss_kb "${pid[$s]}")
  r[$s.threads]=$(threads_of "${pid[$s]}")
  wait $lg || true
  r[$s.rss_before]=$before r[$s.rss_after]=$after
  r[$s.rss]=$(awk -v a="$after" -v b="$before" -v n="$(jget "$out/$s-idle.json" established)" \
    'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "" }')
  settle
  log "$s: $max_conns concurrent connections"
  loadgen hold --target "$t" --connections $max_conns --rate 1500 --hold $hold_s --timeout 20 \
    >"$out/$s-max.json" || true
  r[$s.held]=$(jget "$out/$s-max.json" peak_held)
  r[$s.held_failed]=$(($(jint "$out/$s-max.json" failed) + $(jint "$out/$s-max.json" dropped_during_hold)))
  settle
  if ! kill -0 "${pid[$s]}" 2>/dev/null; then log "$s exited during the run"; fi
done

# --- the report ---------------------------------------------------------------------------
source scripts/bench/report.sh
write_report
