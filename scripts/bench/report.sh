# The report of scripts/bench.sh (sourced): the Markdown table with ratios against HAProxy
# and the targets, results.json and the chart. Reads the r[] figures, servers and out.

# ratio a b: a / b with two decimals, empty when either is missing or b is zero.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b != "" && b + 0 != 0) printf "%.2f", a / b }'; }
# cmp a op b: exit 0 when the comparison holds (and both are numbers).
cmp() { awk -v a="${1:-}" -v b="${3:-}" -v op="$2" 'BEGIN {
  if (a == "" || b == "") exit 1
  if (op == ">=") exit !(a + 0 >= b + 0); if (op == "<=") exit !(a + 0 <= b + 0); exit 1 }'; }
# round_ratios A_RUNS B_RUNS: A ÷ B round by round ("1.02/0.97/..." and the median), from
# two "x/y/z" lists of the same rounds: the pairing of one round's measures, which a host
# whose load drifts during the run does not bias the way it can bias the ratio of medians.
round_ratios() {
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
    n = split(a, x, "/"); m = split(b, y, "/"); k = 0
    for (i = 1; i <= n && i <= m; i++) if (y[i] + 0 > 0) v[++k] = x[i] / y[i]
    if (!k) { printf "n/a"; exit }
    for (i = 1; i <= k; i++) s = s (i > 1 ? "/" : "") sprintf("%.2f", v[i])
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    printf "%s (median %.2f×)", s, v[int((k + 1) / 2)] }'
}
fmt() { [[ -n ${1:-} ]] && printf "%s" "$1" || printf "n/a"; }
times() { [[ -n ${1:-} ]] && printf "%s×" "$1" || printf "n/a"; }

evaluate() {
  missed=()
  declare -gA rr_ratio rr_res
  hs_cpu_res="n/a" res_res="n/a"
  date=$(date -u +"%Y-%m-%d %H:%M UTC")
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  machine="$(nproc) cores, $cpu, $(uname -sr), fd limit $(ulimit -n)"
  hs_ratio=$(ratio "${r[tlsbroker.hs]:-}" "${r[haproxy.hs]:-}")
  res_ratio=$(ratio "${r[tlsbroker.res]:-}" "${r[haproxy.res]:-}")
  rss_ratio=$(ratio "${r[tlsbroker.rss]:-}" "${r[haproxy.rss]:-}")
  mb_ratio=$(ratio "${r[tlsbroker.mbps]:-}" "${r[haproxy.mbps]:-}")

  evaluate_wine
  if ((${#servers[@]} == 0)); then
    hs_res="n/a" rss_res="n/a" mb_res="n/a" held_res="n/a"
  elif [[ -z ${r[haproxy.hs]:-} || -z ${r[tlsbroker.hs]:-} ]]; then
    hs_res="n/a" rss_res="n/a" mb_res="n/a" held_res="n/a"
    missed+=("not evaluated: the run did not include both tlsbroker and HAProxy")
  elif cmp "$hs_ratio" ">=" 1.2; then hs_res="met"
  else hs_res="**MISSED**"; missed+=("full handshakes/s: $(times "$hs_ratio") HAProxy, required ≥ 1.2×"); fi
  [[ $hs_res == n/a ]] || evaluate_rest
}

# The Windows column: the OpenSSL 3.5 build must not do fewer handshakes than the 3.0 baseline
# measured in the same run (it did 1.2× more in s_server); anything less is a regression.
evaluate_wine() {
  wine_ratio=$(ratio "${r[wine35.hs]:-}" "${r[wine30.hs]:-}")
  wine_cpu_ratio=$(ratio "${r[wine35.hs_cpu]:-}" "${r[wine30.hs_cpu]:-}")
  if [[ -z ${r[wine35.hs]:-} && -z ${r[wine30.hs]:-} ]]; then wine_res="not run"
  elif cmp "$wine_ratio" ">=" 1.0 && [[ ${r[wine35.hs_failed]:-1} == 0 ]]; then wine_res="met"
  else
    wine_res="**REGRESSION**"
    missed+=("Windows build under Wine: OpenSSL 3.5 build $(times "$wine_ratio") the 3.0 build's handshakes/s (${r[wine35.hs_failed]:-?} failed), required ≥ 1.0×")
  fi
}

# The Windows section of the Markdown report (empty when the run had no Windows column).
wine_table() {
  [[ $wine_res == "not run" ]] && return 0
  echo
  echo "Windows build (tlsbroker.exe, cross-built with MinGW-w64) under Wine, same run, same load generator:"
  echo
  echo "| measure | OpenSSL 3.0 build | OpenSSL 3.5 build | 3.5 ÷ 3.0 | target | result |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| full handshakes/s, 16 clients | $(fmt "${r[wine30.hs]:-}") | $(fmt "${r[wine35.hs]:-}") | $(times "$wine_ratio") | ≥ 1.0× | $wine_res |"
  echo "| full handshakes per exe CPU-second | $(fmt "${r[wine30.hs_cpu]:-}") | $(fmt "${r[wine35.hs_cpu]:-}") | $(times "$wine_cpu_ratio") | (efficiency) | — |"
  echo
  echo "Per round: 3.0 build ${r[wine30.hs_runs]:-n/a}, 3.5 build ${r[wine35.hs_runs]:-n/a}; failed handshakes" \
    "${r[wine30.hs_failed]:-n/a} / ${r[wine35.hs_failed]:-n/a}. Runtime: ${r[wine30.openssl]:-?} / ${r[wine35.openssl]:-?}."
}

evaluate_rest() {
  if cmp "$rss_ratio" "<=" 0.9 && cmp "${r[tlsbroker.rss]:-}" "<=" 15.2; then
    if cmp "${r[tlsbroker.rss]:-}" "<=" 12; then rss_res="met, aim met"; else rss_res="met, aim (≤ 12 KB) missed"; fi
  else rss_res="**MISSED**"; missed+=("RSS per idle connection: $(fmt "${r[tlsbroker.rss]:-}") KB, $(times "$rss_ratio") HAProxy, required ≤ 0.9× and ≤ 15.2 KB"); fi
  hs_cpu_ratio=$(ratio "${r[tlsbroker.hs_cpu]:-}" "${r[haproxy.hs_cpu]:-}")
  if cmp "$hs_cpu_ratio" ">=" 1.25; then hs_cpu_res="met"
  else hs_cpu_res="**MISSED**"; missed+=("full handshakes per CPU-second: $(times "$hs_cpu_ratio") HAProxy, required ≥ 1.25×"); fi
  if cmp "$res_ratio" ">=" 1.2; then res_res="met"
  else res_res="**MISSED**"; missed+=("resumed handshakes/s: $(times "$res_ratio") HAProxy, required ≥ 1.2×"); fi
  local c
  for c in 1 4 16; do
    rr_ratio[$c]=$(ratio "${r[tlsbroker.rr$c]:-}" "${r[haproxy.rr$c]:-}")
    if cmp "${rr_ratio[$c]}" ">=" 1.1 && [[ ${r[tlsbroker.rr${c}_failed]:-1} == 0 ]]; then rr_res[$c]="met"
    else rr_res[$c]="**MISSED**"; missed+=("request/response relay, $c connections: $(times "${rr_ratio[$c]}") HAProxy (${r[tlsbroker.rr${c}_failed]:-?} failed), required ≥ 1.1×"); fi
  done
  if cmp "$mb_ratio" ">=" 1.0; then mb_res="met"
  else mb_res="**MISSED**"; missed+=("relay MB/s: $(times "$mb_ratio") HAProxy, required ≥ 1.0×"); fi
  if cmp "${r[tlsbroker.held]:-}" ">=" 9000 && [[ ${r[tlsbroker.held_failed]:-1} == 0 ]]; then held_res="met"
  else held_res="**MISSED**"; missed+=("connections held: $(fmt "${r[tlsbroker.held]:-}") of 9,000, ${r[tlsbroker.held_failed]:-?} failed"); fi
}

write_report() {
  local md s
  evaluate

  row() { # label key unit
    printf "| %s | %s | %s | %s |" "$1" "$(fmt "${r[tlsbroker.$2]:-}")" "$(fmt "${r[haproxy.$2]:-}")" "$(fmt "${r[stunnel.$2]:-}")"
  }
  md=$(
    echo "Run: $date; machine: $machine."
    echo
    echo "| measure | tlsbroker | HAProxy | stunnel | tlsbroker ÷ HAProxy | target (required / aim) | result |"
    echo "|---|---:|---:|---:|---:|---|---|"
    echo "$(row "full handshakes/s, 16 clients" hs) $(times "$hs_ratio") | ≥ 1.2× | $hs_res |"
    echo "$(row "full handshakes per server CPU-second" hs_cpu) $(times "$(ratio "${r[tlsbroker.hs_cpu]:-}" "${r[haproxy.hs_cpu]:-}")") | ≥ 1.25× | $hs_cpu_res |"
    echo "$(row "resumed handshakes/s, 16 clients" res) $(times "$res_ratio") | ≥ 1.2× | $res_res |"
    echo "| full handshakes/s, 16 clients, each after a PROXY v2 header (accept_proxy) | $(fmt "${r[tlsbroker.hs_proxy]:-}") | — | — | — | (the cost of reading the header) | — |"
    echo "$(row "RSS per idle TLS connection, KB (3,000 held)" rss) $(times "$rss_ratio") | ≤ 0.9× and ≤ 15.2 KB / ≤ 12 KB | $rss_res |"
    echo "$(row "echo relay MB/s (streaming), 8 connections" mbps) $(times "$mb_ratio") | ≥ 1.0× | $mb_res |"
    for c in 1 4 16; do
      echo "$(row "request/response round trips/s (16 KiB each way), $c conn." rr$c) $(times "${rr_ratio[$c]:-}") | ≥ 1.1× | ${rr_res[$c]:-n/a} |"
    done
    echo "$(row "syscalls per round trip (4 conn., strace)" rr.sys_calls) $(times "$(ratio "${r[tlsbroker.rr.sys_calls]:-}" "${r[haproxy.rr.sys_calls]:-}")") | (lower is better) | — |"
    echo "$(row "… of which epoll_ctl" rr.sys_epoll_ctl) | — | — | — |"
    echo "$(row "… failed calls (EAGAIN, mostly)" rr.sys_errors) | — | — | — |"
    echo "$(row "syscalls per full handshake (16 clients, strace)" hs.sys_calls) $(times "$(ratio "${r[tlsbroker.hs.sys_calls]:-}" "${r[haproxy.hs.sys_calls]:-}")") | (lower is better) | — |"
    echo "$(row "concurrent TLS connections held (of 9,000)" held) | ≥ 9,000, no error | $held_res |"
    echo
    echo "Handshakes/s per round (median shown): tlsbroker ${r[tlsbroker.hs_runs]:-n/a}, HAProxy ${r[haproxy.hs_runs]:-n/a}," \
      "stunnel ${r[stunnel.hs_runs]:-n/a}. Relay MB/s per round: tlsbroker ${r[tlsbroker.mb_runs]:-n/a}," \
      "HAProxy ${r[haproxy.mb_runs]:-n/a}, stunnel ${r[stunnel.mb_runs]:-n/a}. Share of offered sessions resumed: tlsbroker ${r[tlsbroker.res_share]:-n/a}," \
      "HAProxy ${r[haproxy.res_share]:-n/a}, stunnel ${r[stunnel.res_share]:-n/a}."
    echo "Request/response round trips/s per round, 1/4/16 connections: tlsbroker ${r[tlsbroker.rr1_runs]:-n/a} ·" \
      "${r[tlsbroker.rr4_runs]:-n/a} · ${r[tlsbroker.rr16_runs]:-n/a}; HAProxy ${r[haproxy.rr1_runs]:-n/a} ·" \
      "${r[haproxy.rr4_runs]:-n/a} · ${r[haproxy.rr16_runs]:-n/a}."
    echo "tlsbroker ÷ HAProxy round by round (each round's two measures; the targets above use the ratio of" \
      "medians): full handshakes $(round_ratios "${r[tlsbroker.hs_runs]:-}" "${r[haproxy.hs_runs]:-}"), resumed" \
      "$(round_ratios "${r[tlsbroker.res_runs]:-}" "${r[haproxy.res_runs]:-}"), request/response 1 conn." \
      "$(round_ratios "${r[tlsbroker.rr1_runs]:-}" "${r[haproxy.rr1_runs]:-}"), 4 conn." \
      "$(round_ratios "${r[tlsbroker.rr4_runs]:-}" "${r[haproxy.rr4_runs]:-}"), 16 conn." \
      "$(round_ratios "${r[tlsbroker.rr16_runs]:-}" "${r[haproxy.rr16_runs]:-}")."
    echo "Threads: tlsbroker ${r[tlsbroker.threads]:-n/a}, HAProxy ${r[haproxy.threads]:-n/a}, stunnel ${r[stunnel.threads]:-n/a}" \
      "(while holding 3,000). Failed connections in the 9,000 test: tlsbroker ${r[tlsbroker.held_failed]:-n/a}," \
      "HAProxy ${r[haproxy.held_failed]:-n/a}, stunnel ${r[stunnel.held_failed]:-n/a}."
    wine_table
    echo
    if ((${#missed[@]})); then
      echo "Targets missed:"
      for s in "${missed[@]}"; do echo "- $s"; done
    else
      echo "Every required target met."
    fi
  )
  printf '%s\n' "$md" | tee "$out/results.md"

  {
    printf '{\n  "date": "%s",\n  "machine": {"cores": %s, "cpu": "%s", "kernel": "%s", "fd_limit": %s},\n' \
      "$date" "$(nproc)" "$cpu" "$(uname -r)" "$(ulimit -n)"
    printf '  "servers": {'
    local first=1 k
    for s in tlsbroker haproxy stunnel; do
      ((first)) || printf ','
      first=0
      printf '\n    "%s": {' "$s"
      local kf=1
      for k in hs hs_cpu hs_failed hs_proxy hs_proxy_failed res res_share rss rss_before rss_after threads mbps rr1 rr4 rr16 \
        rr.sys_calls rr.sys_epoll_ctl rr.sys_errors hs.sys_calls hs.sys_epoll_ctl hs.sys_errors held held_failed; do
        ((kf)) || printf ', '
        kf=0
        printf '"%s": %s' "$k" "$(v=${r[$s.$k]:-}; [[ -n $v ]] && echo "$v" || echo null)"
      done
      printf '}'
    done
    printf '\n  },\n  "ratios_vs_haproxy": {"hs": %s, "hs_cpu": %s, "res": %s, "rss": %s, "mbps": %s, "rr1": %s, "rr4": %s, "rr16": %s},\n' \
      "${hs_ratio:-null}" "${hs_cpu_ratio:-null}" "${res_ratio:-null}" "${rss_ratio:-null}" "${mb_ratio:-null}" \
      "${rr_ratio[1]:-null}" "${rr_ratio[4]:-null}" "${rr_ratio[16]:-null}"
    printf '  "windows_under_wine": {"openssl30": {"hs": %s, "hs_cpu": %s, "hs_failed": %s}, ' \
      "${r[wine30.hs]:-null}" "${r[wine30.hs_cpu]:-null}" "${r[wine30.hs_failed]:-null}"
    printf '"openssl35": {"hs": %s, "hs_cpu": %s, "hs_failed": %s}, "ratio_hs": %s},\n' \
      "${r[wine35.hs]:-null}" "${r[wine35.hs_cpu]:-null}" "${r[wine35.hs_failed]:-null}" "${wine_ratio:-null}"
    printf '  "missed": %d\n}\n' "${#missed[@]}"
  } >"$out/results.json"

  # The chart: each measure relative to HAProxy (= 1).
  nan() { [[ -n ${1:-} ]] && echo "$1" || echo NaN; }
  {
    local key
    for k in hs:handshakes res:resumed rss:RSS/conn mbps:MB/s rr1:req/resp-1 rr4:req/resp-4 rr16:req/resp-16 held:held; do
      key=${k%%:*}
      printf '"%s" %s %s %s\n' "${k#*:}" "$(nan "$(ratio "${r[tlsbroker.$key]:-}" "${r[haproxy.$key]:-}")")" \
        "$(nan "$([[ -n ${r[haproxy.$key]:-} ]] && echo 1)")" "$(nan "$(ratio "${r[stunnel.$key]:-}" "${r[haproxy.$key]:-}")")"
    done
  } >"$out/chart.dat"
  if command -v gnuplot >/dev/null; then
    gnuplot <<GP || log "gnuplot failed; no chart"
set terminal pngcairo size 900,500
set output "$out/results.png"
set title "tlsbroker vs HAProxy vs stunnel, relative to HAProxy (= 1; RSS/conn: lower is better)\n$date"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set yrange [0:*]
set ylabel "× HAProxy"
set grid ytics
plot "$out/chart.dat" using 2:xtic(1) title "tlsbroker", '' using 3 title "HAProxy", '' using 4 title "stunnel"
GP
  fi
  log "wrote $out/results.md, $out/results.json, $out/results.png"
  ((${#missed[@]} == 0))
}
