#!/usr/bin/env bash
# Builds OpenSSL 3 and Boost 1.81 (Log and what it needs) for MinGW-w64 from Debian's own
# source packages, into a versioned cache outside the checkout, and reuses it when present.
# Also puts nlohmann/json (header-only, from the Debian package) and its CMake package files
# into the prefix, so the cross build finds every dependency there and nothing of Linux.
# Prints the prefix as its last line; everything else goes to stderr.
#
# Environment:
#   TLSBROKER_WIN_DEPS  cache root (default ~/.cache/tlsbroker/mingw-deps)
#   JOBS                parallel jobs (default: nproc)
#
# Layout: $TLSBROKER_WIN_DEPS/openssl-<deb version>-boost-<deb version>-v<recipe>/
#   include/{openssl,boost,nlohmann}  lib/lib{ssl,crypto,boost_*}.a  lib/cmake/Boost-1.81.0/...
#   share/cmake/nlohmann_json/  .complete (stamp: written last, lists what was built)
set -euo pipefail

# Bump when the build recipe below changes, so no cache built the old way is reused.
# v2: OPENSSLDIR/ENGINESDIR/MODULESDIR are real Windows paths (v1 baked in the build
# machine's cache path, which Windows reads as \root\... on the current drive); no-dso.
recipe=v2
root="${TLSBROKER_WIN_DEPS:-$HOME/.cache/tlsbroker/mingw-deps}"
jobs="${JOBS:-$(nproc)}"
# Folders OpenSSL would read a config, engines or providers from. Only SYSTEM and
# Administrators can create anything under the LocalSystem profile. The service never loads a
# default config (no-autoload-config), and no-dso means no provider or engine is ever loaded
# from disk; the paths are still fixed here so they never point at a user-creatable folder.
win_openssl_dir='C:/Windows/System32/config/systemprofile/AppData/Local/tlsbroker/openssl'

say() { echo "build-windows-deps: $*" >&2; }
die() { say "error: $*"; exit 1; }

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

# --- deb-src entries ----------------------------------------------------------------------
# One deb-src entry per existing `deb` entry for bookworm* main (same host, same keyring),
# security suite included, so the sources carry the same fixes as the installed packages.
# Left alone when another file already provides deb-src for bookworm main.
src_list=/etc/apt/sources.list.d/tlsbroker-deb-src.sources
desired_src() {
  local f
  # One-line format: deb [opts] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk '
      { sub(/#.*/, "") }
      $1 == "deb" {
        i = 2; opts = ""
        if ($i ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) break; i++ } i++ }
        uri = $i; suite = $(i + 1); main = 0
        for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
        if (suite !~ /^bookworm/ || !main) next
        signed = ""
        if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n", uri, suite
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }' "$f"
  done
  # deb822 format.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$src_list" ]] || continue
    awk '
      function flush(   n, s, i, suites) {
        if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled !~ /^[Nn]o/) {
          n = split(suitesraw, s, " "); suites = ""
          for (i = 1; i <= n; i++) if (s[i] ~ /^bookworm/) suites = suites (suites == "" ? "" : " ") s[i]
          if (suites != "") {
            printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n", uris, suites
            if (signed != "") printf "Signed-By:%s\n", signed
            printf "\n"
          }
        }
        types = uris = suitesraw = comps = signed = enabled = ""; last = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (last == "signed-by") signed = signed "\n" $0; next }
      {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        last = key; sub(/^[ \t]+/, "", val)
        if (key == "types") types = val; else if (key == "uris") uris = val
        else if (key == "suites") suitesraw = val; else if (key == "components") comps = val
        else if (key == "enabled") enabled = val
        else if (key == "signed-by") signed = (val == "" ? "" : " " val)
      }
      END { flush() }' "$f"
  done
}
others_have_src() {
  grep -hsE '^[[:space:]]*deb-src[[:space:]].*bookworm.*[[:space:]]main' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$src_list" ]] || continue
    grep -qiE '^Types:.*deb-src' "$f" && grep -qiE '^Suites:.*bookworm' "$f" && return 0
  done
  return 1
}
if ! others_have_src >/dev/null; then
  want=$(desired_src)
  [[ -n $want ]] || die "no 'deb' entry for bookworm main found in /etc/apt/sources.list{,.d/}"
  if [[ ! -f $src_list ]] || [[ "$(cat "$src_list")" != "$want" ]]; then
    say "writing $src_list (deb-src for the bookworm main entries) and running apt-get update"
    printf '%s\n' "$want" | "${sudo_cmd[@]}" tee "$src_list" >/dev/null
    "${sudo_cmd[@]}" apt-get update -qq >&2
  fi
fi

# --- versions and cache key ---------------------------------------------------------------
src_versions() { # versions of a source package that apt knows, newest first (dpkg's ordering)
  local v out=() i j t
  mapfile -t out < <(apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u)
  for ((i = 0; i < ${#out[@]}; i++)); do
    for ((j = i + 1; j < ${#out[@]}; j++)); do
      if dpkg --compare-versions "${out[j]}" gt "${out[i]}"; then t=${out[i]}; out[i]=${out[j]}; out[j]=$t; fi
    done
  done
  ((${#out[@]})) || die "apt knows no source package '$1' (deb-src entries missing? apt-get update?)"
  printf '%s\n' "${out[@]}"
}
mapfile -t ssl_vers < <(src_versions openssl)
mapfile -t boost_vers < <(src_versions boost1.81)
key() { echo "$root/openssl-$1-boost-$2-${recipe}"; }

mkdir -p "$root"
exec 9>"$root/.lock"
if ! flock -n 9; then
  say "another build holds $root/.lock; waiting"
  flock 9
fi
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
fetch() { # newest version of source package $1 that can actually be downloaded
  local pkg=$1 v
  shift
  for v in "$@"; do
    say "downloading Debian source $pkg $v"
    if apt-get source -qq --download-only "$pkg=$v" >"$work/fetch-$pkg.log" 2>&1; then
      echo "$v"
      return 0
    fi
    say "warning: $pkg $v is listed but cannot be downloaded: $(grep -m1 '^E:' "$work/fetch-$pkg.log" || true)"
    rm -f "$work/${pkg}"_*
  done
  die "no version of $pkg could be downloaded"
}
# The newest listed version may not be downloadable (a mirror behind its index): fall back
# to the newest that is, and reuse its build if there is one.
ssl_ver=$(fetch openssl "${ssl_vers[@]}")
for boost_ver in "${boost_vers[0]}" ""; do
  [[ -n $boost_ver ]] || boost_ver=$(fetch boost1.81 "${boost_vers[@]}")
  prefix=$(key "$ssl_ver" "$boost_ver")
  stamp="$prefix/.complete"
  if [[ -f $stamp ]]; then
    say "reusing $prefix"
    echo "$prefix"
    exit 0
  fi
done
rm -rf "$prefix"
mkdir -p "$prefix"
orig() { # orig tarball of source package $1 at Debian version $2
  local up=${2#*:}
  up=${up%-*}
  ls "$1_$up".orig.tar.* | grep -v '\.asc$' | head -1
}

# --- OpenSSL ------------------------------------------------------------------------------
say "building OpenSSL $ssl_ver (static, MinGW-w64) - about 2 min"
mkdir ossl && tar -xf "$(orig openssl "$ssl_ver")" -C ossl --strip-components=1
(
  cd ossl
  ./Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- --prefix="$prefix" --libdir=lib \
    no-tests no-shared no-module no-dso no-engine no-autoload-config >"$work/openssl-configure.log" 2>&1 ||
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

# --- Boost --------------------------------------------------------------------------------
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
    variant=release address-model=64 --with-log --with-thread --with-filesystem --with-date_time \
    --with-regex --with-atomic --with-chrono --with-system --layout=system --prefix="$prefix" \
    install >"$work/b2.log" 2>&1 || { tail -30 "$work/b2.log" >&2; exit 1; }
)
x86_64-w64-mingw32-ar t "$prefix/lib/libboost_log.a" | grep -qx simple_event_log_res.o ||
  die "Boost.Log was built without the event log sink (b2 found no 'mc'); see message-compiler in b2 output"

# --- nlohmann/json ------------------------------------------------------------------------
# Header-only: the Debian package's headers and its (relocatable) CMake package files.
mkdir -p "$prefix/include" "$prefix/share/cmake"
cp -r /usr/include/nlohmann "$prefix/include/"
cp -r /usr/share/cmake/nlohmann_json "$prefix/share/cmake/"
nlohmann_ver=$(dpkg-query -W -f='${Version}' nlohmann-json3-dev)

printf 'openssl %s\nboost1.81 %s\nnlohmann-json3-dev %s\nrecipe %s\nseconds %s\n' \
  "$ssl_ver" "$boost_ver" "$nlohmann_ver" "$recipe" "$((SECONDS - start))" >"$stamp"
say "done in $((SECONDS - start)) s"
echo "$prefix"
