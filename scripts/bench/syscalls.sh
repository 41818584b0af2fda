# Syscalls a server makes per unit of work (sourced by scripts/bench.sh): strace -c on
# every thread of the server while the load generator runs a fixed shape, divided by what
# the run got done. strace slows the server a lot, so these runs give counts, never rates.

# syscalls_per NAME PID UNIT_KEY LOADGEN_ARGS...: sets r[NAME.sys_*]:
#   total calls, epoll_ctl calls and calls that failed (EAGAIN, mostly) per unit of work,
#   where the unit is the loadgen report's UNIT_KEY (round_trips, ok handshakes, ...).
syscalls_per() {
  local name=$1 pid=$2 unit=$3 tids trace_pid n
  shift 3
  command -v strace >/dev/null || { log "strace missing: no syscall counts"; return 0; }
  tids=$(ls "/proc/$pid/task" | paste -sd,)
  strace -c -f -q -p "$tids" -o "$out/$name.strace" &
  trace_pid=$!
  sleep 1  # strace attaches each thread; the counts only need to cover the run below
  loadgen "$@" >"$out/$name.syscalls.json" || true
  kill -INT "$trace_pid" 2>/dev/null || true
  wait "$trace_pid" 2>/dev/null || true
  n=$(jint "$out/$name.syscalls.json" "$unit")
  ((n > 0)) || { log "$name: no $unit in the syscall run"; return 0; }
  # strace -c: "% time seconds usecs/call calls errors syscall"; errors may be blank.
  read -r calls errors epoll_ctl < <(awk '
    $NF == "total" { calls = ($4 ~ /^[0-9]+$/) ? $4 : $3; errs = (NF >= 6) ? $5 : 0 }
    $NF == "epoll_ctl" { ctl = $4 }
    END { printf "%d %d %d\n", calls, errs, ctl }' "$out/$name.strace")
  r[$name.sys_calls]=$(awk -v a="$calls" -v n="$n" 'BEGIN { printf "%.1f", a / n }')
  r[$name.sys_errors]=$(awk -v a="$errors" -v n="$n" 'BEGIN { printf "%.1f", a / n }')
  r[$name.sys_epoll_ctl]=$(awk -v a="$epoll_ctl" -v n="$n" 'BEGIN { printf "%.2f", a / n }')
}
