#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test tlsbroker on Linux.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds HAProxy, stunnel and plotting tools)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git openssl
  libssl-dev libboost1.81-dev libboost-log1.81-dev libboost-thread1.81-dev
  libboost-filesystem1.81-dev nlohmann-json3-dev libgtest-dev googletest
  procps iproute2 clang libclang-rt-14-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(haproxy stunnel4 gnuplot-nox socat)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all build dependencies present"
fi
