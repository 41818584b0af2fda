#!/usr/bin/env bash
# What wixl cannot express, written into the MSI it built (msitools' msibuild), then checked:
#  - Upgrade: the "upgrade" row includes its maximum version, so that installing a build of
#    the same version replaces the installed one instead of installing beside it.
#  - SecureCustomProperties: the public properties an elevated (per-machine) install passes
#    from the client to the server side; without it a managed install drops them. A non-admin
#    may pass these to an elevated install or a repair: each is checked by a launch condition
#    (tlsbroker.wxs). SC_CONFIGURE, a knob for test systems, is left out: only an
#    administrator's own command line can skip the service settings.
#  - CustomAction: RollbackConfig and CommitConfig become rollback and commit actions (wixl
#    writes Execute="rollback"/"commit" as immediate ones).
# Usage: installer/finish-msi.sh MSI
set -euo pipefail
msi=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# msiinfo exports tables with CRLF line ends; msibuild imports them the same way.
msiinfo export "$msi" Upgrade | tr -d '\r' |
  awk -F'\t' 'BEGIN { OFS = "\t"; ORS = "\r\n" }
    NR > 3 && $7 == "WIX_UPGRADE_DETECTED" && int($5 / 512) % 2 == 0 { $5 += 512 }  # VersionMaxInclusive
    { print }' >"$tmp/Upgrade.idt"
msibuild "$msi" -i "$tmp/Upgrade.idt"

secure="WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;LISTEN_PORT;BACKEND;STATUS_PORT;FIREWALL_RULE;SERVICE_ACCOUNT;CERT_THUMBPRINT;CERT_SUBJECT;CERT_STORE"
msibuild "$msi" -q "UPDATE Property SET Value='$secure' WHERE Property='SecureCustomProperties'"

# Type 18 (exe from an installed file) | 0x40 return ignored | 0x800 no impersonation |
# 0x400 in script | 0x100 rollback / 0x200 commit.
msibuild "$msi" -q "UPDATE CustomAction SET Type=3410 WHERE Action='RollbackConfig'"
msibuild "$msi" -q "UPDATE CustomAction SET Type=3666 WHERE Action='CommitConfig'"

# Check that each change is in the tables.
fail() { echo "finish-msi: $*" >&2; exit 1; }
msiinfo export "$msi" Upgrade | tr -d '\r' | awk -F'\t' '$7 == "WIX_UPGRADE_DETECTED" && int($5 / 512) % 2 == 1 { ok = 1 } END { exit !ok }' ||
  fail "Upgrade row without VersionMaxInclusive"
msiinfo export "$msi" Property | tr -d '\r' | grep -qx "SecureCustomProperties	$secure" || fail "SecureCustomProperties not set"
msiinfo export "$msi" CustomAction | tr -d '\r' | grep -q "^RollbackConfig	3410	" || fail "RollbackConfig is not a rollback action"
msiinfo export "$msi" CustomAction | tr -d '\r' | grep -q "^CommitConfig	3666	" || fail "CommitConfig is not a commit action"
