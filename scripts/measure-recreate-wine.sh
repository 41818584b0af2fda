#!/usr/bin/env bash
# Measures, on the Windows edition under Wine, what re-creating a listening socket (the
# watchdog's step 2) keeps: N connections wait in the accept queue, the socket is re-created
# by the product's own listener code, and each queued client is checked (accepted and open,
# or lost); connects made meanwhile are counted as refused or not. The listener is paused at
# max_connections 2 by two open clients, so no accept is outstanding while the queue fills.
# Prints the tool's JSON.
# Usage: scripts/measure-recreate-wine.sh [--queued N (200)] [--exe recreate-measure.exe]
#   (default: built here, into build/windows/tests/windows/, after scripts/build-windows.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

queued=200 exe=build/windows/tests/windows/recreate-measure.exe
while (($#)); do
  case "$1" in
    --queued) queued=$2; shift 2 ;;
    --exe) exe=$2; shift 2 ;;
    *) echo "usage: $0 [--queued N] [--exe EXE]" >&2; exit 2 ;;
  esac
done
if [[ $exe == build/windows/tests/windows/recreate-measure.exe ]]; then
  [[ -f build/windows/build.ninja ]] || die "no Windows build (run scripts/build-windows.sh first)"
  cmake --build build/windows --target recreate-measure >/dev/null
fi
[[ -f $exe ]] || die "$exe not found"
out=build/measure-recreate
mkdir -p "$out"
make_cert "$out"
broker_config "$out/config.json" --name measure --listen 0 --backend 9 log.file=null \
  'status={"enabled": false}' 'watchdog={"enabled": false}' \
  listeners.0.backlog=1024 listeners.0.max_connections=2 listeners.0.timeouts.handshake_ms=60000
export WINEPREFIX=$PWD/$out/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineserver -k >/dev/null 2>&1 || true
rm -rf "$WINEPREFIX"
wineboot -i >/dev/null 2>&1
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
timeout 60 wine "$(winepath -w "$exe")" "$(winepath -w "$PWD/$out/config.json")" "$queued" \
  >"$out/result.json" 2>"$out/stderr.log" || { cat "$out/stderr.log" >&2; die "the measurement failed"; }
grep '^{' "$out/result.json"
