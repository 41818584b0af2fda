#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a while.
# Usage: scripts/fuzz.sh [seconds per target, default 300]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
build=build/fuzz
CXX=clang++ cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" >/dev/null
for t in config proxy; do
  work="$build/corpus-$t"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/$t/* "$work/" 2>/dev/null || true
  echo "fuzz_$t: ${secs}s"
  "$build/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/crash-$t-" "$work" 2>&1 | tail -3
done
echo "fuzzing finished without a crash"
