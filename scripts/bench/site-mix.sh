# The site mix shared by scripts/soak-site-mix.sh and scripts/soak-wine-reference.sh (sourced
# after lib.sh): the clients' model and the listener they meet. scripts/soak-site.sh replays a
# different model (a fixed message every 3 s, clients that vanish, a Little's-law check that
# depends on both) and keeps its own.

# site_mix_lifetime CLIENTS SECONDS: the mean connection lifetime in seconds. A client keeps a
# connection for lifetime x (0.5..1.5), so about CLIENTS/10 reconnects a second at full size;
# at most half the run, so that short runs reconnect too.
site_mix_lifetime() {
  awk -v n="$1" -v s="$2" 'BEGIN { l = n / 10; if (l > s / 2) l = s / 2; printf "%d", l }'
}

# site_mix_command PORT CLIENTS RATE SECONDS STALLED: sets site_mix_cmd to the load generator
# running the mix's clients against 127.0.0.1:PORT. CLIENTS ramp in at RATE a second; each sends
# a 16..4,000-byte message every 1..3 s and checks the echo, reconnects after a random lifetime
# (site_mix_lifetime), and the fraction STALLED stop reading mid-stream; a connect or handshake
# fails after 15 s. The caller runs "${site_mix_cmd[@]}" with its own extra options, output and
# deadline.
site_mix_command() {
  local port=$1 clients=$2 rate=$3 seconds=$4 stalled=$5
  site_mix_cmd=("$LOADGEN" site --target "127.0.0.1:$port" --clients "$clients" --rate "$rate"
    --duration "$seconds" --interval 2 --message 16 --message-max 4000
    --lifetime "$(site_mix_lifetime "$clients" "$seconds")" --stop-reading-fraction "$stalled"
    --vanish-fraction 0 --timeout 15 --threads 2 --json)
}

# site_mix_broker_config FILE PORT STATUS_PORT BACKEND_PORT [OVERRIDE...]: the broker in front
# of the mix (broker_config, scripts/bench/config.sh): listener "site", backlog 500, up to
# 10,000 connections, no connection log, half-close timeout 10 s. The caller adds its own
# timeouts and watchdog as OVERRIDEs.
site_mix_broker_config() {
  local file=$1 port=$2 status=$3 backend=$4
  shift 4
  broker_config "$file" --name site --listen "$port" --status "$status" --backend "$backend" \
    listeners.0.backlog=500 listeners.0.max_connections=10000 listeners.0.connection_log=false \
    listeners.0.timeouts.half_close_ms=10000 "$@"
}
