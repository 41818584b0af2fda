#!/usr/bin/env bash
# Checks the Markdown docs: every relative link names a file that exists and, with a #anchor,
# a heading of that file (GitHub's anchor rules: lower case, punctuation dropped, spaces to
# dashes); and README.md stays within 250 lines. Needs python3; takes well under a second.
# Usage: scripts/check-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python3 - <<'PY'
import os, re, subprocess, sys

def anchors(path):
    seen, out, fence = {}, set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        m = re.match(r"^#{1,6} (.*?)\s*#*\s*$", line)
        if not m:
            continue
        a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else f"{a}-{n}")
    return out

files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.md"],
                       capture_output=True, text=True, check=True).stdout.split()
problems = []
for f in files:
    if not os.path.exists(f):
        continue
    fence = False
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            if not os.path.exists(dest):
                problems.append(f"{f}:{n}: {target}: no such file")
            elif anchor and (os.path.isdir(dest) or anchor not in anchors(dest)):
                problems.append(f"{f}:{n}: {target}: no heading #{anchor} in {dest}")
lines = sum(1 for _ in open("README.md", encoding="utf-8"))
if lines > 250:
    problems.append(f"README.md: {lines} lines, more than 250 (move the detail to the doc it belongs to)")
print("\n".join(problems) if problems else f"docs: {len(files)} files, every relative link resolves")
sys.exit(1 if problems else 0)
PY
