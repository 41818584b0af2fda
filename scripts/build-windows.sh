#!/usr/bin/env bash
# Builds the Windows edition: MinGW dependencies (built once, then reused), tlsbroker.exe
# (static, from the same sources as Linux) and tlsbroker-<version>-x64.msi (wixl, then
# installer/finish-msi.sh).
# Prints the MSI's absolute path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=$(scripts/build-windows-deps.sh | tail -1)
export TLSBROKER_WIN_DEPS_PREFIX="$prefix"

source scripts/packages.sh
ensure_packages wixl msitools

cmake --preset windows >&2
cmake --build --preset windows >&2

version=$(sed -n 's/^project(tlsbroker VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
msi="$PWD/build/windows/tlsbroker-${version}-x64.msi"
wixl -a x64 -D Version="$version" -D BinDir=build/windows/service -D SrcDir=. \
  -o "$msi" installer/tlsbroker.wxs >&2
installer/finish-msi.sh "$msi" >&2  # what wixl cannot write (upgrade, secure properties, ACL, rollback)
echo "$msi"
