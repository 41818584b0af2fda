# Shared by the Wine checks (run-wine-tests.sh, tls-posture.sh, cert-store.sh): the verdict
# lines, free ports and polling. Source it after setting `check_name` (the PASS/FAIL prefix,
# empty for none); `failures` counts the FAILs.
failures=0
pass() { echo "PASS: ${check_name:+$check_name: }$*"; }
fail() {
  echo "FAIL: ${check_name:+$check_name: }$*"
  failures=$((failures + 1))
}
check() { # check WHAT CMD...: PASS or FAIL by CMD's status
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range, which clients take ports from
    ss -ltn "sport = :$p" | grep -q ":$p" || {
      echo "$p"
      return
    }
  done
  return 1
}
wait_port() { # wait_port PORT SECONDS: 127.0.0.1:PORT accepts within SECONDS
  local end=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
wait_for() { # wait_for SECONDS CMD...: polls CMD until it succeeds
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
# A Wine prefix of the check's own under $1 unless WINEPREFIX is set (the suite passes its
# own); own_prefix=1 when it made one (the caller then ends its wineserver).
own_prefix=0
wine_prefix() {
  [[ -z ${WINEPREFIX:-} ]] || return 0
  export WINEPREFIX="$1/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  own_prefix=1
  wineboot -i >"$1/wineboot.log" 2>&1
  wineserver -p >/dev/null 2>&1 || true
}
