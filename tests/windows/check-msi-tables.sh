#!/usr/bin/env bash
# What the MSI declares, read from its tables with msitools (no Windows needed): the service
# account, the Defender Firewall rule added on install and deleted on uninstall, the
# failure-actions flag and recovery actions, delayed-auto start, the upgrade that replaces a
# same-version build, the secure public properties and their checks, every property in a
# command line quoted, no MSI-made folder in ProgramData, and the rollback/commit of the config
# step. Real Windows applies these; Wine cannot show most of them
# (WINDOWS.md), so this is where they are checked. Also the store certificate's properties
# and the key access step. Usage: check-msi-tables.sh MSI
set -uo pipefail
msi=$1
failures=0
pass() { echo "PASS: msi: $*"; }
fail() { echo "FAIL: msi: $*"; failures=$((failures + 1)); }
table() { msiinfo export "$msi" "$1" 2>/dev/null | tr -d '\r'; }
# row TABLE KEY: the row whose first column is KEY
row() { table "$1" | awk -F'\t' -v k="$2" '$1 == k'; }
# Field N of a row.
field() { cut -f"$1"; }
expect() {  # expect DESCRIPTION ACTUAL EXPECTED
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}
# A deferred (in-script, 0x400), not impersonated (0x800) custom action whose Return is checked
# (no 0x40) unless $3 says "ignore".
deferred() {
  local type=$(row CustomAction "$1" | field 2)
  local want_ignore=$(( ${3:-0} == 1 ? 64 : 0 ))
  if [[ -n "$type" ]] && (( (type & 0x400) && (type & 0x800) && (type & 0x300) == 0 && (type & 0x40) == want_ignore )); then
    pass "$2 is a deferred system action (type $type)"
  else
    fail "$2: custom action $1 has type '${type}'"
  fi
}
seq_of() { row InstallExecuteSequence "$1" | field 3; }
cond_of() { row InstallExecuteSequence "$1" | field 2; }

# Service account: a virtual account, no password.
expect "service runs as [SERVICE_ACCOUNT]" "$(row ServiceInstall Service | field 9)" "[SERVICE_ACCOUNT]"
expect "SERVICE_ACCOUNT defaults to the virtual account" "$(row Property SERVICE_ACCOUNT | field 2)" 'NT SERVICE\tlsbroker'
expect "no service password" "$(row ServiceInstall Service | field 10)" ""

# Firewall: add on install (property FIREWALL_RULE, default 1), delete before adding and on uninstall.
expect "FIREWALL_RULE defaults to 1" "$(row Property FIREWALL_RULE | field 2)" "1"
expect "netsh from System32" "$(row CustomAction SetNetshExe | field 4)" "[System64Folder]netsh.exe"
expect "firewall rule added for tlsbroker.exe" "$(row CustomAction FirewallAdd | field 4)" \
  'advfirewall firewall add rule name="TLS Broker" dir=in action=allow program="[INSTALLDIR]tlsbroker.exe" enable=yes profile=any'
deferred FirewallAdd "firewall add"
expect "firewall add only when FIREWALL_RULE=1" "$(cond_of FirewallAdd)" 'NOT REMOVE AND FIREWALL_RULE="1"'
expect "firewall rule deleted" "$(row CustomAction FirewallRemove | field 4)" 'advfirewall firewall delete rule name="TLS Broker"'
deferred FirewallRemove "firewall delete" 1
[[ "$(cond_of FirewallRemove)" == *'REMOVE="ALL"'* ]] && pass "firewall delete runs on uninstall" || fail "firewall delete condition: $(cond_of FirewallRemove)"
(($(seq_of FirewallAdd) > $(seq_of InstallServices) && $(seq_of FirewallAdd) < $(seq_of StartServices))) &&
  pass "firewall rule in place before the service starts" || fail "FirewallAdd sequence $(seq_of FirewallAdd)"

# Restarts that really happen: recovery actions and the failure-actions flag; delayed start.
expect "recovery actions" "$(row CustomAction ServiceRecovery | field 4)" \
  "failure tlsbroker reset= 86400 actions= restart/5000/restart/10000/restart/60000"
expect "failure-actions flag (non-crash failures restart too)" "$(row CustomAction ServiceFailureFlag | field 4)" "failureflag tlsbroker 1"
expect "delayed-auto start" "$(row CustomAction ServiceDelayedStart | field 4)" "config tlsbroker start= delayed-auto"
expect "service SID unrestricted" "$(row CustomAction ServiceSidType | field 4)" "sidtype tlsbroker unrestricted"
expect "required privileges only" "$(row CustomAction ServicePrivileges | field 4)" "privs tlsbroker SeChangeNotifyPrivilege/SeCreateGlobalPrivilege"
for a in ServiceRecovery ServiceFailureFlag ServiceDelayedStart ServiceSidType ServicePrivileges; do
  deferred "$a" "$a"
  (($(seq_of "$a") > $(seq_of InstallServices) && $(seq_of "$a") < $(seq_of StartServices))) || fail "$a sequence $(seq_of "$a")"
done
expect "preshutdown timeout from the config" "$(row CustomAction ServicePreshutdown | field 4)" \
  '--configure-service "[CommonAppDataFolder]tlsbroker"'
expect "service start type in ServiceInstall: auto (made delayed by sc)" "$(row ServiceInstall Service | field 5)" "2"

# The config step: every property quoted, the config folder made by the exe, not by the MSI
# (CreateFolders and LockPermissions would follow a junction a user left there).
expect "config step's command line" "$(row CustomAction WriteDefaultConfig | field 4)" \
  '--write-default-config "[CommonAppDataFolder]tlsbroker" --listen-port "[LISTEN_PORT]" --backend "[BACKEND]" --status-port "[STATUS_PORT]" --cert-thumbprint "[CERT_THUMBPRINT]" --cert-subject "[CERT_SUBJECT]" --cert-store "[CERT_STORE]"'
deferred WriteDefaultConfig "config step"
# A store certificate (CERT_THUMBPRINT or CERT_SUBJECT): its key made readable by the service's
# account, after the service exists (the exe asks the SCM for the account), before it starts.
expect "CERT_STORE defaults to LocalMachine\My" "$(row Property CERT_STORE | field 2)" 'LocalMachine\My'
expect "key access step's command line" "$(row CustomAction GrantKeyAccess | field 4)" \
  '--grant-key-access "[CommonAppDataFolder]tlsbroker\tlsbroker.json"'
deferred GrantKeyAccess "key access step"
expect "key access on every install, repair and upgrade (the config decides)" "$(cond_of GrantKeyAccess)" 'NOT REMOVE'
(($(seq_of GrantKeyAccess) > $(seq_of InstallServices) && $(seq_of GrantKeyAccess) < $(seq_of StartServices))) &&
  pass "key access granted between the service's install and its start" || fail "GrantKeyAccess sequence $(seq_of GrantKeyAccess)"
expect "renewal task step's command line" "$(row CustomAction RegisterKeyAccessTask | field 4)" \
  '--register-key-access-task "[CommonAppDataFolder]tlsbroker\tlsbroker.json"'
deferred RegisterKeyAccessTask "renewal task step"
expect "renewal task on every install, repair and upgrade (the config decides)" "$(cond_of RegisterKeyAccessTask)" 'NOT REMOVE'
(($(seq_of RegisterKeyAccessTask) > $(seq_of GrantKeyAccess) && $(seq_of RegisterKeyAccessTask) < $(seq_of StartServices))) &&
  pass "renewal task registered after the grant, before the start" || fail "RegisterKeyAccessTask sequence"
expect "renewal task removed" "$(row CustomAction RemoveKeyAccessTask | field 4)" '/Delete /TN "tlsbroker\Grant key access" /F'
deferred RemoveKeyAccessTask "renewal task removal" 1
expect "renewal task removed on uninstall" "$(cond_of RemoveKeyAccessTask)" 'REMOVE="ALL"'

expect "STATUS_PORT defaults to 8417 (9100 is node_exporter's)" "$(row Property STATUS_PORT | field 2)" "8417"
in_programdata=$(table Directory | awk -F'\t' 'NR > 3 && $2 == "CommonAppDataFolder" { print $1 }')
[[ -z "$in_programdata" ]] && pass "the MSI creates no folder in ProgramData (the exe does, refusing a junction)" ||
  fail "MSI folders in ProgramData: $in_programdata"
for t in LockPermissions MsiLockPermissionsEx; do
  [[ -z "$(table "$t" | awk 'NR > 3')" ]] && pass "no $t rows (no ACL set by path)" || fail "$t has rows"
done

# Quoting: in every command line the MSI runs (custom action types 2 (exe) with a file or
# property source: 18, 34, 50), each [PROPERTY] sits inside double quotes, so that no value
# can add arguments. (Values cannot end the quotes: the launch conditions refuse '"' and '\'.)
unquoted=$(table CustomAction | awk -F'\t' 'NR > 3 && $2 % 8 == 2 {
    q = 0
    for (i = 1; i <= length($4); i++) {
      c = substr($4, i, 1)
      if (c == "\"") q = !q
      else if (c == "[" && !q) { print $1 ": " $4; break }
    }
  }')
[[ -z "$unquoted" ]] && pass "every property in a command line is quoted" || fail "unquoted property: $unquoted"

# Checks: each property a command line names is a folder the installer sets or has a launch
# condition; so has each secure property (a non-admin may pass those to an elevated install or
# a repair, whose deferred actions run as SYSTEM).
conditions=$(table LaunchCondition | awk -F'\t' 'NR > 3 { print $1 }')
checked() { grep -q "\b$1\b" <<<"$conditions"; }
named=$(table CustomAction | awk -F'\t' 'NR > 3 && $2 % 8 == 2 { print $4 }' | grep -o '\[[A-Za-z_0-9]*\]' | tr -d '[]' | sort -u)
for p in $named; do
  case $p in CommonAppDataFolder | INSTALLDIR) continue ;; esac
  checked "$p" && pass "command-line property $p has a launch condition" || fail "$p reaches a command line unchecked"
done
secure_props=$(row Property SecureCustomProperties | field 2 | tr ';' '\n' | grep -v '^WIX_')
for p in $secure_props; do
  checked "$p" && pass "secure property $p has a launch condition" || fail "secure property $p is not checked"
done
[[ ";$(row Property SecureCustomProperties | field 2);" != *";SC_CONFIGURE;"* ]] &&
  pass "SC_CONFIGURE (test systems) is not a secure property" || fail "SC_CONFIGURE is a secure property"
for p in LISTEN_PORT STATUS_PORT BACKEND CERT_THUMBPRINT CERT_SUBJECT CERT_STORE; do
  msg=$(table LaunchCondition | awk -F'\t' -v p="$p" 'NR > 3 && index($1, p) && index($2, p " must") == 1 { print $2 }')
  [[ "$msg" == "$p must be"* ]] && pass "a bad $p fails with: $msg" || fail "no message for a bad $p: '$msg'"
done

# Event Log source: messages and categories from the exe (service/README.md, "Event Log").
evreg() { table Registry | awk -F'\t' -v n="$1" '$3 ~ /EventLog\\Application\\tlsbroker\\?$/ && $4 == n { print $5 }'; }
expect "Event Log messages from the exe" "$(evreg EventMessageFile)" "[#tlsbroker.exe]"
expect "Event Log categories from the exe" "$(evreg CategoryMessageFile)" "[#tlsbroker.exe]"
expect "Event Log category count" "$(evreg CategoryCount)" "#7"

expect "Grafana dashboard installed beside the exe" "$(row File grafana.json | field 3 | sed 's/.*|//')" "grafana-dashboard.json"

# Upgrades, properties, rollback of the config step.
upgrade_attrs=$(table Upgrade | awk -F'\t' '$7 == "WIX_UPGRADE_DETECTED" { print $5 }')
((upgrade_attrs & 512)) && pass "same-version builds replace each other (VersionMaxInclusive)" || fail "Upgrade attributes '$upgrade_attrs'"
secure=$(row Property SecureCustomProperties | field 2)
for p in LISTEN_PORT BACKEND STATUS_PORT FIREWALL_RULE CERT_THUMBPRINT CERT_SUBJECT CERT_STORE; do
  [[ ";$secure;" == *";$p;"* ]] && pass "$p is a secure property" || fail "$p not in SecureCustomProperties '$secure'"
done
expect "config rollback action" "$(row CustomAction RollbackConfig | field 2)" "3410"
expect "config commit action" "$(row CustomAction CommitConfig | field 2)" "3666"
(($(seq_of RollbackConfig) < $(seq_of WriteDefaultConfig))) && pass "rollback scheduled before the config step" || fail "RollbackConfig sequence"

echo "msi tables: $failures failure(s)"
exit $((failures > 0))
