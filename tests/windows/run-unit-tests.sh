#!/usr/bin/env bash
# Builds the Windows unit tests (unit_tests.exe, the windows preset: tests/windows/unit/CMakeLists.txt
# says which tests and why) and runs them under Wine, in a fresh prefix inside the build tree.
# Exits with the tests' status. Arguments go to the test program (e.g. --gtest_filter=channel_iocp*).
# Usage: tests/windows/run-unit-tests.sh [gtest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/packages.sh
ensure_packages wine wine64 googletest

if [[ -z ${TLSBROKER_WIN_DEPS_PREFIX:-} ]]; then
  TLSBROKER_WIN_DEPS_PREFIX=$(scripts/build-windows-deps.sh | tail -1)
  export TLSBROKER_WIN_DEPS_PREFIX
fi
[[ -f build/windows/CMakeCache.txt ]] || cmake --preset windows >&2
cmake --build --preset windows --target unit_tests >&2

exe=$PWD/build/windows/tests/windows/unit/unit_tests.exe
work=$PWD/build/windows/wine-unit
WINEPREFIX="$work/prefix" wineserver -k >/dev/null 2>&1 || true  # a previous run's leftovers
rm -rf "$work"
mkdir -p "$work"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
wineboot -i >"$work/wineboot.log" 2>&1
wine "$exe" "$@"
