#!/usr/bin/env bash
# Reloads leak nothing: with one TLS connection held open, sends SIGHUP N times (default
# 1,000) to a broker whose config does not change, waiting for each reload to be applied,
# and compares the broker's RSS after the reloads with its RSS before them. Fails when it
# grew by more than --budget-kb (default 2048), when a reload failed, or when the held
# connection stopped relaying. Prints the figures (scripts/RESULTS.md keeps the latest).
# Usage: scripts/soak-reload.sh [--reloads N] [--budget-kb K] [--no-build]
# Ports: 21400 (TLS), 21401 (status), 21402 (echo backend), all on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/lib.sh

reloads=1000
budget_kb=2048
build=1
while (($#)); do
  case "$1" in
    --reloads) reloads=$2; shift 2 ;;
    --budget-kb) budget_kb=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: $0 [--reloads N] [--budget-kb K] [--no-build]" >&2; exit 2 ;;
  esac
done

port=21400 status_port=21401 echo_port=21402
dir=build/soak-reload
soak_setup "$build" "$dir" "$port" "$status_port" "$echo_port"
broker_config "$dir/tlsbroker.json" --name reload --listen "$port" --status "$status_port" --backend "$echo_port"

start_bg "$dir/echo.log" "$ECHO_SERVER" --listen "127.0.0.1:$echo_port"
wait_port "$echo_port" || die "echo backend did not start"
start_bg "$dir/broker.out" "$TLSBROKER" --config "$dir/tlsbroker.json"
broker=$last_pid
wait_port "$port" || die "broker did not start"

# The held connection: openssl s_client reading from a pipe this script keeps open (fd 4).
rm -f "$dir/in" && mkfifo "$dir/in"
exec 4<>"$dir/in"
# (not through start_bg: a background command without its own redirection reads /dev/null)
openssl s_client -connect "127.0.0.1:$port" -quiet -verify_quiet <"$dir/in" >"$dir/client.out" 2>&1 &
started_pids+=("$!")

relays() {  # relays WORD: the held connection echoes WORD within 5 s
  echo "$1" >&4
  local deadline=$((SECONDS + 5))
  until grep -q "$1" "$dir/client.out"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}
reloads_ok() { http_get "$status_port" /status | tr -d '\n' | grep -o '"reloads_ok": [0-9]*' | head -1 | awk '{print $2}'; }
reload_once() {  # sends SIGHUP and waits until reloads_ok passes $1
  kill -HUP "$broker"
  local deadline=$((SECONDS + 10)) n
  while :; do
    n=$(reloads_ok)
    [[ -n $n ]] && ((n > $1)) && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.01
  done
}

relays hello-0 || die "the held connection does not relay"
# Warm-up: the allocator's arenas and OpenSSL's caches reach their working size.
done_ok=$(reloads_ok)
for ((i = 0; i < 20; i++)); do reload_once "$done_ok" || die "reload $i was not applied"; done_ok=$((done_ok + 1)); done
before=$(rss_kb "$broker")
start=$SECONDS
for ((i = 0; i < reloads; i++)); do
  reload_once "$done_ok" || die "reload $i was not applied"
  done_ok=$((done_ok + 1))
done
after=$(rss_kb "$broker")
relays hello-1 || die "the held connection stopped relaying after the reloads"
failed=$(http_get "$status_port" /status | tr -d '\n' | grep -o '"reloads_failed": [0-9]*' | head -1 | awk '{print $2}')
retired=$(http_get "$status_port" /status | tr -d '\n' | grep -o '"retired_listeners": [0-9]*' | awk '{print $2}')
growth=$((after - before))
printf 'reloads: %d in %d s, failed %s; RSS before %d KB, after %d KB, growth %d KB (budget %d KB); retired listeners still draining: %s\n' \
  "$reloads" $((SECONDS - start)) "${failed:-?}" "$before" "$after" "$growth" "$budget_kb" "${retired:-?}"
((${failed:-1} == 0)) || die "a reload failed"
((growth <= budget_kb)) || die "RSS grew by $growth KB over $reloads reloads (budget $budget_kb KB)"
echo "soak-reload: PASSED"
