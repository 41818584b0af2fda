#!/usr/bin/env bash
# Two tlsbroker builds side by side with HAProxy, in one run: the before/after of a change,
# or an A/B of one lever. Same ECDSA P-256 certificate, same echo backend, same load
# generator as scripts/bench.sh; the three servers take turns in interleaved rounds (the
# order rotates) and the median of each measure is kept, with its ratio to HAProxy.
# Measures: full and resumed handshakes/s (16 clients), handshakes per server CPU-second,
# streaming echo MB/s (8 connections), request/response round trips/s (16 KiB each way)
# at 1, 4 and 16 connections.
# Usage: scripts/bench-ab.sh A_BINARY B_BINARY [--rounds N] [--seconds S] [--env-b 'VAR=value ...']
#   --env-b: environment for B only (an allocator by LD_PRELOAD, for example).
# Writes build/bench-ab/results.md. Builds the load generator and echo backend unless they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

(($# >= 2)) || { echo "usage: $0 A_BINARY B_BINARY [--rounds N] [--seconds S] [--env-b 'VAR=value ...']" >&2; exit 2; }
bin_a=$(realpath "$1") bin_b=$(realpath "$2")
shift 2
rounds=3 secs=5 env_b=""
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --env-b) env_b=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $bin_a && -x $bin_b ]] || die "both binaries must exist"
command -v haproxy >/dev/null || die "haproxy missing (scripts/install-deps.sh)"
[[ -x $LOADGEN && -x $ECHO_SERVER ]] ||
  { cmake --preset linux >/dev/null && cmake --build --preset linux --target tlsbroker-loadgen tlsbroker-echo >/dev/null; }

out=build/bench-ab
port_echo=19200
declare -A port=([a]=19201 [b]=19202 [haproxy]=19203) status=([a]=19204 [b]=19205)
servers=(a b haproxy)
soak_setup 0 "$out" "$port_echo" "${port[@]}" "${status[@]}"

for s in a b; do bench_broker_config "$out/$s.json" "$s" "${port[$s]}" "${status[$s]}" "$port_echo" 10000; done
bench_haproxy_config "$out/haproxy.cfg" "${port[haproxy]}" "$port_echo" 9990 "$PWD/$out/server.pem" 2

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
declare -A pid
start_bg "$out/a.out" "$bin_a" --config "$out/a.json"
pid[a]=$last_pid
# shellcheck disable=SC2086 # env_b is a list of VAR=value words
start_bg "$out/b.out" env $env_b "$bin_b" --config "$out/b.json"
pid[b]=$last_pid
start_bg "$out/haproxy.out" haproxy -db -f "$out/haproxy.cfg"
pid[haproxy]=$last_pid
for p in "$port_echo" "${port[@]}"; do wait_port "$p" || die "nothing listens on $p (see $out/*.out)"; done

loadgen() { timeout 120 "$LOADGEN" "$@" --threads 2 --json; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
declare -A runs ticks ok
measures=(hs res mbps rr1 rr4 rr16)
for ((round = 0; round < rounds; round++)); do
  for ((i = 0; i < 3; i++)); do
    s=${servers[$(((i + round) % 3))]}
    t="127.0.0.1:${port[$s]}"
    log "$s: round $((round + 1))/$rounds"
    before=$(cpu_ticks "${pid[$s]}")
    loadgen handshake --target "$t" --concurrency 16 --duration "$secs" >"$out/r.json" || true
    ticks[$s]=$((${ticks[$s]:-0} + $(cpu_ticks "${pid[$s]}") - before))
    n=$(jget "$out/r.json" ok)
    ok[$s]=$((${ok[$s]:-0} + ${n:-0}))
    runs[$s.hs]+=" $(jget "$out/r.json" handshakes_per_s)"
    loadgen handshake --resume --target "$t" --concurrency 16 --duration "$secs" >"$out/r.json" || true
    runs[$s.res]+=" $(jget "$out/r.json" resumed_per_s)"
    loadgen throughput --target "$t" --concurrency 8 --duration "$secs" >"$out/r.json" || true
    runs[$s.mbps]+=" $(jget "$out/r.json" mb_per_s)"
    for c in 1 4 16; do
      loadgen reqresp --target "$t" --concurrency $c --size 16k --duration "$secs" >"$out/r.json" || true
      runs[$s.rr$c]+=" $(jget "$out/r.json" round_trips_per_s)"
    done
  done
done

declare -A med
for s in "${servers[@]}"; do
  for m in "${measures[@]}"; do med[$s.$m]=$(median <<<"${runs[$s.$m]}"); done
  med[$s.cpu]=$(awk -v n="${ok[$s]}" -v t="${ticks[$s]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (t > 0) printf "%.0f", n / (t / hz) }')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
{
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $rounds interleaved rounds of $secs s; medians."
  echo "A: $bin_a"
  echo "B: $bin_b${env_b:+ (with $env_b)}"
  echo
  echo "| measure | A | B | HAProxy | A ÷ HAProxy | B ÷ HAProxy | B ÷ A |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for m in hs cpu res mbps rr1 rr4 rr16; do
    case $m in
      hs) name="full handshakes/s, 16 clients" ;;
      cpu) name="full handshakes per server CPU-second" ;;
      res) name="resumed handshakes/s, 16 clients" ;;
      mbps) name="streaming echo MB/s, 8 connections" ;;
      rr*) name="request/response round trips/s (16 KiB each way), ${m#rr} conn." ;;
    esac
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${med[a.$m]}" "${med[b.$m]}" "${med[haproxy.$m]}" \
      "$(ratio "${med[a.$m]}" "${med[haproxy.$m]}")" "$(ratio "${med[b.$m]}" "${med[haproxy.$m]}")" \
      "$(ratio "${med[b.$m]}" "${med[a.$m]}")"
  done
  echo
  echo "Per round (A / B / HAProxy):"
  for m in "${measures[@]}"; do echo "- $m: ${runs[a.$m]# } / ${runs[b.$m]# } / ${runs[haproxy.$m]# }"; done
} | tee "$out/results.md"
