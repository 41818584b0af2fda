# The Windows column of scripts/bench.sh (sourced): tlsbroker.exe under Wine, built twice from
# the same source — with the OpenSSL 3.0 baseline and with OpenSSL 3.5 (the shipped build) —
# both running at once in one Wine prefix, measured in the same interleaved rounds with the
# same Linux load generator: full handshakes/s at 16 clients and handshakes per CPU-second of
# the exe. Fills r[wine30.*] and r[wine35.*]. Needs: out, rounds, hs_s, concurrency, build,
# bench.sh's bench_tlsbroker_config and lib.sh's helpers.

declare -A wine_port=([wine30]=19446 [wine35]=19447)
wine_builds=(wine30 wine35)

# Builds (unless --no-build) and finds both exes: WINE_EXE[wine30], WINE_EXE[wine35].
wine_prepare() {
  declare -gA WINE_EXE
  source scripts/packages.sh
  ensure_packages wine wine64
  if ((build)); then
    scripts/build-windows.sh >/dev/null
    WINE_EXE[wine30]=$(scripts/build-windows.sh --openssl 3.0 | tail -1)
  else
    WINE_EXE[wine30]=$PWD/build/windows-openssl-3.0/service/tlsbroker.exe
  fi
  WINE_EXE[wine35]=$PWD/build/windows/service/tlsbroker.exe
  local b
  for b in "${wine_builds[@]}"; do
    [[ -f ${WINE_EXE[$b]} ]] || die "${WINE_EXE[$b]} missing: scripts/build-windows.sh builds the 3.5 exe, --openssl 3.0 the baseline"
  done
}

wine_bench() {
  local b t ticks round i
  wine_prepare
  for b in "${wine_builds[@]}"; do require_free_port "${wine_port[$b]}"; done
  log "wine: making a prefix"
  TARGET=windows wine_setup "$out"  # a fresh prefix, kept up, taken down on any exit
  declare -gA wine_pid
  for b in "${wine_builds[@]}"; do
    # Only the plain listener: the PROXY v2 one (port_proxy, which is wine30's port) would make
    # both exes bind the same port.
    bench_tlsbroker_config "$out/$b.json" listeners.0.listen="127.0.0.1:${wine_port[$b]}" \
      'status={"enabled": false}' log.file="$b.log" listeners.1=null
    wine "${WINE_EXE[$b]}" --version 2>/dev/null | tr -d '\r' | sed -n 2p >"$out/$b.openssl" || true
    # The exe's own process (not the wine launcher): its CPU time is the exe's.
    TARGET=windows WIN_EXE=${WINE_EXE[$b]} start_broker "$out/$b.out" "$out/$b.json"
    wine_pid[$b]=$broker
    wait_port "${wine_port[$b]}" 60 || die "$b (${WINE_EXE[$b]}) did not start under Wine (see $out/$b.out)"
    r[$b.openssl]=$(cat "$out/$b.openssl")
  done
  declare -A w_runs w_ticks w_ok
  for ((round = 0; round < rounds; round++)); do
    for ((i = 0; i < 2; i++)); do
      b=${wine_builds[$(((i + round) % 2))]}
      t="127.0.0.1:${wine_port[$b]}"
      log "$b: full handshakes under Wine ($hs_s s, $concurrency clients), round $((round + 1))/$rounds"
      ticks=$(cpu_ticks "${wine_pid[$b]}")
      loadgen handshake --target "$t" --concurrency $concurrency --duration $hs_s >"$out/$b-handshake.json" || true
      w_ticks[$b]=$((${w_ticks[$b]:-0} + $(cpu_ticks "${wine_pid[$b]}") - ticks))
      w_ok[$b]=$((${w_ok[$b]:-0} + $(jint "$out/$b-handshake.json" ok)))
      w_runs[$b]+=" $(jnum "$out/$b-handshake.json" handshakes_per_s)"
      r[$b.hs_failed]=$((${r[$b.hs_failed]:-0} + $(jint "$out/$b-handshake.json" failed)))
      settle
    done
  done
  for b in "${wine_builds[@]}"; do
    r[$b.hs]=$(median <<<"${w_runs[$b]}")
    r[$b.hs_runs]=$(echo ${w_runs[$b]} | tr ' ' '/')
    r[$b.hs_cpu]=$(awk -v n="${w_ok[$b]}" -v t="${w_ticks[$b]}" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { if (t > 0) printf "%.0f", n / (t / hz) }')
    kill -TERM "${wine_pid[$b]}" 2>/dev/null || true
  done
  wineserver -k >/dev/null 2>&1 || true
  trap stop_started EXIT
  unset WINEPREFIX
}
