#!/usr/bin/env bash
# What the MSI declares, read from its tables with msitools (no Windows needed): the service
# account, the Defender Firewall rule added on install and deleted on uninstall, the
# failure-actions flag and recovery actions, delayed-auto start, the config folder's ACL, the
# upgrade that replaces a same-version build, the secure public properties, and the
# rollback/commit of the config step. Real Windows applies these; Wine cannot show most of them
# (WINDOWS.md), so this is where they are checked. Usage: check-msi-tables.sh MSI
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

# The config folder's ACL.
sddl=$(row MsiLockPermissionsEx ConfigFolderAcl | field 4)
expect "config folder ACL declared" "$(row MsiLockPermissionsEx ConfigFolderAcl | field 2,3)" "CONFIGDIR	CreateFolder"
[[ "$sddl" == 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;S-1-5-80-3389149322-156385897-3899048194-4045368500-1589726293)'* ]] &&
  pass "config folder: protected, SYSTEM/Administrators full, NT SERVICE\\tlsbroker read" || fail "config folder SDDL '$sddl'"
expect "config folder is ProgramData\\tlsbroker" "$(row Directory CONFIGDIR | field 2,3)" "CommonAppDataFolder	tlsbroker"

# Upgrades, properties, rollback of the config step.
upgrade_attrs=$(table Upgrade | awk -F'\t' '$7 == "WIX_UPGRADE_DETECTED" { print $5 }')
((upgrade_attrs & 512)) && pass "same-version builds replace each other (VersionMaxInclusive)" || fail "Upgrade attributes '$upgrade_attrs'"
secure=$(row Property SecureCustomProperties | field 2)
for p in LISTEN_PORT BACKEND STATUS_PORT FIREWALL_RULE; do
  [[ ";$secure;" == *";$p;"* ]] && pass "$p is a secure property" || fail "$p not in SecureCustomProperties '$secure'"
done
expect "config rollback action" "$(row CustomAction RollbackConfig | field 2)" "3410"
expect "config commit action" "$(row CustomAction CommitConfig | field 2)" "3666"
(($(seq_of RollbackConfig) < $(seq_of WriteDefaultConfig))) && pass "rollback scheduled before the config step" || fail "RollbackConfig sequence"

echo "msi tables: $failures failure(s)"
exit $((failures > 0))
