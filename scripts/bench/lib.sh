# Helpers shared by scripts/bench.sh and the soak scripts (sourced, not run).
# Everything runs on 127.0.0.1; every wait has a deadline.

BUILD_DIR=${BUILD_DIR:-build/linux}
TLSBROKER=${TLSBROKER:-$BUILD_DIR/service/tlsbroker}  # TLSBROKER=path compares another build
LOADGEN=$BUILD_DIR/tests/loadgen/tlsbroker-loadgen
ECHO_SERVER=$BUILD_DIR/tests/loadgen/tlsbroker-echo

started_pids=()

# broker_config: the broker config every script writes (scripts/bench/config.sh).
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stops every process this script started (TERM, then KILL after 5 s).
stop_started() {
  local pid deadline
  for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 5))
  for pid in "${started_pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  started_pids=()
}

# Builds tlsbroker, the load generator and the echo backend (unless --no-build).
build_all() {
  scripts/install-deps.sh "$@" >/dev/null
  cmake --preset linux >/dev/null
  cmake --build --preset linux --target tlsbroker tlsbroker-loadgen tlsbroker-echo >/dev/null
}

raise_fd_limit() { ulimit -n "$(ulimit -Hn)"; }

# The start of every soak script: soak_setup BUILD DIR PORT...: builds (unless BUILD is 0),
# raises the fd limit, makes DIR with a certificate, stops the started processes on exit and
# checks that the ports are free.
soak_setup() {
  local build=$1 dir=$2 p
  shift 2
  ((build)) && build_all --bench
  raise_fd_limit
  mkdir -p "$dir"
  make_cert "$dir"
  trap stop_started EXIT
  trap 'exit 130' INT TERM
  for p in "$@"; do require_free_port "$p"; done
}

# An ECDSA P-256 self-signed certificate for localhost in $1 (server.crt, server.key, server.pem).
make_cert() {
  local dir=$1
  mkdir -p "$dir"
  # umask 077: the key (and server.pem, which holds it) is never readable by others, not even
  # between its creation and a chmod.
  if [[ ! -f $dir/server.key ]]; then
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null)
  fi
  rm -f "$dir/server.pem"
  (umask 077 && cat "$dir/server.crt" "$dir/server.key" >"$dir/server.pem")
  chmod 600 "$dir/server.key" "$dir/server.pem"
}

# Waits until 127.0.0.1:$1 accepts a TCP connection (deadline $2 seconds, default 15).
wait_port() {
  local port=$1 deadline=$((SECONDS + ${2:-15}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Fails if something already listens on 127.0.0.1:$1.
require_free_port() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then die "port $1 is in use"; fi
}

# Starts a command in the background with its output in $1; records its pid in $last_pid.
start_bg() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  last_pid=$!
  started_pids+=("$last_pid")
}

# Sum of VmRSS (KB) over the given pids and their child processes.
rss_kb() {
  local total=0 pid kid v
  local all=()
  for pid in "$@"; do
    all+=("$pid")
    for kid in $(pgrep -P "$pid" 2>/dev/null); do all+=("$kid"); done
  done
  for pid in "${all[@]}"; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# CPU time (clock ticks, user + system, all threads) used so far by the given pids.
cpu_ticks() {
  local total=0 pid v
  for pid in "$@"; do
    v=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# Number of threads over the given pids.
threads_of() {
  local total=0 pid v
  for pid in "$@"; do
    v=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# A numeric field of a flat JSON object in file $1 ("key": 12.5); empty when missing.
jget() { grep -o "\"$2\": [-0-9.e+]*" "$1" 2>/dev/null | head -1 | awk '{print $2}'; }

# HTTP GET of 127.0.0.1:$1$2 without curl; the body on stdout (nothing when the endpoint
# does not answer); 5 s deadline; never fails.
http_get() {
  local port=$1 path=$2
  { timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$1" >&3
    cat <&3' "$port" "$path" 2>/dev/null || true; } | sed '1,/^\r\{0,1\}$/d'
}

# Sum of the samples of metric family $2 (a full sample prefix, labels allowed) in /metrics
# of the status endpoint on port $1.
metric() {
  http_get "$1" /metrics | awk -v m="$2" 'index($0, m) == 1 { s += $NF } END { printf "%.0f\n", s }'
}

# The tlsbroker config of the A/B and instruction benchmarks: bench_broker_config FILE NAME
# PORT STATUS_PORT BACKEND_PORT MAX_CONNECTIONS writes one listener NAME on 127.0.0.1:PORT in
# front of the echo backend, 2 threads (as HAProxy), log level warning into NAME.log, no
# connection log.
bench_broker_config() {
  broker_config "$1" --name "$2" --listen "$3" --status "$4" --backend "$5" log.file="$2.log" \
    listeners.0.backlog=4096 listeners.0.max_connections="$6" listeners.0.connection_log=false
}

# HAProxy in front of the same echo backend: bench_haproxy_config FILE PORT BACKEND_PORT
# MAXCONN PEM THREADS [ULIMIT_N] (mode tcp, ssl crt PEM; ULIMIT_N sets its fd limit, which it
# otherwise derives from MAXCONN).
bench_haproxy_config() {
  cat >"$1" <<CFG
global
  nbthread $6
  maxconn $4${7:+
  ulimit-n $7}
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:$2 ssl crt $5 ssl-min-ver TLSv1.2
  maxconn $4
  default_backend echo
backend echo
  server echo 127.0.0.1:$3
CFG
}
