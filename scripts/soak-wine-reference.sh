#!/usr/bin/env bash
# The site mix's clients under Wine against tlsbroker.exe and against a plain
# completion-based TLS relay (tests/windows/reference_relay.cpp: asio::ssl::stream,
# async_read_some/async_write, 64 KiB buffers, one completion port, 2 threads), one after the
# other with the same load and the same echo backend, so that what Wine itself allows shows
# beside what the broker does. Neither side reaps stalled writers or times out handshakes
# here (the broker runs with handshake_ms, write_stall_ms and idle_ms of 600 s; the relay has
# no timeouts), so both relay the same bytes for them.
# Usage: scripts/soak-wine-reference.sh [--clients N (1000)] [--seconds S (60)] [--stalled F (0.10)]
#          [--socket-buffer-bytes N (the broker's default)] [--only broker|reference] [--no-build]
# Prints connects (failed), connect p50/p99, exchanges (failed) per server; output in
# build/soak-wine-reference/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh
source scripts/bench/wine.sh
source scripts/bench/site-mix.sh

clients=1000 seconds=60 stalled=0.10 build=1 buffer_bytes="" only=""
while (($#)); do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --stalled) stalled=$2; shift 2 ;;
    --socket-buffer-bytes) buffer_bytes=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--clients N] [--seconds S] [--stalled F] [--socket-buffer-bytes N] [--only broker|reference] [--no-build]" >&2; exit 2 ;;
  esac
done
out=build/soak-wine-reference
port_echo=19061 port_tls=19461 port_status=19161
soak_setup "$build" "$out" "$port_echo" "$port_tls" "$port_status"
TARGET=windows
if ((build)); then
  build_windows
  cmake --build --preset windows --target reference-relay >/dev/null
fi
reference=$WIN_BUILD_DIR/tests/windows/reference-relay.exe
# Not in the Windows build's default targets (the suite does not run it): built here when missing.
[[ -x $reference || ! -f $WIN_BUILD_DIR/build.ninja ]] || cmake --build "$WIN_BUILD_DIR" --target reference-relay >/dev/null
[[ -x $WIN_EXE && -x $reference ]] || die "build the Windows targets first (scripts/build-windows.sh)"
wine_setup "$out"
site_mix_broker_config "$out/tlsbroker.json" "$port_tls" "$port_status" "$port_echo" \
  listeners.0.timeouts.handshake_ms=600000 listeners.0.timeouts.idle_ms=600000 \
  listeners.0.timeouts.write_stall_ms=600000 ${buffer_bytes:+listeners.0.socket_buffer_bytes=$buffer_bytes}
lifetime=$(site_mix_lifetime "$clients" "$seconds")
start_bg "$out/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$port_echo" --threads 1
wait_port "$port_echo" || die "echo backend did not start"

declare -A row
servers=(reference broker)
[[ -z $only ]] || servers=("$only")
for server in "${servers[@]}"; do
  log "$server: $clients clients at 50/s for $seconds s, stalled $stalled, under Wine"
  if [[ $server == broker ]]; then
    start_broker "$out/broker.out" "$out/tlsbroker.json"
  else
    start_bg "$out/reference.out" wine "$reference" "$port_tls" "$port_echo" \
      "$(winepath -w "$out/server.crt")" "$(winepath -w "$out/server.key")" 2
  fi
  pid=$last_pid
  wait_port "$port_tls" 60 || die "$server did not start (see $out/$server.out)"
  site_mix_command "$port_tls" "$clients" 50 "$seconds" "$stalled"
  timeout $((seconds + 120)) "${site_mix_cmd[@]}" >"$out/$server.json" 2>"$out/$server.log" || true
  kill -TERM "$pid" 2>/dev/null || true
  wineserver -k >/dev/null 2>&1 || true
  wait "$pid" 2>/dev/null || true
  j=$out/$server.json
  row[$server]="| $server | $(jget "$j" attempted) ($(jget "$j" failed)) | $(jget "$j" handshake_p50_ms) | $(jget "$j" handshake_p99_ms) | $(jget "$j" exchanges) ($(jget "$j" exchange_failures)) |"
done
{
  echo "Under Wine, $(date -u '+%Y-%m-%d %H:%M UTC'): $clients clients at 50/s for $seconds s, lifetime ~$lifetime s, stalled $stalled, broker socket_buffer_bytes ${buffer_bytes:-default}"
  echo "| server | connects (failed) | connect p50 ms | connect p99 ms | exchanges (failed) |"
  echo "|---|---:|---:|---:|---:|"
  for server in "${servers[@]}"; do echo "${row[$server]}"; done
} | tee "$out/summary.txt"
