#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test tlsbroker on Linux.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds stunnel and plotting tools)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git openssl
  libssl-dev libboost1.81-dev libboost-log1.81-dev libboost-thread1.81-dev
  libboost-filesystem1.81-dev nlohmann-json3-dev libgtest-dev googletest
  procps iproute2 clang libclang-rt-14-dev
  chromium  # headless, for the status page test (tests/browser)
  haproxy   # the scale-out test (tests/integration/server/haproxy_scale_out_test.cpp); also a bench target
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(stunnel4 gnuplot-nox socat)
fi

source "$(dirname "$0")/packages.sh"
ensure_packages "${packages[@]}"
echo "build dependencies present"
