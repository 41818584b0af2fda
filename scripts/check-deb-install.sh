#!/usr/bin/env bash
# The package's real dpkg cycle on a clean Debian 12: in a debootstrap chroot of bookworm
# (minbase, made once and kept as a tarball; each run starts from a fresh copy), install the
# .deb with apt (which fetches its dependencies), check what postinst did, install it again
# (the upgrade path), then `dpkg -r` (config kept) and `dpkg -P` (config, logs, user gone).
# systemd is not PID 1 in a chroot: the unit is enabled, not started (service/LINUX.md lists
# what a real host checks). Needs root and the network to the Debian mirror.
# Usage: scripts/check-deb-install.sh [DEB]   (default: scripts/package-deb.sh --no-build)
#   TLSBROKER_CHROOT_DIR (default build/deb-chroot), TLSBROKER_DEBIAN_MIRROR
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages debootstrap

[[ $(id -u) -eq 0 ]] || {
  echo "check-deb-install: needs root (debootstrap, chroot)" >&2
  exit 1
}
deb=${1:-$(scripts/package-deb.sh --no-build | tail -1)}
[[ -f "$deb" ]] || {
  echo "check-deb-install: no package at '$deb'" >&2
  exit 1
}
dir=${TLSBROKER_CHROOT_DIR:-build/deb-chroot}
mirror=${TLSBROKER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$dir/bookworm-minbase.tar
root=$dir/root
mkdir -p "$dir"

if [[ ! -f "$base" ]]; then
  echo "check-deb-install: debootstrap bookworm (once; kept in $base)" >&2
  rm -rf "$dir/base"
  debootstrap --variant=minbase bookworm "$dir/base" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
    tail -20 "$dir/debootstrap.log" >&2
    exit 1
  }
  tar -C "$dir/base" -cf "$base" .
  rm -rf "$dir/base"
fi

broker=""
cleanup() {
  if [[ -n "$broker" ]] && kill -TERM "$broker" 2>/dev/null; then wait "$broker" || true; fi
  if mountpoint -q "$root/proc"; then
    umount "$root/proc" || {
      echo "check-deb-install: cannot unmount $root/proc; $root left as it is" >&2
      return 1
    }
  fi
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cleanup || exit 1
mkdir -p "$root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/tlsbroker.deb"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
fail() {
  echo "check-deb-install: FAIL: $*" >&2
  exit 1
}
ok() { echo "check-deb-install: ok: $*"; }
status() { in_root dpkg-query -W -f='${Status}' tlsbroker 2>/dev/null || true; }

# Install: apt resolves the dependencies (ssl-cert makes the snakeoil certificate).
in_root apt-get update -qq >/dev/null
in_root apt-get install -y -qq /tmp/tlsbroker.deb >"$dir/install.log" 2>&1 || {
  tail -20 "$dir/install.log" >&2
  fail "apt-get install"
}
[[ "$(status)" == "install ok installed" ]] || fail "status after install: $(status)"
in_root test -x /usr/sbin/tlsbroker || fail "/usr/sbin/tlsbroker"
in_root test -f /lib/systemd/system/tlsbroker.service || fail "the unit is not installed"
in_root test -L /etc/systemd/system/multi-user.target.wants/tlsbroker.service || fail "the unit is not enabled"
in_root getent passwd tlsbroker >/dev/null || fail "no user tlsbroker"
groups=$(in_root id -nG tlsbroker)
[[ " $groups " == *" ssl-cert "* ]] || fail "tlsbroker is not in ssl-cert: $groups"
conffiles=$(in_root dpkg-query -W -f='${Conffiles}' tlsbroker)
[[ "$conffiles" == *"/etc/tlsbroker/tlsbroker.json"* ]] || fail "conffiles: $conffiles"
# As the service's user: it can read the snakeoil key through ssl-cert, the config is valid, and
# a key shared through the broker's own group is no warning.
check_out=$(in_root setpriv --reuid=tlsbroker --regid=tlsbroker --init-groups \
  /usr/sbin/tlsbroker --check-config /etc/tlsbroker/tlsbroker.json 2>&1) || fail "--check-config as user tlsbroker: $check_out"
[[ $check_out != *"warning"* ]] || fail "--check-config as user tlsbroker warns: $check_out"
ok "installed: binary, unit enabled, user tlsbroker (groups: $groups), conffile; config valid as tlsbroker"

# It runs as the unit runs it: user tlsbroker with CAP_NET_BIND_SERVICE only, on port 443
# (loopback here, and the status endpoint on a free port), until SIGTERM drains it.
sed -e 's|"0.0.0.0:443"|"127.0.0.1:443"|' -e 's|"127.0.0.1:8417"|"127.0.0.1:0"|' \
  "$root/etc/tlsbroker/tlsbroker.json" >"$root/tmp/run.json"
# chroot, env and setpriv each exec the next: $! is the broker's own PID.
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  setpriv --reuid=tlsbroker --regid=tlsbroker --init-groups --inh-caps=-all,+net_bind_service \
  --ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
  /usr/sbin/tlsbroker --config /tmp/run.json >"$root/tmp/run.out" 2>&1 &
broker=$!
for _ in $(seq 100); do
  grep -q 'status endpoint on' "$root/tmp/run.out" && break
  kill -0 "$broker" 2>/dev/null || break
  sleep 0.1
done
if grep -q 'accepting on 127.0.0.1:443' "$root/tmp/run.out"; then
  kill -TERM "$broker"
  code=0
  wait "$broker" || code=$?
  broker=""
  [[ $code -eq 0 ]] || fail "the broker exited $code after SIGTERM: $(cat "$root/tmp/run.out")"
  ok "ran as tlsbroker with only CAP_NET_BIND_SERVICE: bound 127.0.0.1:443, drained on SIGTERM, exit 0"
elif grep -q 'Address already in use' "$root/tmp/run.out"; then
  kill -TERM "$broker" 2>/dev/null || true
  wait "$broker" || true
  broker=""
  echo "check-deb-install: skipped the run: port 443 is in use on this machine"
else
  kill -TERM "$broker" 2>/dev/null || true
  wait "$broker" || true
  broker=""
  fail "the broker did not start as tlsbroker: $(cat "$root/tmp/run.out")"
fi

# Installed again over itself (postinst configure with a previous version): the user stays.
in_root dpkg -i /tmp/tlsbroker.deb >>"$dir/install.log" 2>&1 || fail "dpkg -i over an installed package"
in_root test -L /etc/systemd/system/multi-user.target.wants/tlsbroker.service || fail "not enabled after reinstall"
ok "reinstalled over itself"

# An edited config survives dpkg -r.
echo '{"listeners": []}' >"$root/etc/tlsbroker/tlsbroker.json"
in_root dpkg -r tlsbroker >>"$dir/install.log" 2>&1 || fail "dpkg -r"
[[ "$(status)" == "deinstall ok config-files" ]] || fail "status after dpkg -r: $(status)"
in_root test ! -e /usr/sbin/tlsbroker || fail "the binary is still there after dpkg -r"
in_root test ! -e /lib/systemd/system/tlsbroker.service || fail "the unit is still there after dpkg -r"
[[ "$(cat "$root/etc/tlsbroker/tlsbroker.json")" == '{"listeners": []}' ]] || fail "dpkg -r lost the config"
in_root getent passwd tlsbroker >/dev/null || fail "dpkg -r removed the user"
ok "dpkg -r: binary and unit gone, edited config and user kept"

in_root dpkg -P tlsbroker >>"$dir/install.log" 2>&1 || fail "dpkg -P"
[[ -z "$(status)" || "$(status)" == "unknown ok not-installed" ]] || fail "status after dpkg -P: $(status)"
in_root test ! -e /etc/tlsbroker || fail "/etc/tlsbroker is still there after dpkg -P"
in_root test ! -e /etc/systemd/system/multi-user.target.wants/tlsbroker.service || fail "enable link left after -P"
in_root test ! -L /etc/systemd/system/tlsbroker.service || fail "the unit is still masked after dpkg -P"
in_root getent passwd tlsbroker >/dev/null && fail "user tlsbroker left after dpkg -P"
in_root getent group tlsbroker >/dev/null && fail "group tlsbroker left after dpkg -P"
ok "dpkg -P: config, enable link, mask, user and group gone"
echo "check-deb-install: PASS ($(basename "$deb") on a fresh bookworm minbase)"
