#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs every tier (tests/README.md
# lists them and what the suite takes on a fresh machine). Prints the time of each phase and
# the ten slowest tests at the end.
# Usage: scripts/test.sh [--quick]
#   --quick  the inner loop: the Linux build, then the unit and integration tiers
#            (ctest --preset linux-quick, about 2 min after a build); installs nothing.
# Environment: TLSBROKER_SKIP_WINDOWS=1 skips the Windows edition (MinGW build, Wine suite),
#   TLSBROKER_SKIP_ASAN=1 the ASan+UBSan run, TLSBROKER_SKIP_TSAN=1 the TSan run (the unit and
#   integration tiers then run once without a sanitizer instead, so that none is lost).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --quick ]]; then
  cmake --preset linux >/dev/null
  cmake --build --preset linux
  exec ctest --preset linux-quick -j2
fi
(($# == 0)) || { echo "usage: $0 [--quick]" >&2; exit 2; }

skipped() { [[ "${!1:-0}" == 1 ]]; }
logs=$PWD/build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
suite_start=$SECONDS
times=()
cpu_ticks() { # busy and all CPU ticks of the machine so far (/proc/stat; Linux)
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
timed() { # timed NAME COMMAND...: runs it in the foreground and notes how long it took and
  # how busy the machine's CPUs were meanwhile (near 100%: CPU-bound, a build; low: waiting)
  local name=$1 t=$SECONDS busy0 all0 busy1 all1
  shift
  echo "=== $name" >&2
  read -r busy0 all0 < <(cpu_ticks)
  "$@"
  read -r busy1 all1 < <(cpu_ticks)
  times+=("$(printf '%-34s %6d s  CPU %3d%%' "$name" $((SECONDS - t)) \
    $((100 * (busy1 - busy0) / (all1 - all0 > 0 ? all1 - all0 : 1))))")
}
read -r suite_busy suite_all < <(cpu_ticks)
# Background work runs at the lowest priority: it takes the CPU the tests leave idle (they
# mostly wait on sockets and timers) and yields it to the builds and to timing-sensitive tests.
declare -A bg_pid bg_start
background() { # background NAME COMMAND...: starts it; its output goes to $logs/NAME.log
  local name=$1
  shift
  echo "=== $name (in the background: $logs/$name.log)" >&2
  nice -n 19 "$@" >"$logs/$name.log" 2>&1 &
  bg_pid[$name]=$!
  bg_start[$name]=$SECONDS
}
finish() { # finish NAME: waits for a background job; its failure fails the suite
  local name=$1 t=$SECONDS status=0
  wait "${bg_pid[$name]}" || status=$?
  times+=("$(printf '%-34s %6d s (waited %d s)' "$name, in the background" \
    $((SECONDS - bg_start[$name])) $((SECONDS - t)))")
  if ((status)); then
    tail -40 "$logs/$name.log" >&2
    echo "$name failed (exit $status): $logs/$name.log" >&2
    exit "$status"
  fi
  tail -3 "$logs/$name.log"
}
sanitizer() { # sanitizer PRESET: the unit and integration tiers built and run under it
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
  ctest --preset "$1" -j2 --output-junit "$logs/$1.xml"
}

extras=(--checks)
skipped TLSBROKER_SKIP_WINDOWS || extras+=(--windows)
timed "packages" scripts/install-deps.sh "${extras[@]}"
timed "format" scripts/check-format.sh # an unformatted file fails the suite
timed "doc links" scripts/check-docs.sh  # every relative link resolves; README.md stays short

# The MinGW dependencies (OpenSSL, Boost; built once per source version, then reused from
# ~/.cache) while the Linux tiers run.
skipped TLSBROKER_SKIP_WINDOWS || background "windows-deps" scripts/build-windows-deps.sh
# The release build: the broker, the load generator and the echo backend for the soaks, the
# browser test, the package. Its unit and integration tiers are not built or run here: they run
# under both sanitizers below, which between them leave none out (tests/README.md, "Tiers").
cmake --preset linux >/dev/null
# clang-tidy's curated checks over core/, config/ and service/ (about 4 CPU-minutes, so in
# the background beside the tests, which mostly wait); a finding fails the suite.
background "clang-tidy" scripts/clang-tidy.sh
timed "linux build" cmake --build --preset linux-suite
timed "linux tests" ctest --preset linux-suite -j2 --output-junit "$logs/linux.xml"
# The Debian package: contents, conffile, the unit (systemd-analyze verify), lintian.
timed "debian package" scripts/package-deb.sh --no-build
# Reloads free what they replace: 500 with a connection held grow RSS by at most 1 MB.
timed "reload soak" scripts/soak-reload.sh --no-build --reloads 500 --budget-kb 1024

# The unit and integration tiers under the sanitizers: ASan+UBSan for memory and undefined
# behaviour, TSan for races between the broker's threads (tests/README.md). Each leaves out a few
# tests the other runs; `scripts/test.sh --quick` runs them all without a sanitizer.
skipped TLSBROKER_SKIP_ASAN || timed "asan+ubsan build and tests" sanitizer linux-asan
skipped TLSBROKER_SKIP_TSAN || timed "tsan build and tests" sanitizer linux-tsan
if skipped TLSBROKER_SKIP_ASAN || skipped TLSBROKER_SKIP_TSAN; then
  cmake --build --preset linux
  timed "unit and integration tests" ctest --preset linux-quick -j2 --output-junit "$logs/linux-quick.xml"
fi

# The Windows edition: cross-built, unit-tested, packaged, installed and driven under Wine
# (ctest label wine: the Windows unit tests, the Wine suite, a short site mix). clang-tidy is
# waited for last: the foreground builds leave it no CPU, the Wine tests leave it some.
if ! skipped TLSBROKER_SKIP_WINDOWS; then
  finish "windows-deps"
  timed "windows build and wine tests" ctest --preset wine --output-junit "$logs/wine.xml"
fi
finish "clang-tidy"

echo
echo "phases:"
printf '  %s\n' "${times[@]}"
read -r busy all < <(cpu_ticks)
printf '  %-34s %6d s  CPU %3d%%\n' "total" $((SECONDS - suite_start)) \
  $((100 * (busy - suite_busy) / (all - suite_all > 0 ? all - suite_all : 1)))
echo "the ten slowest tests:"
python3 - "$logs"/*.xml <<'PY'
import sys, xml.etree.ElementTree as ET
rows = []
for path in sys.argv[1:]:
    run = path.rsplit('/', 1)[-1][:-4]
    for case in ET.parse(path).iter('testcase'):
        rows.append((float(case.get('time', 0)), case.get('name'), run))
for secs, name, run in sorted(rows, reverse=True)[:10]:
    print(f"  {secs:7.1f} s  {name}  ({run})")
PY
echo "all tests passed"
