#!/usr/bin/env bash
# The Windows certificate store under Wine (tls.certificate_store, issue 28): cert-store-tool.exe
# (tests/windows/cert_store_tool.cpp) imports a PFX (RSA leaf + intermediate CA, key exportable)
# into LocalMachine\My; tlsbroker.exe (console mode) serves it on one listener by thumbprint and
# on another by subject, and Debian's openssl verifies the chain against the root alone (so the
# intermediate must come from the store). Then a newer certificate with the same subject is
# imported while the broker runs: new handshakes on the by-subject listener get it without a
# restart, the by-thumbprint one keeps the old, a connection opened before still relays, and
# the switch is logged with both thumbprints and counted. Deleting the certificate a thumbprint
# names keeps it served (a refused pick-up). --check-config reports a missing thumbprint at its
# JSON path, and a key that cannot be exported, which Wine cannot open through CNG to sign in
# place either (NCryptOpenKey is a stub there), with both codes. The installer's half:
# --write-default-config with --cert-subject writes the store reference, --grant-key-access
# gives the service's account read access to the key (read back), and, given the MSI,
# `msiexec /i … CERT_SUBJECT=…` installs a service that serves the store's certificate.
# What Wine cannot show (ECDSA PFX import, CNG keys, signing with a non-exportable key, key
# ACLs): service/README.md, "Windows real-host checklist".
# Usage: tests/windows/cert-store.sh [EXE [MSI]]   (default build/windows/service/tlsbroker.exe;
# without MSI the install is not tried)
# Uses $WINEPREFIX when the caller has one (run-wine-tests.sh), else makes its own.
# Exit status: 0 when every check passed.
set -euo pipefail
trap '' PIPE
cd "$(dirname "$0")/../.."
root=$PWD
exe=${1:-$root/build/windows/service/tlsbroker.exe}
msi=${2:-}
source scripts/packages.sh
ensure_packages wine wine64 socat openssl curl
[[ -f $exe ]] || { echo "FAIL: no $exe (scripts/build-windows.sh builds it)"; exit 1; }
tool="$(dirname "$exe")/../tests/windows/cert-store-tool.exe"
[[ -f $tool ]] || { echo "FAIL: no $tool (scripts/build-windows.sh builds it beside the exe)"; exit 1; }

work="$root/build/wine-cert-store"
rm -rf "$work"
mkdir -p "$work"
check_name=cert-store
source "$(dirname "$0")/lib.sh"
wine_prefix "$work"
tool_w() { wine "$(winepath -w "$tool")" "$@" 2>&1 | tr -d '\r'; }

# Root → intermediate → two leaves with one subject; the second lives longer (a renewal).
o=$work
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=Test Root" -keyout "$o/root.key" -out "$o/root.crt" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=Test Issuing CA" -keyout "$o/int.key" -out "$o/int.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$o/int.ext"
openssl x509 -req -in "$o/int.csr" -CA "$o/root.crt" -CAkey "$o/root.key" -CAcreateserial -days 3 \
  -extfile "$o/int.ext" -out "$o/int.crt" 2>/dev/null
printf 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:site01.example\n' >"$o/leaf.ext"
for n in 1 2 3; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=site01.example" -keyout "$o/leaf$n.key" -out "$o/leaf$n.csr" 2>/dev/null
  openssl x509 -req -in "$o/leaf$n.csr" -CA "$o/int.crt" -CAkey "$o/int.key" -CAcreateserial -days $((n + 1)) \
    -extfile "$o/leaf.ext" -out "$o/leaf$n.crt" 2>/dev/null
  openssl pkcs12 -export -in "$o/leaf$n.crt" -inkey "$o/leaf$n.key" -certfile "$o/int.crt" -passout pass:pfx-pass \
    -out "$o/leaf$n.pfx"
  rm "$o/leaf$n.key"
done
sha1() { openssl x509 -noout -fingerprint -sha1 -in "$1" | sed 's/.*=//; s/://g'; }
t1=$(sha1 "$o/leaf1.crt") t2=$(sha1 "$o/leaf2.crt") t3=$(sha1 "$o/leaf3.crt")

tool_w import "$(winepath -w "$o/leaf1.pfx")" pfx-pass >"$o/import1.out" || true
check "cert-store-tool imports the PFX into LocalMachine\\My (thumbprint=$t1)" grep -qx "thumbprint=$t1" "$o/import1.out"

# A key that is not exportable: on Windows it stays in the store and signs through CNG; Wine's
# NCryptOpenKey is a stub (NTE_NOT_SUPPORTED), so here it is refused with both Windows codes.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=locked.example" -keyout "$o/locked.key" \
  -out "$o/locked.crt" 2>/dev/null
openssl pkcs12 -export -in "$o/locked.crt" -inkey "$o/locked.key" -passout pass:pfx-pass -out "$o/locked.pfx"
rm "$o/locked.key"
tool_w import-non-exportable "$(winepath -w "$o/locked.pfx")" pfx-pass >"$o/import-locked.out" || true
t_locked=$(sha1 "$o/locked.crt")
cat >"$o/locked.json" <<JSON
{ "listeners": [{ "listen": "127.0.0.1:1", "backend": { "address": "127.0.0.1:2" },
                  "tls": { "certificate_store": { "thumbprint": "$t_locked" } } }] }
JSON
wine "$(winepath -w "$exe")" --check-config "$(winepath -w "$o/locked.json")" >"$o/locked.out" 2>&1 && rc=0 || rc=$?
want="/listeners/0/tls/certificate_store: certificate $t_locked in LocalMachine\\My: its private key cannot be exported (0x8009000B), and CNG cannot open it to sign in place (NCryptOpenKey 0x80090029)"
check "--check-config: a non-exportable key Wine cannot sign with is an error at its path naming both codes (exit $rc)" eval \
  '[[ $rc == 1 ]] && grep -qF "$want" "$o/locked.out"'

echo_port=$(free_port) by_thumb=$(free_port) by_subject=$(free_port) status_port=$(free_port)
# The thumbprint as certlm.msc shows it: lower case, in pairs with spaces.
spaced=$(echo "$t1" | tr 'A-F' 'a-f' | sed 's/../& /g; s/ $//')
cat >"$o/tlsbroker.json" <<JSON
{
  "log": { "level": "info", "file": "tlsbroker.log" },
  "tls": { "reload_check_s": 1 },
  "status": { "listen": "127.0.0.1:$status_port" },
  "watchdog": { "enabled": false },
  "listeners": [
    { "name": "by-thumbprint", "listen": "127.0.0.1:$by_thumb",
      "tls": { "certificate_store": { "location": "LocalMachine", "store": "My", "thumbprint": "$spaced" } },
      "backend": { "address": "127.0.0.1:$echo_port" } },
    { "name": "by-subject", "listen": "127.0.0.1:$by_subject",
      "tls": { "certificate_store": { "subject": "CN=site01.example" } },
      "backend": { "address": "127.0.0.1:$echo_port" } }
  ]
}
JSON
config_w=$(winepath -w "$o/tlsbroker.json")
wine "$(winepath -w "$exe")" --check-config "$config_w" >"$o/check.out" 2>&1 && rc=0 || rc=$?
check "--check-config accepts both references (exit $rc)" test "$rc" = 0

sed "s/$spaced/$(echo "$t2" | tr 'A-F' 'a-f')/" "$o/tlsbroker.json" >"$o/missing.json"
wine "$(winepath -w "$exe")" --check-config "$(winepath -w "$o/missing.json")" >"$o/missing.out" 2>&1 && rc=0 || rc=$?
want="/listeners/0/tls/certificate_store: no certificate with thumbprint $t2 in LocalMachine\\My"
check "--check-config: a thumbprint not in the store is an error at its path (exit $rc)" eval \
  '[[ $rc == 1 ]] && grep -qF "$want" "$o/missing.out"'

socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat >/dev/null 2>&1 &
echo_pid=$!
broker_pid=""
live_pid=""
cleanup() {
  [[ -n $live_pid ]] && kill "$live_pid" 2>/dev/null
  [[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null
  kill "$echo_pid" 2>/dev/null || true
  ((own_prefix)) && wineserver -k >/dev/null 2>&1
  true
}
trap cleanup EXIT
(cd "$o" && exec wine "$(winepath -w "$exe")" --console --config "$config_w") >"$o/broker.out" 2>&1 &
broker_pid=$!
if ! wait_port "$by_subject" 60; then
  fail "tlsbroker.exe did not listen on $by_subject within 60 s"
  tail -20 "$o/broker.out"
  exit 1
fi

# served PORT: the SHA-1 thumbprint of what a verified handshake got ("" when it failed to verify).
served() {
  echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$1" -servername site01.example -CAfile "$o/root.crt" \
    -verify_return_error -showcerts >"$o/s_client.$1.out" 2>&1 || return 0
  openssl x509 -noout -fingerprint -sha1 -in "$o/s_client.$1.out" | sed 's/.*=//; s/://g'
}
check "by thumbprint: the chain verifies against the root alone, leaf $t1" test "$(served "$by_thumb")" = "$t1"
check "by subject: the chain verifies against the root alone, leaf $t1" test "$(served "$by_subject")" = "$t1"

# A connection opened before the renewal, kept open through a fifo.
mkfifo "$o/live.in"
(openssl s_client -connect "127.0.0.1:$by_subject" -quiet -CAfile "$o/root.crt" <"$o/live.in" >"$o/live.out" 2>/dev/null) &
live_pid=$!
exec 7>"$o/live.in"
echo "before-renewal" >&7
wait_for 20 grep -q before-renewal "$o/live.out" || true

tool_w import "$(winepath -w "$o/leaf2.pfx")" pfx-pass >"$o/import2.out" || true
check "the renewal is imported while the broker runs (thumbprint=$t2)" grep -qx "thumbprint=$t2" "$o/import2.out"
renewed() { test "$(served "$by_subject")" = "$t2"; }
check "by subject: new handshakes get the renewed certificate without a restart" wait_for 30 renewed
check "by thumbprint: still the named certificate" test "$(served "$by_thumb")" = "$t1"
echo "after-renewal" >&7
check "a connection opened before the switch still relays" wait_for 20 grep -q after-renewal "$o/live.out"
exec 7>&-
switched() {
  grep -F "listener 'by-subject' (default): LocalMachine\\My subject=\"CN=site01.example\" switched from" "$o/tlsbroker.log" |
    grep -q "thumbprint $t1 .* to thumbprint $t2"
}
check "the switch is logged with both thumbprints" switched
curl -s "http://127.0.0.1:$status_port/metrics" >"$o/metrics.txt" || true
check "the switch is counted (tlsbroker_certificate_store_switches_total 1)" \
  grep -qx "tlsbroker_certificate_store_switches_total 1" "$o/metrics.txt"

# The certificate a thumbprint names is deleted: the running one stays, the refusal is logged.
tool_w delete "$t1" >"$o/delete.out" || true
check "cert-store-tool deletes by thumbprint" grep -qx "deleted=$t1" "$o/delete.out"
refused() { grep -q "no certificate with thumbprint $t1.*the running certificates stay in force" "$o/tlsbroker.log"; }
check "a deleted certificate is a refused pick-up, logged" wait_for 30 refused
check "by thumbprint: the running certificate is still served" test "$(served "$by_thumb")" = "$t1"

# The installer's half. The starter config names the store certificate by subject and no
# generated certificate is written; the key's ACL grant is read back (Wine's rsaenh keeps a key
# container's DACL), and a second run finds it in place.
exe_w() { wine "$(winepath -w "$exe")" "$@" 2>&1 | tr -d '\r'; }
starter="$o/starter"
exe_w --write-default-config "$(winepath -w "$starter")" --cert-thumbprint "" --cert-subject "CN=site01.example" \
  --cert-store 'LocalMachine\My' >"$o/starter.out"
want='{"certificate_store":{"location":"LocalMachine","store":"My","subject":"CN=site01.example"}}'
check "--write-default-config --cert-subject: the listener's certificate_store, no generated key" eval \
  '[[ "$(jq -c ".listeners[0].tls" "$starter/tlsbroker.json")" == "$want" && ! -e "$starter/server.key" ]]'
sid=S-1-5-80-3389149322-156385897-3899048194-4045368500-1589726293 # NT SERVICE\tlsbroker
exe_w --grant-key-access "$(winepath -w "$starter/tlsbroker.json")" >"$o/grant1.out"
check "--grant-key-access: read access to the key of $t2 granted to NT SERVICE\\tlsbroker" \
  grep -qxF "certificate $t2 (CN=site01.example): read access to its private key granted to $sid" "$o/grant1.out"
exe_w --grant-key-access "$(winepath -w "$starter/tlsbroker.json")" >"$o/grant2.out"
check "--grant-key-access again: already readable, nothing changed" \
  grep -qxF "certificate $t2 (CN=site01.example): its private key was readable already by $sid" "$o/grant2.out"
t_root=$(sha1 "$o/root.crt") # in Root, not in My
sed "s/$spaced/$t_root/" "$o/tlsbroker.json" >"$o/not-in-my.json"
wine "$(winepath -w "$exe")" --grant-key-access "$(winepath -w "$o/not-in-my.json")" >"$o/grant3.out" 2>&1 && rc=0 || rc=$?
check "--grant-key-access on a config naming a certificate not in the store fails (exit $rc)" eval \
  '[[ $rc == 1 ]] && grep -qF "no certificate with thumbprint $t_root" "$o/grant3.out"'

if [[ -n $msi ]]; then
  # What an administrator types: msiexec /i tlsbroker.msi CERT_SUBJECT="CN=…" BACKEND=…. A config
  # an earlier install kept would be kept again, so the folder goes first.
  progdata="$WINEPREFIX/drive_c/ProgramData/tlsbroker"
  rm -rf "$progdata"
  site_port=$(free_port) site_status=$(free_port)
  sc_gone() { ! wine sc query tlsbroker 2>/dev/null | grep -q STATE; }
  for attempt in 1 2 3; do # Wine's SCM may hold its lock right after boot (run-wine-tests.sh)
    WINEDEBUG=-all wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$o/install.log")" \
      LISTEN_PORT="$site_port" BACKEND="127.0.0.1:$echo_port" STATUS_PORT="$site_status" \
      CERT_SUBJECT="CN=site01.example" SC_CONFIGURE=0 >"$o/msiexec.out" 2>&1 || true
    grep -aq "(1055)" "$o/msiexec.out" || break
  done
  check "msiexec /i CERT_SUBJECT=\"CN=site01.example\": the service listens" wait_port "$site_port" 60
  serves_t2() { test "$(served "$site_port")" = "$t2"; }
  check "the installed service serves the store's certificate ($t2), chain verified" wait_for 60 serves_t2
  check "the MSI ran the key access step" grep -aq "GrantKeyAccess. Return value 1" "$o/install.log"
  # The renewal task: Wine's schtasks takes the XML and writes the task (it keeps neither its
  # trigger nor its action, so what the task holds is the unit test's to check).
  task="$WINEPREFIX/drive_c/windows/system32/tasks/tlsbroker/Grant key access"
  check "the MSI registered the renewal task (tlsbroker\\Grant key access)" eval \
    'grep -aq "RegisterKeyAccessTask. Return value 1" "$o/install.log" && [[ -f "$task" ]]'
  check "the installed config names the store certificate, no generated key" eval \
    '[[ "$(jq -c ".listeners[0].tls" "$progdata/tlsbroker.json")" == "$want" && ! -e "$progdata/server.key" ]]'
  # A renewal with a new key while the service runs: the administrator's one command grants its
  # key and has the service reload (Wine does not enforce the key's ACL, so that the reload was
  # asked for is what shows here).
  tool_w import "$(winepath -w "$o/leaf3.pfx")" pfx-pass >"$o/import3.out" || true
  exe_w --grant-key-access "$(winepath -w "$progdata/tlsbroker.json")" >"$o/grant4.out"
  check "--grant-key-access after a renewal: the new key ($t3) granted, the running service asked to reload" eval \
    'grep -qF "certificate $t3 (CN=site01.example): read access to its private key granted to" "$o/grant4.out" &&
     grep -qF "the running service was asked to reload (PARAMCHANGE)" "$o/grant4.out"'
  reloaded() { grep -q "PARAMCHANGE: reloading the configuration" "$progdata/tlsbroker.log"; }
  check "the service reloaded on PARAMCHANGE" wait_for 30 reloaded
  serves_t3() { test "$(served "$site_port")" = "$t3"; }
  check "new handshakes get the renewal ($t3)" wait_for 60 serves_t3
  WINEDEBUG=-all wine msiexec /x "$(winepath -w "$msi")" /qn >/dev/null 2>&1 || true
  check "uninstalled" wait_for 30 sc_gone
  check "uninstall removed the renewal task" test ! -e "$task"
fi

echo "cert-store: $failures failure(s)"
exit $((failures > 0))
