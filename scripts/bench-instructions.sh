#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind: what a server executes in user
# space per full handshake, per resumed handshake and per request/response round trip
# (16 KiB each way, 4 connections), for tlsbroker and HAProxy side by side, and how much of it
# is OpenSSL's own handshake or record work (SSL_do_handshake, SSL_read*, SSL_write*).
# A count, unlike a rate, does not move with the host's other load: the same binary and load
# give the same figure to within a fraction of a per cent, so a lever worth 1-2% shows here
# when the rounds of scripts/bench.sh spread by 15%. What it leaves out is the kernel's share
# (system calls, TCP on loopback; scripts/bench.sh reports system calls per operation) and
# waiting, so it complements the rates and does not replace them.
# Usage: scripts/bench-instructions.sh [--seconds S] [BINARY ...]
#   BINARY: tlsbroker builds to count (default: build/linux/service/tlsbroker); several give
#   a deterministic A/B of a change.
# Writes build/bench-instructions/results.md. Each server runs alone under valgrind (about
# 50 times slower), on 127.0.0.1, and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
source scripts/packages.sh

secs=10 bins=()
while (($#)); do
  case "$1" in
    --seconds) secs=$2; shift 2 ;;
    -*) echo "unknown option $1 (usage: $0 [--seconds S] [BINARY ...])" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
ensure_packages valgrind haproxy
[[ -x $LOADGEN && -x $ECHO_SERVER && -x $TLSBROKER ]] ||
  { cmake --preset linux >/dev/null && cmake --build --preset linux --target tlsbroker tlsbroker-loadgen tlsbroker-echo >/dev/null; }
((${#bins[@]})) || bins=("$TLSBROKER")
for b in "${bins[@]}"; do [[ -x $b ]] || die "$b is not an executable"; done

out=build/bench-instructions
port_echo=19210 port_server=19211 port_status=19212
soak_setup 0 "$out" "$port_echo" "$port_server" "$port_status"
rm -f "$out"/*.cg*

bench_broker_config "$out/tlsbroker.json" tlsbroker "$port_server" "$port_status" "$port_echo" 1000
bench_haproxy_config "$out/haproxy.cfg" "$port_server" "$port_echo" 1000 "$PWD/$out/server.pem" 2

start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 2
wait_port "$port_echo" || die "the echo backend did not start (see $out/echo.log)"

shapes=(full resumed rr4)
loadgen_shape() {  # SHAPE SECONDS: one load of that shape against the server; JSON on stdout
  local common=(--target "127.0.0.1:$port_server" --threads 2 --timeout 30 --json)
  case $1 in
    full) timeout 300 "$LOADGEN" handshake --concurrency 4 --duration "$2" "${common[@]}" ;;
    resumed) timeout 300 "$LOADGEN" handshake --resume --concurrency 4 --duration "$2" "${common[@]}" ;;
    rr4) timeout 300 "$LOADGEN" reqresp --concurrency 4 --size 16k --duration "$2" "${common[@]}" ;;
  esac
}
# Inclusive instructions of the functions whose names match $2 (an awk regex), in dump $1.
inclusive() {
  callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$1" 2>/dev/null |
    awk -v re="$2" '$0 ~ ":(" re ") " && $0 !~ "=>" { v = $1; gsub(",", "", v); s += v } END { printf "%.0f\n", s }'
}

declare -A ops ir ssl resumed_share
count_server() {  # NAME COMMAND...: runs one server under callgrind through every shape
  local name=$1 pid i=0 shape f deadline n
  shift
  log "$name: under callgrind"
  start_bg "$out/$name.out" valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$@"
  pid=$last_pid
  wait_port "$port_server" 120 || die "$name did not start under valgrind (see $out/$name.out)"
  for shape in "${shapes[@]}"; do
    i=$((i + 1))
    loadgen_shape "$shape" 2 >/dev/null || true  # warm-up: caches, pools, session keys
    callgrind_control -z "$pid" >/dev/null
    loadgen_shape "$shape" "$secs" >"$out/$name.$shape.json" || true
    callgrind_control -d "$pid" >/dev/null
    f="$out/$name.cg.$i"
    deadline=$((SECONDS + 60))
    until grep -q '^totals:' "$f" 2>/dev/null; do
      ((SECONDS < deadline)) || die "$name: no callgrind dump $f"
      sleep 0.2
    done
    case $shape in
      full) n=$(jget "$out/$name.$shape.json" ok) ;;
      resumed)
        n=$(jget "$out/$name.$shape.json" ok)
        resumed_share[$name]=$(awk -v r="$(jget "$out/$name.$shape.json" resumed)" -v n="$n" \
          'BEGIN { if (n > 0) printf "%.2f", r / n }') ;;
      rr4) n=$(jget "$out/$name.$shape.json" round_trips) ;;
    esac
    ((${n:-0} > 0)) || die "$name: no $shape operation completed (see $out/$name.$shape.json)"
    ops[$name.$shape]=$n
    ir[$name.$shape]=$(awk '/^totals:/ { print $2 }' "$f")
    if [[ $shape == rr4 ]]; then
      ssl[$name.$shape]=$(inclusive "$f" 'SSL_read|SSL_read_ex|SSL_write|SSL_write_ex')
    else
      ssl[$name.$shape]=$(inclusive "$f" 'SSL_do_handshake')
    fi
    log "$name: $shape: $n operations, ${ir[$name.$shape]} instructions"
  done
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while (exec 3<>"/dev/tcp/127.0.0.1/$port_server") 2>/dev/null; do
    ((SECONDS < deadline)) || die "port $port_server still taken after $name stopped"
    sleep 0.2
  done
}

names=()
for ((k = 0; k < ${#bins[@]}; k++)); do
  names+=("tlsbroker$((k + 1))")
  count_server "tlsbroker$((k + 1))" "$(realpath "${bins[$k]}")" --config "$out/tlsbroker.json"
done
names+=(haproxy)
count_server haproxy haproxy -db -f "$out/haproxy.cfg"

per() { awk -v a="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", a / n; else print "n/a" }'; }
kilo() { awk -v v="$1" 'BEGIN { printf "%.1f k", v / 1000 }'; }
{
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'); callgrind (user-space instructions); $secs s per shape; 2 threads each."
  for ((k = 0; k < ${#bins[@]}; k++)); do echo "tlsbroker$((k + 1)): ${bins[$k]}"; done
  echo "HAProxy: $(haproxy -v 2>/dev/null | head -1)"
  echo
  header="| instructions per operation |" rule="|---|"
  for n in "${names[@]}"; do header+=" $n |"; rule+="---:|"; done
  for n in "${names[@]}"; do [[ $n == haproxy ]] || { header+=" $n ÷ HAProxy |"; rule+="---:|"; }; done
  echo "$header"
  echo "$rule"
  for shape in "${shapes[@]}"; do
    case $shape in
      full) label="full handshake, all" label2="full handshake, in SSL_do_handshake" ;;
      resumed) label="resumed handshake, all" label2="resumed handshake, in SSL_do_handshake" ;;
      rr4) label="request/response round trip, all" label2="round trip, in SSL_read/SSL_write" ;;
    esac
    for part in all ssl; do
      if [[ $part == all ]]; then row="| $label |"; else row="| $label2 |"; fi
      for n in "${names[@]}"; do
        if [[ $part == all ]]; then v=${ir[$n.$shape]}; else v=${ssl[$n.$shape]}; fi
        row+=" $(kilo "$(per "$v" "${ops[$n.$shape]}")") |"
      done
      for n in "${names[@]}"; do
        [[ $n == haproxy ]] && continue
        if [[ $part == all ]]; then a=${ir[$n.$shape]} b=${ir[haproxy.$shape]}; else a=${ssl[$n.$shape]} b=${ssl[haproxy.$shape]}; fi
        row+=" $(awk -v a="$(per "$a" "${ops[$n.$shape]}")" -v b="$(per "$b" "${ops[haproxy.$shape]}")" \
          'BEGIN { if (b > 0) printf "%.3f×", a / b; else print "n/a" }') |"
      done
      echo "$row"
    done
  done
  echo
  printf 'Operations counted:'
  for n in "${names[@]}"; do printf ' %s %s/%s/%s;' "$n" "${ops[$n.full]}" "${ops[$n.resumed]}" "${ops[$n.rr4]}"; done
  echo " share of the resumed shape's handshakes that resumed:$(for n in "${names[@]}"; do printf ' %s %s' "$n" "${resumed_share[$n]}"; done)."
} | tee "$out/results.md"
