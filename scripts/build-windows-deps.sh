#!/usr/bin/env bash
# Builds OpenSSL 3 and Boost 1.81 (Log and what it needs) for MinGW-w64 from Debian's own
# source packages, into a versioned cache outside the checkout, and reuses it when present.
# Prints the prefix as its last line.
# Environment: TLSBROKER_WIN_DEPS (cache root, default ~/.cache/tlsbroker/mingw-deps).
set -euo pipefail

root="${TLSBROKER_WIN_DEPS:-$HOME/.cache/tlsbroker/mingw-deps}"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)

need=(g++-mingw-w64-x86-64-posix mingw-w64-tools binutils-mingw-w64-x86-64 bison dpkg-dev)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Debian's source package versions name the cache, so a new upstream build never mixes in.
src_list=/etc/apt/sources.list.d/tlsbroker-deb-src.sources
if ! apt-cache showsrc openssl >/dev/null 2>&1 || [[ -z "$(apt-cache showsrc openssl 2>/dev/null)" ]]; then
  if [[ ! -f "$src_list" ]]; then
    echo "adding a deb-src entry for bookworm main" >&2
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      "${sudo_cmd[@]}" tee "$src_list" >/dev/null
    "${sudo_cmd[@]}" apt-get update -qq
  fi
fi
ssl_ver=$(apt-cache showsrc openssl | awk '/^Version:/ {print $2}' | sort -V | tail -1)
boost_ver=$(apt-cache showsrc boost1.81 | awk '/^Version:/ {print $2}' | sort -V | tail -1)
prefix="$root/openssl-${ssl_ver}-boost-${boost_ver}-v1"
if [[ -f "$prefix/.complete" ]]; then
  echo "$prefix"
  exit 0
fi

work="$root/work"
rm -rf "$work" "$prefix"
mkdir -p "$work" "$prefix"
cd "$work"
echo "downloading Debian sources: openssl $ssl_ver, boost1.81 $boost_ver" >&2
apt-get source --download-only "openssl=$ssl_ver" "boost1.81=$boost_ver" >&2

echo "building OpenSSL for MinGW-w64" >&2
mkdir ossl && tar -xf "$(ls openssl_*.orig.tar.* | grep -v "\.asc$" | head -1)" -C ossl --strip-components=1
(
  cd ossl
  # A LocalSystem service must never load a config or provider from a folder an ordinary
  # user could create: no automatic config, and fixed paths under a protected folder.
  ./Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- --prefix="$prefix" --libdir=lib \
    --openssldir='C:/Windows/System32/config/systemprofile/tlsbroker-openssl' \
    no-tests no-shared no-module no-autoload-config no-engine >&2
  make -j"$(nproc)" build_libs >/dev/null
  make install_dev >/dev/null
)

echo "building Boost for MinGW-w64" >&2
mkdir boost && tar -xf "$(ls boost1.81_*.orig.tar.* | grep -v "\.asc$" | head -1)" -C boost --strip-components=1
(
  cd boost
  (cd tools/build/src/engine && [[ -f jamgram.cpp ]] || bison -y -d -o jamgram.cpp jamgram.y)
  ./bootstrap.sh >/dev/null
  # b2 builds the event log sink only when it finds a message compiler called `mc`.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec x86_64-w64-mingw32-windmc "$@"\n' >"$work/bin/mc"
  chmod +x "$work/bin/mc"
  echo "using gcc : mingw : x86_64-w64-mingw32-g++-posix ;" >user-config.jam
  PATH="$work/bin:$PATH" ./b2 -j"$(nproc)" --user-config=user-config.jam toolset=gcc-mingw target-os=windows \
    threadapi=win32 link=static runtime-link=static threading=multi variant=release address-model=64 \
    --with-log --with-thread --with-filesystem --with-date_time --with-regex --with-atomic --with-chrono \
    --with-system --layout=system --prefix="$prefix" install >"$work/b2.log" 2>&1 ||
    { tail -30 "$work/b2.log" >&2; exit 1; }
  grep -q "has message compiler.*yes" "$work/b2.log" || echo "warning: Boost.Log built without the event log sink" >&2
)
# nlohmann/json is header-only: the Linux package's headers serve the cross build too.
mkdir -p "$prefix/include"
cp -r /usr/include/nlohmann "$prefix/include/" 2>/dev/null || true
rm -rf "$work"
touch "$prefix/.complete"
echo "$prefix"
