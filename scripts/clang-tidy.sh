#!/usr/bin/env bash
# clang-tidy with the curated checks of .clang-tidy over every core/, config/ and service/
# file in the Linux build's compile database (the headers they include come along). Fails on
# any finding and lists each once.
# Usage: scripts/clang-tidy.sh [FILE...]   (default: all of them; BUILD_DIR, default
#        build/linux, must have been configured: cmake --preset linux)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages clang-tidy-14
build=${BUILD_DIR:-build/linux}
db=$build/compile_commands.json
[[ -f $db ]] || { echo "clang-tidy: no $db (run: cmake --preset linux)" >&2; exit 2; }
if (($#)); then
  files=("$@")
else
  mapfile -t files < <(sed -n 's|^ *"file": "\(.*\)",\{0,1\}$|\1|p' "$db" | sed "s|^$PWD/||" |
    grep -E '^(core|config|service)/.*\.cpp$' | sort -u)
fi
((${#files[@]})) || { echo "clang-tidy: no files" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 2 clang-tidy-14 -p "$build" --quiet >"$out" 2>/dev/null ||
  status=$?
# Each finding once (a header's finding comes with every file that includes it).
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out" | sort -u || true)
if [[ -n $findings ]] || ((status)); then
  echo "$findings" >&2
  echo "clang-tidy: $(grep -c . <<<"$findings") findings in ${#files[@]} files (exit $status)" >&2
  exit 1
fi
echo "clang-tidy: ${#files[@]} files clean"
