#!/usr/bin/env bash
# Builds tlsbroker and runs it in the foreground with a demo setup: a self-signed
# certificate, a local echo backend, TLS on 127.0.0.1:8443, status on 127.0.0.1:8417 (with a
# reload token, so POST /reload works). The key and the token are written readable by their
# owner only (0600). Ctrl-C stops it (graceful drain). Options: --port N (default 8443), --no-build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/config.sh

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
  # umask 077: the key is never readable by others, not even between its creation and a chmod.
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$demo/server.key" -out "$demo/server.crt" 2>/dev/null)
fi
if [[ ! -f "$demo/reload.token" ]]; then
  (umask 077 && openssl rand -hex 32 >"$demo/reload.token")
fi
chmod 600 "$demo/server.key" "$demo/reload.token"  # also when an older run left them readable
broker_config "$demo/tlsbroker.json" --name demo --listen "$port" --status 8417 --backend 9000 \
  threads=0 log.level=info status.reload_token_file=reload.token

build/linux/tests/loadgen/tlsbroker-echo --listen 127.0.0.1:9000 >"$demo/echo.log" 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT

echo "demo: TLS on 127.0.0.1:${port} -> echo backend 127.0.0.1:9000; status http://127.0.0.1:8417/status"
echo "try:  openssl s_client -connect 127.0.0.1:${port} -quiet    (type a line, it comes back)"
echo "      curl -X POST -H \"Authorization: Bearer \$(cat $demo/reload.token)\" http://127.0.0.1:8417/reload"
build/linux/service/tlsbroker --config "$demo/tlsbroker.json"
