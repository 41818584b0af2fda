#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test tlsbroker on Linux.
# Usage: scripts/install-deps.sh [--bench] [--windows] [--checks]
#   --bench    stunnel and plotting tools
#   --windows  the MinGW-w64 cross toolchain, Wine, wixl and what the Wine suite drives
#   --checks   clang-format (scripts/check-format.sh) and clang-tidy (scripts/clang-tidy.sh)
# One apt run for everything asked for: scripts/test.sh installs all of it up front, so that
# the builds it starts in the background never wait on (or race for) the package lock.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git openssl
  libssl-dev libboost1.81-dev libboost-log1.81-dev libboost-thread1.81-dev
  libboost-filesystem1.81-dev nlohmann-json3-dev libgtest-dev googletest
  procps iproute2 clang libclang-rt-14-dev
  chromium  # headless, for the status page test (tests/browser)
  haproxy   # the scale-out test (tests/integration/server/haproxy_scale_out_test.cpp); also a bench target
  dpkg-dev lintian systemd ssl-cert  # the Debian package and its checks (scripts/package-deb.sh)
  python3   # scripts/check-docs.sh, the slowest-tests table of scripts/test.sh
)
for arg in "$@"; do
  case $arg in
    --bench) packages+=(stunnel4 gnuplot-nox socat) ;;
    # build-windows-deps.sh, build-windows.sh and tests/windows/run-wine-tests.sh ask for these
    --windows) packages+=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
      mingw-w64-tools bison dpkg-dev make perl wixl msitools wine wine64 socat curl jq) ;;
    --checks) packages+=(clang-format-14 clang-tidy-14) ;;
    *) echo "usage: $0 [--bench] [--windows] [--checks]" >&2; exit 2 ;;
  esac
done

source "$(dirname "$0")/packages.sh"
ensure_packages "${packages[@]}"
echo "build dependencies present"
