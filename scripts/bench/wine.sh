# The Windows build under Wine for soaks and benchmarks (sourced after lib.sh).
# wine_setup DIR makes a fresh prefix in DIR/prefix and keeps its wineserver up;
# start_broker OUT CONFIG starts the Linux build, or tlsbroker.exe --console under Wine when
# TARGET=windows, with its output in OUT; $broker is then the pid whose RSS is the broker's.

TARGET=${TARGET:-linux}
WIN_BUILD_DIR=${WIN_BUILD_DIR:-build/windows}
WIN_EXE=${WIN_EXE:-$WIN_BUILD_DIR/service/tlsbroker.exe}

# Builds tlsbroker.exe (and its MinGW dependencies, cached) when TARGET=windows.
build_windows() {
  [[ $TARGET == windows ]] || return 0
  scripts/build-windows.sh >/dev/null
}

wine_setup() {
  [[ $TARGET == windows ]] || return 0
  local dir=$1
  source scripts/packages.sh
  ensure_packages wine wine64 >/dev/null
  export WINEPREFIX="$PWD/$dir/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  wineserver -k >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
  wineboot -i >"$dir/wineboot.log" 2>&1
  wineserver -p >/dev/null 2>&1 || true
  trap 'stop_started; wineserver -k >/dev/null 2>&1 || true' EXIT
}

start_broker() {
  local out=$1 config=$2 deadline pid
  if [[ $TARGET != windows ]]; then
    start_bg "$out" "$TLSBROKER" --config "$config"
    broker=$last_pid
    return
  fi
  local winconfig
  winconfig=$(winepath -w "$config")
  start_bg "$out" wine "$WIN_EXE" --console --config "$winconfig"
  # `wine` hands over to the Windows process (named tlsbroker.exe, found by its own config
  # path); its RSS is the broker's.
  broker=$last_pid
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    pid=$(for p in $(pgrep -f -- "--config ${winconfig//\\/\\\\}" || true); do
      if [[ $(cat "/proc/$p/comm" 2>/dev/null) == tlsbroker.exe ]]; then echo "$p"; break; fi
    done)
    [[ -n $pid ]] && { broker=$pid; return; }
    sleep 0.2
  done
}
