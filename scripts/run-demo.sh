#!/usr/bin/env bash
# Builds tlsbroker and runs it in the foreground with a demo setup: a self-signed
# certificate, a local echo backend, TLS on 127.0.0.1:8443, status on 127.0.0.1:9100.
# Ctrl-C stops it (graceful drain). Options: --port N (default 8443), --no-build.
set -euo pipefail
cd "$(dirname "$0")/.."

port=8443
build=1
while (($#)); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--port N] [--no-build]" >&2; exit 2 ;;
  esac
done

if ((build)); then
  scripts/install-deps.sh
  cmake --preset linux >/dev/null
  cmake --build --preset linux --target tlsbroker tlsbroker-echo
fi

demo=build/demo
mkdir -p "$demo"
if [[ ! -f "$demo/server.key" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$demo/server.key" -out "$demo/server.crt" 2>/dev/null
  chmod 600 "$demo/server.key"
fi
cat >"$demo/tlsbroker.json" <<JSON
{
  "threads": 0,
  "log": { "level": "info", "file": "tlsbroker.log" },
  "status": { "listen": "127.0.0.1:9100" },
  "listeners": [{
    "name": "demo",
    "listen": "127.0.0.1:${port}",
    "tls": { "certificate": "server.crt", "private_key": "server.key" },
    "backend": { "address": "127.0.0.1:9000" }
  }]
}
JSON

build/linux/tests/loadgen/tlsbroker-echo --listen 127.0.0.1:9000 >"$demo/echo.log" 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT

echo "demo: TLS on 127.0.0.1:${port} -> echo backend 127.0.0.1:9000; status http://127.0.0.1:9100/status"
echo "try:  openssl s_client -connect 127.0.0.1:${port} -quiet    (type a line, it comes back)"
build/linux/service/tlsbroker --config "$demo/tlsbroker.json"
