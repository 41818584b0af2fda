#!/usr/bin/env bash
# Builds the Windows edition: MinGW dependencies (built once, then reused), tlsbroker.exe
# (static, from the same sources as Linux) and tlsbroker-<version>-x64.msi (wixl, then
# installer/finish-msi.sh).
# Prints the MSI's absolute path as its last line.
# Usage: scripts/build-windows.sh [--openssl 3.0]
#   --openssl 3.0  only tlsbroker.exe, linked with the OpenSSL 3.0 baseline, in
#                  build/windows-openssl-3.0 (for scripts/bench.sh); prints the exe's path.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --openssl && ${2:-} == 3.0 ]]; then
  prefix=$(scripts/build-windows-deps.sh --openssl 3.0 | tail -1)
  dir=build/windows-openssl-3.0
  cmake -S . -B "$dir" -G Ninja --toolchain scripts/toolchains/mingw-w64.cmake -DCMAKE_BUILD_TYPE=Release \
    -DTLSBROKER_BUILD_TESTS=OFF -DTLSBROKER_WIN_DEPS_PREFIX="$prefix" >&2
  cmake --build "$dir" --target tlsbroker >&2
  echo "$PWD/$dir/service/tlsbroker.exe"
  exit 0
fi
(($# == 0)) || { echo "usage: $0 [--openssl 3.0]" >&2; exit 2; }

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
