#!/usr/bin/env bash
# Builds OpenSSL 3.5 and Boost 1.81 (Log and what it needs) for MinGW-w64 from Debian's own
# source packages (OpenSSL from Debian 13's, with Debian's patches; Boost from Debian 12's),
# into a versioned cache outside the checkout, and reuses it when present. Also puts
# nlohmann/json (header-only, from the Debian package) and its CMake package files into the
# prefix, so the cross build finds every dependency there and nothing of Linux.
# Prints the prefix as its last line; everything else goes to stderr.
#
# Usage: scripts/build-windows-deps.sh [--openssl 3.5|3.0]
#   --openssl 3.0  the baseline for scripts/bench.sh: the same recipe with Debian 12's OpenSSL
#                  3.0. Never picked up by the toolchain on its own.
# Environment:
#   TLSBROKER_WIN_DEPS  cache root (default ~/.cache/tlsbroker/mingw-deps)
#   JOBS                parallel jobs (default: nproc)
#
# Layout: $TLSBROKER_WIN_DEPS/openssl-<deb version>-boost-<deb version>-v<recipe>/
#   include/{openssl,boost,nlohmann}  lib/lib{ssl,crypto,boost_*}.a  lib/cmake/Boost-1.81.0/...
#   share/cmake/nlohmann_json/  .complete (stamp: written last, lists what was built and how
#   long it took)
set -euo pipefail

# Bump when the build recipe below changes, so no cache built the old way is reused.
# v2: OPENSSLDIR/ENGINESDIR/MODULESDIR are real Windows paths (v1 baked in the build
# machine's cache path, which Windows reads as \root\... on the current drive); no-dso.
# v3: OpenSSL 3.5 from Debian 13 (trixie), Debian's patches applied (its security fixes live
# there, not in the upstream tarball); a native host/bin/openssl from the same source.
# v4: no native host/bin/openssl (the posture check's client is tests/windows/tls_probe.cpp,
# linked with this OpenSSL); OpenSSL without what the broker never uses (QUIC, DTLS, CMP, CMS,
# OCSP, CT, SRP, national and legacy block ciphers other than DES and RC2, which old PFX files
# need; binary curves; post-quantum signatures): less to build, less to patch.
# v5: Boost recipe b2.
recipe=v5
# Boost's own recipe: a prefix's Boost of the same Debian version and Boost recipe is copied
# instead of built again (bump to force a Boost rebuild).
# b2: Boost.Log without its settings parsers (BOOST_LOG_WITHOUT_SETTINGS_PARSERS): the broker
# configures its sinks in code, and the parsers were most of Boost's build time.
boost_recipe=b2
root="${TLSBROKER_WIN_DEPS:-$HOME/.cache/tlsbroker/mingw-deps}"
jobs="${JOBS:-$(nproc)}"
# Folders OpenSSL would read a config, engines or providers from. Only SYSTEM and
# Administrators can create anything under the LocalSystem profile. The service never loads a
# default config (no-autoload-config), and no-dso means no provider or engine is ever loaded
# from disk; the paths are still fixed here so they never point at a user-creatable folder.
win_openssl_dir='C:/Windows/System32/config/systemprofile/AppData/Local/tlsbroker/openssl'

say() { echo "build-windows-deps: $*" >&2; }
die() { say "error: $*"; exit 1; }

ssl_line=3.5
while (($#)); do
  case $1 in
    --openssl) ssl_line=${2:-}; shift 2 ;;
    *) die "usage: $0 [--openssl 3.5|3.0]" ;;
  esac
done
[[ $ssl_line == 3.5 || $ssl_line == 3.0 ]] || die "--openssl takes 3.5 or 3.0"

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "not root and no sudo: install packages by hand"
  sudo_cmd=(sudo)
fi

# --- host packages ------------------------------------------------------------------------
need=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
  mingw-w64-tools bison dpkg-dev make perl nlohmann-json3-dev)
source "$(dirname "$0")/packages.sh"
ensure_packages "${need[@]}"

# --- source package indexes ---------------------------------------------------------------
# Boost 1.81 (and the 3.0 baseline) from bookworm through the system's apt; OpenSSL 3.5 from
# trixie through a private apt index under the cache root (toolchains/deb-src.sh).
source "$(dirname "$0")/toolchains/deb-src.sh"
ensure_deb_src bookworm
mkdir -p "$root"
exec 9>"$root/.lock"
if ! flock -n 9; then
  say "another build holds $root/.lock; waiting"
  flock 9
fi
ssl_apt=()
if [[ $ssl_line != 3.0 ]]; then
  private_apt trixie
  ssl_apt=("${apt_opts[@]}")
fi

# --- versions and cache key ---------------------------------------------------------------
src_versions() { # src_versions PKG REGEX [APT OPTION...]: versions apt knows matching REGEX, newest first
  local pkg=$1 re=$2 out=() i j t
  shift 2
  mapfile -t out < <(apt-cache "$@" showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | grep -E "$re" | sort -u)
  for ((i = 0; i < ${#out[@]}; i++)); do
    for ((j = i + 1; j < ${#out[@]}; j++)); do
      if dpkg --compare-versions "${out[j]}" gt "${out[i]}"; then t=${out[i]}; out[i]=${out[j]}; out[j]=$t; fi
    done
  done
  ((${#out[@]})) || die "apt knows no source package '$pkg' matching $re (deb-src entries missing? apt-get update?)"
  printf '%s\n' "${out[@]}"
}
mapfile -t ssl_vers < <(src_versions openssl "^${ssl_line//./\\.}\\." "${ssl_apt[@]}")
mapfile -t boost_vers < <(src_versions boost1.81 .)
key() { echo "$root/openssl-$1-boost-$2-${recipe}"; }

rm -rf "$root"/work.*  # left by a build that was killed; none can be running now
prefix=$(key "${ssl_vers[0]}" "${boost_vers[0]}")
if [[ -f $prefix/.complete ]]; then
  say "reusing $prefix"
  echo "$prefix"
  exit 0
fi

start=$SECONDS
work=$(mktemp -d "$root/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# A listed version that could not be downloaded is not tried again for a day (noted in
# $root/.unavailable), so that a cached run does not fetch what fails anyway.
recently_unavailable() {
  [[ -f $root/.unavailable ]] &&
    awk -v p="$1" -v v="$2" -v now="$(date +%s)" '$1 == p && $2 == v && now - $3 < 86400 { f = 1 } END { exit !f }' \
      "$root/.unavailable"
}
fetch_one() { # fetch_one PKG VERSION [APT OPTION...]: downloads it; 1 (and no files left) when it cannot
  local pkg=$1 v=$2
  shift 2
  if recently_unavailable "$pkg" "$v"; then
    say "skipping $pkg $v: it could not be downloaded in the last 24 h ($root/.unavailable)"
    return 1
  fi
  say "downloading Debian source $pkg $v"
  if apt-get "$@" source -qq --download-only "$pkg=$v" >"$work/fetch-$pkg.log" 2>&1; then return 0; fi
  say "warning: $pkg $v is listed but cannot be downloaded: $(grep -m1 '^E:' "$work/fetch-$pkg.log" || true)"
  echo "$pkg $v $(date +%s)" >>"$root/.unavailable"
  rm -f "$work/${pkg}"_*
  return 1
}
fetch() { # newest version of source package $1 that can actually be downloaded
  local pkg=$1 v
  shift
  for v in "$@"; do
    fetch_one "$pkg" "$v" && { echo "$v"; return 0; }
  done
  die "no version of $pkg could be downloaded"
}
# Boost: the newest listed version that a complete prefix already holds, built by the same
# Boost recipe (copied below), else the newest that can be downloaded (built below).
boost_from=""
for boost_ver in "${boost_vers[@]}"; do
  for s in "$root"/*/.complete; do
    [[ -f $s ]] && grep -qx "boost1.81 $boost_ver" "$s" || continue
    grep -qx "boost-recipe $boost_recipe" "$s" || continue
    boost_from=$(dirname "$s")
    break 2
  done
done
[[ -n $boost_from ]] || boost_ver=$(fetch boost1.81 "${boost_vers[@]}")
# OpenSSL: the newest listed version that can be downloaded (a mirror can be behind its index,
# a version can be listed before its files are published). A version already built is reused
# without downloading; only versions newer than it are tried first.
ssl_ver=""
for v in "${ssl_vers[@]}"; do
  prefix=$(key "$v" "$boost_ver")
  if [[ -f $prefix/.complete ]]; then
    say "reusing $prefix"
    echo "$prefix"
    exit 0
  fi
  if fetch_one openssl "$v" "${ssl_apt[@]}"; then ssl_ver=$v; break; fi
done
[[ -n $ssl_ver ]] || die "no version of openssl ${ssl_line} could be downloaded"
say "OpenSSL $ssl_ver downloaded"
stamp="$prefix/.complete"
rm -rf "$prefix"
mkdir -p "$prefix"
orig() { # orig tarball of source package $1 at Debian version $2
  local up=${2#*:}
  up=${up%-*}
  ls "$1_$up".orig.tar.* | grep -v '\.asc$' | head -1
}
timings=()
lap() { timings+=("seconds-$1 $((SECONDS - lap_start))"); lap_start=$SECONDS; }
lap_start=$SECONDS

# --- OpenSSL ------------------------------------------------------------------------------
# Left out: what no part of the broker (or its PFX loading) uses. `ssl_unused` is shared by the
# 3.0 baseline, which has neither QUIC nor the post-quantum signatures.
ssl_unused=(no-dtls no-srp no-gost no-idea no-seed no-camellia no-aria no-sm2 no-sm3 no-sm4 no-whirlpool
  no-mdc2 no-rc5 no-cast no-ts no-cms no-ct no-cmp no-ocsp no-srtp no-ec2m no-siphash)
[[ $ssl_line == 3.0 ]] || ssl_unused+=(no-quic no-ml-dsa no-slh-dsa)
# Debian's source package as Debian builds it: the upstream tarball plus debian/patches.
dpkg-source -x --no-check "openssl_${ssl_ver#*:}.dsc" ossl >"$work/dpkg-source.log" 2>&1 ||
  { tail -30 "$work/dpkg-source.log" >&2; die "dpkg-source could not unpack openssl $ssl_ver"; }
say "building OpenSSL $ssl_ver (static, MinGW-w64) - about 3 min"
mkdir ossl-win
(
  cd ossl-win
  ../ossl/Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- --prefix="$prefix" --libdir=lib \
    no-tests no-shared no-module no-dso no-engine no-autoload-config "${ssl_unused[@]}" \
    >"$work/openssl-configure.log" 2>&1 ||
    { tail -30 "$work/openssl-configure.log" >&2; exit 1; }
  # The unix Makefile treats 'C:/...' as relative and would prefix it with the build
  # machine's install path: set the three baked-in folders on make's command line instead.
  dirs=(OPENSSLDIR="$win_openssl_dir" ENGINESDIR="$win_openssl_dir/engines-3"
    MODULESDIR="$win_openssl_dir/ossl-modules")
  make -j"$jobs" "${dirs[@]}" build_libs >"$work/openssl-build.log" 2>&1 ||
    { tail -30 "$work/openssl-build.log" >&2; exit 1; }
  make "${dirs[@]}" install_dev >"$work/openssl-install.log" 2>&1 ||
    { tail -30 "$work/openssl-install.log" >&2; exit 1; }
)
if strings "$prefix/lib/libcrypto.a" | grep -qF "$root"; then
  die "libcrypto.a still names a folder of this machine (OPENSSLDIR/MODULESDIR override failed)"
fi
grep -q "OPENSSL_VERSION_TEXT.*\"OpenSSL ${ssl_ver%%-*} " "$prefix/include/openssl/opensslv.h" ||
  die "the installed headers are not OpenSSL ${ssl_ver%%-*}"
lap openssl

# --- Boost --------------------------------------------------------------------------------
# Copied from a complete prefix that holds the same Boost built by the same Boost recipe (hard
# links where the file system allows), so that this prefix is complete by itself; else built.
if [[ -n $boost_from ]]; then
  say "copying Boost $boost_ver from $boost_from"
  mkdir -p "$prefix/include" "$prefix/lib/cmake"
  cp -al "$boost_from/include/boost" "$prefix/include/" 2>/dev/null || cp -a "$boost_from/include/boost" "$prefix/include/"
  cp -al "$boost_from"/lib/libboost_*.a "$prefix/lib/" 2>/dev/null || cp -a "$boost_from"/lib/libboost_*.a "$prefix/lib/"
  cp -a "$boost_from"/lib/cmake/[Bb]oost* "$prefix/lib/cmake/"
  # b2's CMake package files find everything relative to themselves; they name their install
  # folder only to recognise it through a symlink. Make them name this prefix, as b2 would have.
  grep -rlF "$boost_from" "$prefix/lib/cmake" | xargs -r sed -i "s|$boost_from|$prefix|g"
  ! grep -rlF "$boost_from" "$prefix/lib/cmake" >&2 || die "Boost's CMake files still name $boost_from"
else
  say "building Boost $boost_ver (log thread filesystem date_time regex atomic chrono system) - about 3 min"
  mkdir boost && tar -xf "$(orig boost1.81 "$boost_ver")" -C boost --strip-components=1
  (
    cd boost
    # The Debian orig tarball lacks the generated parser of the b2 engine.
    (cd tools/build/src/engine && { [[ -f jamgram.cpp ]] || bison -y -d -o jamgram.cpp jamgram.y; })
    ./bootstrap.sh >"$work/bootstrap.log" 2>&1 || { tail -30 "$work/bootstrap.log" >&2; exit 1; }
    # b2 builds Boost.Log's event log sink only when it finds a message compiler named `mc`.
    mkdir -p "$work/bin"
    printf '#!/bin/sh\nexec x86_64-w64-mingw32-windmc "$@"\n' >"$work/bin/mc"
    chmod +x "$work/bin/mc"
    echo "using gcc : mingw : x86_64-w64-mingw32-g++-posix ;" >"$work/user-config.jam"
    PATH="$work/bin:$PATH" ./b2 -j"$jobs" --user-config="$work/user-config.jam" toolset=gcc-mingw \
      target-os=windows threadapi=win32 link=static runtime-link=static threading=multi \
      variant=release address-model=64 define=BOOST_LOG_WITHOUT_SETTINGS_PARSERS --with-log --with-thread --with-filesystem --with-date_time \
      --with-regex --with-atomic --with-chrono --with-system --layout=system --prefix="$prefix" \
      install >"$work/b2.log" 2>&1 || { tail -30 "$work/b2.log" >&2; exit 1; }
  )
fi
x86_64-w64-mingw32-ar t "$prefix/lib/libboost_log.a" | grep -qx simple_event_log_res.o ||
  die "Boost.Log was built without the event log sink (b2 found no 'mc'); see message-compiler in b2 output"
lap boost

# --- nlohmann/json ------------------------------------------------------------------------
# Header-only: the Debian package's headers and its (relocatable) CMake package files.
mkdir -p "$prefix/include" "$prefix/share/cmake"
cp -r /usr/include/nlohmann "$prefix/include/"
cp -r /usr/share/cmake/nlohmann_json "$prefix/share/cmake/"
nlohmann_ver=$(dpkg-query -W -f='${Version}' nlohmann-json3-dev)

{
  printf 'openssl %s\nboost1.81 %s\nnlohmann-json3-dev %s\nrecipe %s\nboost-recipe %s\n' \
    "$ssl_ver" "$boost_ver" "$nlohmann_ver" "$recipe" "$boost_recipe"
  printf 'boost-copied-from %s\n' "${boost_from:-none}"
  printf '%s\n' "${timings[@]}"
  printf 'seconds %s\n' "$((SECONDS - start))"
} >"$stamp"
say "done in $((SECONDS - start)) s ($(echo "${timings[*]}" | sed 's/seconds-//g'))"
echo "$prefix"
