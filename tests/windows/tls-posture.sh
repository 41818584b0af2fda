#!/usr/bin/env bash
# TLS posture of the Windows build, from outside: tlsbroker.exe runs under Wine (console mode)
# in front of a Linux echo backend, and two Linux clients talk to it on 127.0.0.1:
#   - Debian 12's `openssl` (3.0): TLS 1.2 and 1.3 succeed, 1.1 and 1.0 fail; it gets X25519;
#   - tls-probe.exe (tests/windows/tls_probe.cpp), a client linked with the exe's own OpenSSL
#     3.5, under Wine: offering X25519MLKEM768 it gets X25519MLKEM768, and echoes bytes
#     through it;
# and the exe names the OpenSSL it runs with in --version and /status.
# Usage: tests/windows/tls-posture.sh [EXE]   (default build/windows/service/tlsbroker.exe)
# Uses $WINEPREFIX when the caller has one (run-wine-tests.sh), else makes its own.
# Exit status: 0 when every check passed.
set -euo pipefail
trap '' PIPE
cd "$(dirname "$0")/../.."
root=$PWD
exe=${1:-$root/build/windows/service/tlsbroker.exe}
source scripts/packages.sh
ensure_packages wine wine64 socat openssl
[[ -f $exe ]] || { echo "FAIL: no $exe (scripts/build-windows.sh builds it)"; exit 1; }

# The OpenSSL 3.5 client: built beside the exe, with the same OpenSSL.
probe="$(dirname "$exe")/../tests/windows/tls-probe.exe"
[[ -f $probe ]] || { echo "FAIL: no $probe (scripts/build-windows.sh builds it beside the exe)"; exit 1; }
client30=/usr/bin/openssl

work="$root/build/wine-posture"
rm -rf "$work"
mkdir -p "$work"
check_name=posture
source "$(dirname "$0")/lib.sh"
wine_prefix "$work"

echo_port=$(free_port) listen_port=$(free_port) status_port=$(free_port)
"$client30" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/server.key" -out "$work/server.crt" 2>/dev/null
cat >"$work/tlsbroker.json" <<JSON
{
  "log": { "level": "info", "file": "tlsbroker.log" },
  "status": { "listen": "127.0.0.1:$status_port" },
  "watchdog": { "enabled": false },
  "listeners": [{
    "name": "posture",
    "listen": "127.0.0.1:$listen_port",
    "tls": { "certificate": "server.crt", "private_key": "server.key" },
    "backend": { "address": "127.0.0.1:$echo_port" }
  }]
}
JSON
socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat >/dev/null 2>&1 &
echo_pid=$!
broker_pid=""
cleanup() {
  [[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null
  kill "$echo_pid" 2>/dev/null || true
  ((own_prefix)) && wineserver -k >/dev/null 2>&1
  true
}
trap cleanup EXIT

wine "$(winepath -w "$exe")" --version >"$work/version.out" 2>&1 || true
tr -d '\r' <"$work/version.out" >"$work/version.txt"
check "--version names OpenSSL 3.5 ($(sed -n 2p "$work/version.txt"))" grep -q '^OpenSSL 3\.5\.' "$work/version.txt"
check "--version: default tls.groups X25519MLKEM768:X25519:P-256" \
  grep -qx 'default tls.groups: X25519MLKEM768:X25519:P-256' "$work/version.txt"

wine "$(winepath -w "$exe")" --console --config "$(winepath -w "$work/tlsbroker.json")" >"$work/broker.out" 2>&1 &
broker_pid=$!
if ! wait_port "$listen_port" 60; then
  fail "tlsbroker.exe did not listen on $listen_port within 60 s"
  tail -20 "$work/broker.out"
  exit 1
fi
wait_port "$status_port" 30 || true

# s_client CLIENT WHAT ARGS...: one handshake, the output in $work/WHAT.out; its exit status.
s_client() {
  local client=$1 what=$2
  shift 2
  echo Q | timeout 20 "$client" s_client -connect "127.0.0.1:$listen_port" -servername localhost "$@" \
    >"$work/$what.out" 2>&1
}
# probe WHAT ARGS...: one handshake by tls-probe.exe (OpenSSL 3.5) into $work/WHAT.out; its exit status.
probe() {
  local what=$1
  shift
  timeout 60 wine "$(winepath -w "$probe")" "$listen_port" "$@" 2>&1 | tr -d '\r' >"$work/$what.out"
  return "${PIPESTATUS[0]}"
}
# The key exchange group a handshake used, from s_client's summary or the probe's.
group_of() {
  sed -n -e 's/^Negotiated TLS1.3 group: \(.*\)$/\1/p' -e 's/^Server Temp Key: \([^,]*\),.*/\1/p' \
    -e 's/^group: \(.*\)$/\1/p' "$work/$1.out" | head -1
}

# 1. Protocol versions: TLS 1.2 and 1.3 only (the client lowers its own floor to offer the old ones).
check "TLS 1.3 accepted" s_client "$client30" tls13 -tls1_3
check "TLS 1.2 accepted" s_client "$client30" tls12 -tls1_2
check "TLS 1.1 refused" eval '! s_client "$client30" tls11 -tls1_1 -cipher DEFAULT@SECLEVEL=0'
check "TLS 1.0 refused" eval '! s_client "$client30" tls10 -tls1 -cipher DEFAULT@SECLEVEL=0'
check "TLS 1.1 refused (3.5 client: the server's protocol_version alert)" eval '! probe tls11b --max-version 1.1 && grep -q "alert protocol version" "$work/tls11b.out"'

# 2. Key exchange: the hybrid post-quantum group for a client that offers it, X25519 for 3.0.
probe mlkem --groups X25519MLKEM768:X25519 || true
g=$(group_of mlkem)
check "OpenSSL 3.5 client offering X25519MLKEM768 gets it (got '${g:-no handshake}')" test "$g" = X25519MLKEM768
probe default35 || true
g=$(group_of default35)
check "OpenSSL 3.5 client with its defaults gets X25519MLKEM768 (got '${g:-no handshake}')" test "$g" = X25519MLKEM768
s_client "$client30" default30 || true
g=$(group_of default30)
check "OpenSSL 3.0 client with its defaults gets X25519 (got '${g:-no handshake}')" test "$g" = X25519
check "a client with only P-384 is refused" eval '! s_client "$client30" p384 -groups P-384'

# 3. Bytes through the hybrid key exchange, byte-exact (the probe compares what came back).
probe echo --groups X25519MLKEM768 --echo 65536 || true
check "64 KiB echoed byte-exact over X25519MLKEM768 (got '$(group_of echo)')" \
  eval 'grep -qx "echo: ok" "$work/echo.out" && test "$(group_of echo)" = X25519MLKEM768'

# 4. /status names the OpenSSL the exe runs with.
status=$({ timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3; cat <&3' "$status_port" 2>/dev/null || true; })
check "/status names OpenSSL 3.5" grep -q '"openssl": *"OpenSSL 3\.5\.' <<<"$status"

echo "posture: $failures failure(s)"
exit $((failures > 0))
