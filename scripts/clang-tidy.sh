#!/usr/bin/env bash
# clang-tidy with the curated checks of .clang-tidy over every core/, config/ and service/
# file of the Linux build (the headers they include come along). Fails on any finding and
# lists each once.
# Usage: scripts/clang-tidy.sh [FILE...]
#   no FILE: every file, through the compile database of a unity build that is configured (never
#            built) in build/tidy: one clang-tidy process per batch of about eight files parses
#            and matches Asio, Beast and OpenSSL's headers once, not eight times. A finding in
#            any file of a batch is reported at that file's own line.
#   FILE...: those files, one by one, through BUILD_DIR's database (default build/linux, which
#            must have been configured: cmake --preset linux).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages clang-tidy-14
extra=()
if (($#)); then
  build=${BUILD_DIR:-build/linux}
  [[ -f $build/compile_commands.json ]] || { echo "clang-tidy: no $build/compile_commands.json (run: cmake --preset linux)" >&2; exit 2; }
  files=("$@")
else
  build=build/tidy
  cmake --preset linux -B "$build" -DCMAKE_UNITY_BUILD=ON -DTLSBROKER_BUILD_TESTS=OFF >/dev/null
  mapfile -t files < <(sed -n 's|^ *"file": "\(.*\)",\{0,1\}$|\1|p' "$build/compile_commands.json" |
    grep -E "^$PWD/$build/(core|config|service)/.*/Unity/unity_[0-9]+_cxx\.cxx$" | sort -u)
  # A unity file is nothing but #include lines of .cpp files, which is what this check reports;
  # and clang does not know GCC's -Wno-subobject-linkage, which unity builds add.
  extra=(--checks=-bugprone-suspicious-include --extra-arg=-Wno-unknown-warning-option)
fi
((${#files[@]})) || { echo "clang-tidy: no files" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy-14 -p "$build" --quiet "${extra[@]}" >"$out" 2>/dev/null ||
  status=$?
# Each finding once (a header's finding comes with every file that includes it).
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out" | sort -u || true)
if [[ -n $findings ]] || ((status)); then
  echo "$findings" >&2
  echo "clang-tidy: $(grep -c . <<<"$findings") findings in ${#files[@]} files (exit $status)" >&2
  exit 1
fi
echo "clang-tidy: ${#files[@]} files clean"
