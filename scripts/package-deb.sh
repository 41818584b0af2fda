#!/usr/bin/env bash
# Builds the Debian package from the linux preset's tree (CPack, installer/debian/package.cmake)
# and inspects it: its files and their owners, the conffile, the control fields, the example
# config (valid as shipped), `systemd-analyze verify` on the unit as packaged, and lintian
# (0 errors; warnings are listed). Prints the .deb's path last. About 20 s after a build.
# Usage: scripts/package-deb.sh [--no-build]   (--no-build: package the binary as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages dpkg-dev lintian systemd ssl-cert

build=build/linux
cmake --preset linux >/dev/null # CPackConfig.cmake follows installer/debian/package.cmake
[[ "${1:-}" == --no-build ]] || cmake --build --preset linux --target tlsbroker

fail() {
  echo "package-deb: FAIL: $*" >&2
  exit 1
}
ok() { echo "package-deb: ok: $*"; }

rm -rf "$build/package"
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/package/tlsbroker_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one tlsbroker_*.deb in $build/package"
deb=${debs[0]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Files, each owned by root.
dpkg-deb --contents "$deb" >"$tmp/contents"
for f in ./usr/sbin/tlsbroker ./lib/systemd/system/tlsbroker.service ./etc/tlsbroker/tlsbroker.json \
  ./usr/share/doc/tlsbroker/copyright ./usr/share/doc/tlsbroker/changelog.Debian.gz \
  ./usr/share/doc/tlsbroker/LINUX.md ./usr/share/tlsbroker/grafana-dashboard.json; do
  grep -q " $f\$" "$tmp/contents" || fail "$f is not in the package"
done
awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$tmp/contents" || fail "files not owned by root/root"
grep -q 'logrotate' "$tmp/contents" && fail "a logrotate file: the log is journald only"
ok "contents ($(wc -l <"$tmp/contents") entries, all root/root)"

# Control: the conffile, the dependencies, the maintainer scripts.
mkdir "$tmp/control"
dpkg-deb --control "$deb" "$tmp/control"
[[ "$(cat "$tmp/control/conffiles")" == "/etc/tlsbroker/tlsbroker.json" ]] || fail "conffiles: $(cat "$tmp/control/conffiles")"
depends=$(dpkg-deb --field "$deb" Depends)
for d in adduser ssl-cert libc6 libssl3 libboost-log; do
  [[ "$depends" == *"$d"* ]] || fail "Depends lacks $d: $depends"
done
for s in postinst prerm postrm; do
  [[ -x "$tmp/control/$s" ]] || fail "$s is missing or not executable"
  sh -n "$tmp/control/$s" || fail "$s: syntax"
done
ok "conffiles, Depends: $depends"

# The unit as packaged: systemd-analyze looks for ExecStart=/ExecReload= binaries and the
# targets it names under --root, so the root is the package plus the host's own units and kill.
mkdir -p "$tmp/root/lib/systemd/system" "$tmp/root/bin"
cp -a /lib/systemd/system/. "$tmp/root/lib/systemd/system/"
cp /bin/kill "$tmp/root/bin/kill"
dpkg-deb -x "$deb" "$tmp/root"
systemd-analyze verify --root="$tmp/root" "$tmp/root/lib/systemd/system/tlsbroker.service" ||
  fail "systemd-analyze verify"
ok "systemd-analyze verify: clean"
security=$(systemd-analyze security --offline=true --root="$tmp/root" \
  "$tmp/root/lib/systemd/system/tlsbroker.service" 2>/dev/null | grep 'Overall exposure' || true)
echo "package-deb: ${security#→ }"

# The example config is valid as shipped. It names the system's snakeoil certificate, which
# this machine may not have: a stand-in pair is made in its place (check-deb-install.sh
# checks the real one, made by ssl-cert, as the service's user).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 2 \
  -keyout "$tmp/snakeoil.key" -out "$tmp/snakeoil.pem" 2>/dev/null
sed -e "s|/etc/ssl/certs/ssl-cert-snakeoil.pem|$tmp/snakeoil.pem|" \
  -e "s|/etc/ssl/private/ssl-cert-snakeoil.key|$tmp/snakeoil.key|" \
  "$tmp/root/etc/tlsbroker/tlsbroker.json" >"$tmp/check.json"
cmp -s "$tmp/check.json" "$tmp/root/etc/tlsbroker/tlsbroker.json" && fail "the config names no snakeoil pair"
"$tmp/root/usr/sbin/tlsbroker" --check-config "$tmp/check.json" >/dev/null ||
  fail "the packaged config does not pass --check-config"
ok "the packaged config passes --check-config"

# Lintian: no error. Running as root is fine for an inspection of a built package.
lintian --allow-root --no-tag-display-limit "$deb" >"$tmp/lintian" 2>&1 || true
errors=$(grep -c '^E: ' "$tmp/lintian" || true)
warnings=$(grep -c '^W: ' "$tmp/lintian" || true)
grep -E '^(E|W): ' "$tmp/lintian" | sed 's/^/package-deb: lintian: /' || true
[[ "$errors" -eq 0 ]] || fail "lintian: $errors error(s)"
ok "lintian: 0 errors, $warnings warning(s)"
echo "$deb"
