#!/usr/bin/env bash
# The Windows edition end to end under Wine, in a fresh prefix inside the build tree:
# what the MSI declares (its tables: account, firewall, failure flag, delayed start, quoting,
# property checks) → the installer modes refuse a second mode and bad values, an install with a
# bad BACKEND or into a symlinked ProgramData\tlsbroker fails and writes nothing →
# a failed install takes back the config it wrote → MSI install → service RUNNING → TLS from
# Linux through the Windows broker to a Linux echo backend, byte-exact → PARAMCHANGE reloads →
# POST /reload adds and removes a listener and its perf counter instance → `sc stop` drains an
# in-flight transfer and ends STOPPED with exit code 0 → a broken config fails the start with
# the documented exit code and log line → uninstall removes service and program files and
# keeps the config → the exe's TLS posture (tls-posture.sh) → the certificate store (cert-store.sh).
# Along the way the Event Log is read back (Wine's ReportEventW trace) by event ID, category and
# insertion strings: service started/stopped/start failed, listener bound, reload
# applied/rejected, certificate expiring; a client's failed handshake is not there.
#
# What Wine cannot show (checked on a real host: service/README.md, "Windows real-host checklist"): Wine's sc has no
# failureflag/config/sidtype/privs (the install passes SC_CONFIGURE=0; the MSI tables are
# checked instead), its netsh is a stub, it keeps no file DACLs (the service logs that its ACL
# check is skipped), and it runs every service as the prefix's one user whatever the account.
# Usage: tests/windows/run-wine-tests.sh [MSI]   (builds it with scripts/build-windows.sh if absent)
set -euo pipefail
trap '' PIPE  # a client that died must fail a check, not kill the suite
cd "$(dirname "$0")/../.."
root=$PWD

source scripts/packages.sh
ensure_packages wine wine64 socat openssl curl jq msitools

msi="${1:-}"
[[ -n "$msi" ]] || msi=$(scripts/build-windows.sh | tail -1)
svcctl="$root/build/windows/tests/windows/svcctl.exe"
work="$root/build/wine-test"
WINEPREFIX="$work/prefix" wineserver -k >/dev/null 2>&1 || true  # a previous run's leftovers
rm -rf "$work"
mkdir -p "$work"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
svcctl_w() { wine "$(winepath -w "$svcctl")" "$@"; }
source "$root/tests/windows/lib.sh" # pass, fail, free_port, wait_for

# `wine sc … | grep` can wait forever (services.exe inherits the pipe): go through files.
sc_state() { wine sc query tlsbroker >"$work/sc.out" 2>&1 || true; grep -q "$1" "$work/sc.out"; }
sc_gone() { wine sc query tlsbroker >"$work/sc.out" 2>&1 || true; ! grep -q "STATE" "$work/sc.out"; }
# The Event Log as Wine shows it (WINEDEBUG fixme+advapi,+eventlog): each ReportEventW call is a
# fixme line with type, category and event ID, then one eventlog line per insertion string, from
# the same thread. events_of ID prints the events with that ID (low 16 bits, as Event Viewer
# shows it), one per line: "ID<TAB>category<TAB>type<TAB>%1<TAB>%2...".
events_of() {
  tr -d '\r' <"$work/wineboot.log" | awk -v want="$1" '
    function hex(s,   i, v) { s = tolower(s); sub(/^0x/, "", s); v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v }
    /:fixme:advapi:ReportEventW \(/ {
      tid = $0; sub(/:.*/, "", tid); s = $0; sub(/.*ReportEventW \(/, "", s); split(s, f, ",")
      id = hex(substr(f[4], length(f[4]) - 3)); rec[tid] = id "\t" hex(f[3]) "\t" hex(f[2]); left[tid] = hex(f[6])
      if (left[tid] == 0 && id == want) print rec[tid]
      next }
    /:eventlog:ReportEventW L"/ {
      tid = $0; sub(/:.*/, "", tid)
      if (left[tid] > 0) { s = $0; sub(/.*ReportEventW L"/, "", s); sub(/"$/, "", s); rec[tid] = rec[tid] "\t" s
        if (--left[tid] == 0 && rec[tid] ~ "^" want "\t") print rec[tid] } }'
}
# has_event ID CATEGORY ERE: an event with that ID and category whose insertion strings match ERE
# (matched against "\t%1\t%2...").
has_event() { events_of "$1" | awk -F'\t' -v c="$2" '$2 == c' | cut -f4- | sed 's/^/\t/' | grep -Eq -- "$3"; }

echo_port=$(free_port)
listen_port=$(free_port)
status_port=$(free_port)
socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat >/dev/null 2>&1 &
echo_pid=$!
cleanup() {
  kill "$echo_pid" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  wineserver -k >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A persistent wineserver keeps the prefix (and its services) alive between our commands;
# without it Wine shuts everything down ~3 s after the last ordinary Wine process exits.
# Services inherit wineboot's output; +eventlog makes Wine print each ReportEventW's insertion
# strings there, fixme+advapi its event ID, category and type (events_of above).
# The prefix is made first, then booted again: right after `wineboot -i` Wine's SCM keeps its
# database locked and StartService fails with 1055 (ERROR_SERVICE_DATABASE_LOCKED).
wineboot -i >"$work/wineboot-init.log" 2>&1
wineserver -k >/dev/null 2>&1 || true
WINEDEBUG=-all,+eventlog,fixme+advapi wineserver -p >/dev/null 2>&1 || true
WINEDEBUG=-all,+eventlog,fixme+advapi wineboot >"$work/wineboot.log" 2>&1

# Wine's msi checks the service state right after StartService instead of waiting out
# START_PENDING as Windows does; a first run in a fresh prefix (cold DLL loads) can be slow
# enough to miss that, so run the exe once before installing.
wine "$(winepath -w "$root/build/windows/service/tlsbroker.exe")" --version >"$work/warmup.out" 2>&1 || true

# Wine's sc lacks failureflag, config, sidtype and privs (it exits 1): skip those actions here.
msi_props="SC_CONFIGURE=0"

# 0. What the MSI declares for real Windows.
tests/windows/check-msi-tables.sh "$msi" >"$work/msi-tables.out" 2>&1 || true
grep -E "^(PASS|FAIL)" "$work/msi-tables.out"
failures=$((failures + $(grep -c "^FAIL" "$work/msi-tables.out" || true)))
grep -q "msi tables: 0 failure" "$work/msi-tables.out" || fail "MSI tables check did not finish cleanly"

progdata="$WINEPREFIX/drive_c/ProgramData/tlsbroker"
progfiles="$WINEPREFIX/drive_c/Program Files/tlsbroker"
log="$progdata/tlsbroker.log"

# 0a. The installer cannot be turned into SYSTEM (issue #27). A folder of the caller's choosing
# that a rollback would empty: it holds a file and an install record naming it.
victim="$work/victim"
mkdir -p "$victim"
echo precious >"$victim/precious.txt"
printf 'precious.txt\r\n' >"$victim/.install-created"
victim_w=$(winepath -w "$victim")
snapshot() { (cd "$victim" && find . -printf '%p %s\n' | sort && cat precious.txt .install-created) | md5sum; }
victim_before=$(snapshot)
untouched() { [[ "$(snapshot)" == "$victim_before" && ! -e "$progdata" ]]; }
exe_w=$(winepath -w "$root/build/windows/service/tlsbroker.exe")
# refused NAME ARGS...: the exe exits 2 with a message and writes nothing.
refused() {
  local name=$1 rc=0
  shift
  wine "$exe_w" "$@" >"$work/refused.out" 2>&1 || rc=$?
  if [[ $rc == 2 ]] && grep -q "^tlsbroker: " "$work/refused.out" && untouched; then
    pass "installer mode refuses $name (exit 2: $(head -1 "$work/refused.out" | tr -d '\r'))"
  else
    fail "installer mode $name: exit $rc, $(head -1 "$work/refused.out"), victim untouched: $(untouched && echo yes || echo no)"
  fi
}
cfg_w='C:\ProgramData\tlsbroker'
refused "two modes (the last no longer wins)" --write-default-config "$cfg_w" --install-rollback "$victim_w"
refused "a repeated mode" --install-rollback "$cfg_w" --install-rollback "$victim_w"
refused "an unknown argument" --write-default-config "$cfg_w" --bogus
refused "an extra argument" --install-commit "$cfg_w" "$victim_w"
refused "an option of another mode" --install-rollback "$victim_w" --backend 127.0.0.1:80
refused "a BACKEND with a space" --write-default-config "$cfg_w" --backend "127.0.0.1:80 --install-rollback $victim_w"
refused "a BACKEND with a quote" --write-default-config "$cfg_w" --backend '127.0.0.1:80"'
refused "a LISTEN_PORT out of range" --write-default-config "$cfg_w" --listen-port 65536
refused "a STATUS_PORT that is not a number" --write-default-config "$cfg_w" --status-port 80x

# The issue's attack through the MSI: a BACKEND that adds --install-rollback. The launch
# condition on BACKEND fails the install before any action runs. (Wine's msi prints a launch
# condition's message nowhere under /qn; +msi shows which condition was false, and the tables
# check above shows each condition's message. Windows writes the message to the log.)
WINEDEBUG=-all,+msi wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/install-badbackend.log")" \
  LISTEN_PORT="$listen_port" BACKEND="127.0.0.1:80 --install-rollback $victim_w" STATUS_PORT="$status_port" $msi_props \
  >"$work/msiexec-badbackend.out" 2>&1 || true
if grep -aq "INSTALL. Return value 0" "$work/install-badbackend.log" &&
  grep -aq 'EvaluateConditionW 0 <- L"REMOVE=\\"ALL\\" OR (BACKEND' "$work/msiexec-badbackend.out"; then
  pass "install with BACKEND '127.0.0.1:80 --install-rollback …' failed on its BACKEND check"
else
  fail "install with a BACKEND holding a space did not fail on the BACKEND check"
fi
untouched && [[ ! -e "$progfiles/tlsbroker.exe" ]] && sc_gone && pass "bad BACKEND: nothing installed, nothing rolled back" ||
  fail "bad BACKEND: the victim folder, ProgramData or Program Files changed"

# A %ProgramData%\tlsbroker made beforehand as a symbolic link (Wine shows a unix symlink as
# a reparse point, as Windows shows a junction): the install fails and writes nothing through it.
ln -s "$victim" "$progdata"
WINEDEBUG=-all wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/install-link.log")" \
  LISTEN_PORT="$listen_port" BACKEND="127.0.0.1:$echo_port" STATUS_PORT="$status_port" $msi_props \
  >"$work/msiexec-link.out" 2>&1 || true
grep -aq "INSTALL. Return value 0" "$work/install-link.log" && grep -aq "WriteDefaultConfig. Return value 0" "$work/install-link.log" &&
  pass "install into a symlinked ProgramData\\tlsbroker failed at its config step" ||
  fail "install into a symlinked ProgramData\\tlsbroker did not fail at its config step"
[[ "$(snapshot)" == "$victim_before" ]] && sc_gone && pass "symlinked ProgramData\\tlsbroker: nothing written through it" ||
  fail "symlinked ProgramData\\tlsbroker: $(ls -A "$victim" | tr '\n' ' ')"
link_step() {  # link_step NAME EXPECTED-TEXT ARGS...: exit 1 naming the link, victim untouched
  local name=$1 text=$2 rc=0
  shift 2
  wine "$exe_w" "$@" >"$work/link.out" 2>&1 || rc=$?
  [[ $rc == 1 ]] && grep -q "$text" "$work/link.out" && [[ "$(snapshot)" == "$victim_before" ]] &&
    pass "$name refused: $(grep -m1 "^tlsbroker: " "$work/link.out" | tr -d '\r' | cut -c1-150)" ||
    fail "$name: exit $rc, $(cat "$work/link.out")"
}
link_step "config step on a symlinked folder" "tlsbroker: is a junction or symbolic link" --write-default-config "$cfg_w"
link_step "rollback through a symlinked folder" "tlsbroker: is a junction or symbolic link" --install-rollback "$cfg_w"
rm "$progdata"
# The same for a link inside the folder, and for a log folder outside it that is a link.
mkdir -p "$progdata"
ln -s "$victim" "$progdata/logs"
link_step "config step on a folder holding a link" "logs: is a junction or symbolic link" --write-default-config "$cfg_w"
rm "$progdata/logs"
ln -s "$victim" "$WINEPREFIX/drive_c/tb-logs"
echo '{ "log": { "file": "C:\\tb-logs\\tlsbroker.log" } }' >"$progdata/tlsbroker.json"
link_step "config step with a symlinked log folder" "log folder .*tb-logs: is a junction or symbolic link" --write-default-config "$cfg_w"
rm "$WINEPREFIX/drive_c/tb-logs"
rm -r "$progdata"

# 0b. A failed install takes back the config it wrote: with the listen port taken, the service
# cannot start, StartServices fails and the install rolls back. WriteDefaultConfig records what
# it created (.install-created); Windows then runs RollbackConfig, which deletes exactly that.
# Wine's msi runs only standard actions when it rolls back (never a rollback custom action), so
# the suite checks the record and runs RollbackConfig's command line itself, as Windows would;
# the MSI tables check above shows it is declared as a rollback action before the config step.
taken_port=$(free_port)
socat "TCP-LISTEN:$taken_port,reuseaddr,fork" EXEC:cat >/dev/null 2>&1 &
taken_pid=$!
port_taken() { ss -ltnH "sport = :$taken_port" | grep -q .; }
wait_for 10 port_taken || fail "could not take port $taken_port for the failed install"
WINEDEBUG=-all wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/install-fail.log")" \
  LISTEN_PORT="$taken_port" BACKEND="127.0.0.1:$echo_port" STATUS_PORT="$status_port" $msi_props \
  >"$work/msiexec-fail.out" 2>&1 || true
kill "$taken_pid" 2>/dev/null || true
grep -aq "INSTALL. Return value 0" "$work/install-fail.log" && pass "install with the listen port taken failed" ||
  fail "install with the listen port taken did not fail"
tr -d '\r' <"$progdata/.install-created" 2>/dev/null | sort | tr '\n' ' ' >"$work/record.out"
[[ "$(cat "$work/record.out")" == "server.crt server.key tlsbroker.json " ]] &&
  pass "failed install recorded the files it wrote" || fail "install record: '$(cat "$work/record.out")'"
rollback_cmd=$(msiinfo export "$msi" CustomAction | tr -d '\r' | awk -F'\t' '$1 == "RollbackConfig" { print $4 }')
rollback_cmd=${rollback_cmd//\[CommonAppDataFolder\]/C:\\ProgramData\\}
eval "wine \"\$(winepath -w \"\$root/build/windows/service/tlsbroker.exe\")\" $rollback_cmd" >"$work/rollback.out" 2>&1 || true
if [[ ! -e "$progdata/tlsbroker.json" && ! -e "$progdata/server.key" && ! -e "$progdata/.install-created" ]]; then
  pass "RollbackConfig took back the config the failed install wrote"
else
  fail "rollback left: $(ls -A "$progdata" | tr '\n' ' ') ($(cat "$work/rollback.out"))"
fi
sc_gone && pass "failed install left no service" || fail "failed install left the service registered"

# 1. Install. Right after boot Wine's SCM may still hold its database lock while its own
# services start; StartService then fails with 1055 (ERROR_SERVICE_DATABASE_LOCKED) and the
# install rolls back. That is the test machine's state, not the product's: retry (bounded).
for attempt in 1 2 3 4 5; do
  WINEDEBUG=-all,err+msi wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/install.log")" \
    LISTEN_PORT="$listen_port" BACKEND="127.0.0.1:$echo_port" STATUS_PORT="$status_port" $msi_props >"$work/msiexec.out" 2>&1 || true
  grep -aq "(1055)" "$work/msiexec.out" || break
  echo "note: SCM database locked during install attempt $attempt; retrying"
  sleep 2
done
if wait_for 60 sc_state RUNNING; then pass "msiexec /i: service registered and RUNNING"; else fail "service not RUNNING after install"; cat "$work/sc.out"; fi
[[ -f "$progfiles/tlsbroker.exe" && -f "$progfiles/tlsbroker.man" && -f "$progfiles/grafana-dashboard.json" ]] &&
  pass "program files installed (exe, perf manifest, Grafana dashboard)" || fail "program files missing"
[[ -f "$progdata/tlsbroker.json" ]] && pass "default config written to ProgramData" || fail "no default config"
# The store certificate's steps run on every install; with a generated certificate they do nothing.
task="$WINEPREFIX/drive_c/windows/system32/tasks/tlsbroker/Grant key access"
grep -aq "GrantKeyAccess. Return value 1" "$work/install.log" &&
  grep -aq "RegisterKeyAccessTask. Return value 1" "$work/install.log" && [[ ! -e "$task" ]] &&
  pass "no store certificate: the key grant and renewal task steps pass and register nothing" ||
  fail "key grant / renewal task steps with a generated certificate"
grep -q "\"0.0.0.0:$listen_port\"" "$progdata/tlsbroker.json" && pass "config has this install's LISTEN_PORT" ||
  fail "config listen port: $(grep listen "$progdata/tlsbroker.json" | head -1)"
if wait_for 20 grep -q "perf counters: provider started" -s "$log"; then pass "perf counter provider started"; else fail "perf provider start not logged"; fi
grep -q "file ACL check skipped: this system (Wine) keeps no file ACLs" "$log" && pass "start: file ACL check reached (skipped under Wine)" ||
  fail "start: no file ACL check line"
[[ ! -e "$progdata/.install-created" ]] && pass "install committed (no rollback record left)" || fail "rollback record left after a good install"
svcctl_w qconfig tlsbroker >"$work/qconfig.out" 2>&1 || true
grep -qF 'account=NT SERVICE\tlsbroker ' "$work/qconfig.out" && pass 'service account NT SERVICE\tlsbroker' || fail "service account: $(cat "$work/qconfig.out")"
grep -q "preshutdown_ms=35000" "$work/qconfig.out" && pass "preshutdown timeout = drain 30 s + 5 s" || fail "preshutdown: $(cat "$work/qconfig.out")"
grep -aq "FirewallAdd" "$work/install.log" && pass "firewall rule action ran" || fail "no FirewallAdd in the install log"
# The Event Log catalog (service/README.md, "Event Log"): events by ID, category and strings.
if wait_for 10 has_event 100 1 $'^\t[0-9]+\.[0-9]+\.[0-9]+\t.*tlsbroker\.json$'; then
  pass "Event Log: 100 service started (version, config file)"
else
  fail "Event Log: no event 100 ($(events_of 100 | head -2))"
fi
if has_event 200 2 $'^\tsite\t0\.0\.0\.0:'"$listen_port"'$'; then
  pass "Event Log: 200 listener bound (site, 0.0.0.0:$listen_port)"
else
  fail "Event Log: no event 200 for site ($(events_of 200 | head -2))"
fi

# 2. TLS through the Windows broker, byte-exact.
head -c 1000000 /dev/urandom >"$work/payload"
openssl s_client -connect "127.0.0.1:$listen_port" -quiet <"$work/payload" >"$work/echo" 2>/dev/null &
client=$!
wait_for 30 test "$(stat -c %s "$work/echo" 2>/dev/null || echo 0)" -ge 1000000 || true
kill "$client" 2>/dev/null || true
if cmp -s "$work/payload" "$work/echo"; then pass "TLS relay byte-exact (1 MB)"; else fail "relay mismatch ($(stat -c %s "$work/echo") bytes back)"; fi

# 2a. A client that speaks no TLS: its handshake failure is logged (a per-client record).
{ exec 5<>"/dev/tcp/127.0.0.1/$listen_port" && printf 'GET / HTTP/1.0\r\n\r\nnot TLS' >&5; } 2>/dev/null || true
exec 5>&- 2>/dev/null || true
handshake_logged=0
wait_for 20 grep -q "handshake-error" -s "$log" && handshake_logged=1

# 3. PARAMCHANGE reloads the config. The new config also turns HTTP reload on (a reload
# token), for the POST /reload steps below.
sed -i 's/"name": "site"/"name": "site", "max_connections": 777/' "$progdata/tlsbroker.json"
reload_token=$(openssl rand -hex 24)
printf '%s\n' "$reload_token" >"$progdata/reload.token"
jq '.status.reload_token_file = "reload.token"' "$progdata/tlsbroker.json" >"$work/with-token.json"
cp "$work/with-token.json" "$progdata/tlsbroker.json"
auth="Authorization: Bearer $reload_token"
wine "$(winepath -w "$svcctl")" paramchange tlsbroker >"$work/svcctl.out" 2>&1 || true
if wait_for 20 grep -q "reload applied" -s "$log"; then pass "PARAMCHANGE reloaded the config"; else fail "no reload after PARAMCHANGE"; fi
if wait_for 10 has_event 300 3 $'^\t.*site@0\.0\.0\.0:'"$listen_port"; then
  pass "Event Log: 300 reload applied (the summary)"
else
  fail "Event Log: no event 300 ($(events_of 300 | head -2))"
fi
# The client that spoke no TLS (before the reload, so its events would be in by now).
if [[ "$handshake_logged" == 1 ]] && ! grep -aq "ReportEventW.*handshake-error" "$work/wineboot.log"; then
  pass "Event Log: a client's handshake failure stays out of it (log file only)"
else
  fail "Event Log: a client's handshake failure (logged: $handshake_logged) reached it or was not logged"
fi

# 3a. POST /reload (not PARAMCHANGE): perf counter instances follow the listeners.
extra_port=$(free_port)
jq --arg l "127.0.0.1:$extra_port" '.listeners += [.listeners[0] + {name: "extra", listen: $l}]' \
  "$progdata/tlsbroker.json" >"$work/two.json"
cp "$progdata/tlsbroker.json" "$work/one.json"
cp "$work/two.json" "$progdata/tlsbroker.json"
curl -s -H "$auth" -X POST "http://127.0.0.1:$status_port/reload" >"$work/reload1.out" 2>&1 || true
if wait_for 20 grep -q "perf counters: instance extra added" -s "$log"; then pass "POST /reload: perf instance of the added listener"; else fail "no perf instance for the added listener ($(cat "$work/reload1.out"))"; fi
cp "$work/one.json" "$progdata/tlsbroker.json"
# Reloads are taken at most once a second (429 until then): ask until it is taken.
wait_for 10 bash -c 'curl -s -o "$0" -w "%{http_code}" -H "$2" -X POST "$1" | grep -qv 429' "$work/reload2.out" \
  "http://127.0.0.1:$status_port/reload" "$auth" || true
if wait_for 20 grep -q "perf counters: instance extra removed" -s "$log"; then pass "POST /reload: perf instance of the removed listener deleted"; else fail "perf instance of the removed listener kept ($(cat "$work/reload2.out"))"; fi

# 3a'. A broken config through POST /reload is rejected: one event with every problem.
cp "$progdata/tlsbroker.json" "$work/good-reload.json"
echo '{ "listeners": [ { "listen": "nowhere" } ] }' >"$progdata/tlsbroker.json"
wait_for 10 bash -c 'curl -s -o "$0" -w "%{http_code}" -H "$2" -X POST "$1" | grep -qv 429' "$work/reload-bad.out" \
  "http://127.0.0.1:$status_port/reload" "$auth" || true
cp "$work/good-reload.json" "$progdata/tlsbroker.json"
if wait_for 10 has_event 301 3 $'^\t.*tlsbroker\.json\t[1-9][0-9]*\t.*/listeners/0/listen'; then
  pass "Event Log: 301 reload rejected (file, count, problems)"
else
  fail "Event Log: no event 301 ($(events_of 301 | head -2); $(cat "$work/reload-bad.out"))"
fi

# 3b. A major upgrade (same exe packaged as the next version) replaces the product, restarts
# the service and leaves the operator's config alone.
version=$(sed -n 's/^project(tlsbroker VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
next_version="${version%.*}.$((${version##*.} + 1))"
wixl -a x64 -D Version="$next_version" -D BinDir=build/windows/service -D SrcDir=. \
  -o "$work/upgrade.msi" installer/tlsbroker.wxs >/dev/null 2>&1
installer/finish-msi.sh "$work/upgrade.msi"
cp "$progdata/tlsbroker.json" "$work/before-upgrade.json"
WINEDEBUG=-all wine msiexec /i "$(winepath -w "$work/upgrade.msi")" /qn /l*v "$(winepath -w "$work/upgrade.log")" \
  $msi_props >"$work/msiexec-upgrade.out" 2>&1 || true
if wait_for 60 sc_state RUNNING && grep -aq "RemoveExistingProducts" "$work/upgrade.log"; then
  pass "major upgrade to $next_version: service RUNNING again"
else
  fail "major upgrade"
fi
cmp -s "$progdata/tlsbroker.json" "$work/before-upgrade.json" && pass "upgrade kept the config" || fail "upgrade changed the config"

# 3c. Another build of the same version replaces the installed one instead of installing beside it.
wixl -a x64 -D Version="$next_version" -D BinDir=build/windows/service -D SrcDir=. \
  -o "$work/rebuild.msi" installer/tlsbroker.wxs >/dev/null 2>&1
installer/finish-msi.sh "$work/rebuild.msi"
WINEDEBUG=-all wine msiexec /i "$(winepath -w "$work/rebuild.msi")" /qn /l*v "$(winepath -w "$work/rebuild.log")" \
  $msi_props >"$work/msiexec-rebuild.out" 2>&1 || true
wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s >"$work/uninstall-keys.out" 2>&1 || true
products=$(grep -ac "DisplayName.*TLS Broker" "$work/uninstall-keys.out" || true)
if wait_for 60 sc_state RUNNING && [[ "$products" == 1 ]]; then
  pass "same-version rebuild replaced the installed product (1 product registered)"
else
  fail "same-version rebuild: $products products registered"
fi
msi="$work/rebuild.msi"

# the installed product from here on is rebuild.msi
# 3d. A certificate close to expiry is warned about in the Event Log: the service's certificate
# is replaced by one valid for 5 more days and the config reloaded.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=tlsbroker \
  -keyout "$work/soon.key" -out "$work/soon.crt" >/dev/null 2>&1
cp "$work/soon.crt" "$progdata/server.crt"
cp "$work/soon.key" "$progdata/server.key"
wait_for 10 bash -c 'curl -s -o "$0" -w "%{http_code}" -H "$2" -X POST "$1" | grep -qv 429' "$work/reload3.out" \
  "http://127.0.0.1:$status_port/reload" "$auth" || true
# Event 400, category Certificate: listener, certificate, the threshold passed (7 days), not after.
if wait_for 20 has_event 400 4 $'^\tsite\t[^\t]*server\\.crt[^\t]*\t7\t[0-9]{4}-[0-9]{2}-[0-9]{2}T'; then
  pass "certificate expiring in 5 days: Event Log warning 400 (category Certificate) with its strings"
else
  fail "no Event Log warning for a certificate expiring in 5 days ($(cat "$work/reload3.out"))"
fi
# 4. sc stop drains an in-flight transfer, then STOPPED with exit code 0.
rm -f "$work/in"
mkfifo "$work/in"
head -c 4000000 /dev/urandom >"$work/big"
openssl s_client -connect "127.0.0.1:$listen_port" -quiet <"$work/in" >"$work/big.echo" 2>/dev/null &
client=$!
exec 3>"$work/in"
head -c 1000000 "$work/big" >&3
wait_for 30 test "$(stat -c %s "$work/big.echo" 2>/dev/null || echo 0)" -ge 1000000 || true
wine sc stop tlsbroker >"$work/stop.out" 2>&1 || true
tail -c +1000001 "$work/big" >&3
wait_for 60 test "$(stat -c %s "$work/big.echo" 2>/dev/null || echo 0)" -ge 4000000 || true
exec 3>&-
kill "$client" 2>/dev/null || true
if cmp -s "$work/big" "$work/big.echo"; then pass "in-flight transfer drained completely during stop"; else fail "transfer cut by stop"; fi
if wait_for 60 sc_state STOPPED; then pass "service STOPPED after drain"; else fail "service not STOPPED"; fi
wine "$(winepath -w "$svcctl")" query tlsbroker >"$work/query.out" 2>&1 || true
grep -q "win32_exit=0 specific_exit=0" "$work/query.out" && pass "exit code 0" || fail "exit code: $(cat "$work/query.out")"
if wait_for 10 has_event 101 1 $'^\t0$'; then pass "Event Log: 101 service stopped (exit code 0)"; else
  fail "Event Log: no event 101 ($(events_of 101 | head -2))"; fi

# 5. A broken config: the start fails with exit code 1 (config invalid) and says why.
cp "$progdata/tlsbroker.json" "$work/good.json"
echo '{ "listeners": [ { "listen": "nowhere" } ] }' >"$progdata/tlsbroker.json"
wine sc start tlsbroker >"$work/start.out" 2>&1 || true
wait_for 30 sc_state STOPPED || true
wine "$(winepath -w "$svcctl")" query tlsbroker >"$work/query.out" 2>&1 || true
grep -q "win32_exit=1066 specific_exit=1" "$work/query.out" && pass "broken config: exit code 1 (ERROR_SERVICE_SPECIFIC_ERROR)" ||
  fail "broken config exit code: $(cat "$work/query.out")"
grep -q "service not started (exit code 1).*/listeners/0/listen" "$log" && pass "broken config: log line names the problem" ||
  fail "broken config: no log line"
if wait_for 10 has_event 102 1 $'^\t1\t.*/listeners/0/listen'; then
  pass "broken config: Event Log 102 service start failed (exit code 1, the reason)"
else
  fail "broken config: no Event Log entry"
fi
cp "$work/good.json" "$progdata/tlsbroker.json"

# 6. Uninstall keeps the config.
wine msiexec /x "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/uninstall.log")" >"$work/msiexec-x.out" 2>&1 || true
if wait_for 30 sc_gone; then pass "service removed"; else fail "service still registered"; fi
[[ ! -e "$progfiles/tlsbroker.exe" ]] && pass "program files removed" || fail "program files left behind"
[[ -f "$progdata/tlsbroker.json" ]] && pass "config kept after uninstall" || fail "config removed by uninstall"

tests/windows/tls-posture.sh "$root/build/windows/service/tlsbroker.exe" || failures=$((failures + 1))  # TLS posture of the exe
tests/windows/cert-store.sh "$root/build/windows/service/tlsbroker.exe" "$msi" || failures=$((failures + 1))  # tls.certificate_store
echo "wine suite: $failures failure(s)"
exit $((failures > 0))
