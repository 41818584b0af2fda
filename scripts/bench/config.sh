# The broker config every benchmark, soak and the demo write (sourced by lib.sh; needs python3,
# which scripts/install-deps.sh installs).
#
# broker_config FILE --name NAME --listen PORT --backend PORT [--status PORT] [--cert C --key K]
#               [OVERRIDE...]
# writes one listener NAME on 127.0.0.1:PORT in front of 127.0.0.1:BACKEND (certificate C and key
# K, default server.crt and server.key, relative to FILE), 2 threads, log level warning into
# tlsbroker.log and the status endpoint on 127.0.0.1:STATUS (no "status" key without --status).
# Then each OVERRIDE, left to right, changes that document:
#   path=VALUE  sets the value at a dotted path (a number indexes an array: listeners.0.backlog);
#               VALUE is JSON when it parses as JSON (1024, true, {"enabled": false}), else a
#               string (127.0.0.1:19446); a whole object set this way replaces the old one.
#   {...}       a JSON object deep-merged into the document: objects merge key by key, arrays
#               element by element (extra elements are appended), anything else replaces.
# In both, null removes the key. A script keeps only what differs from the common part:
#   broker_config "$out/tlsbroker.json" --name site --listen 19453 --status 19110 --backend 19010 \
#     listeners.0.backlog=1024 'watchdog={"enabled": true, "on_unrecoverable": "report"}'
broker_config() {
  python3 - "$@" <<'PY'
import json
import sys


def fail(message):
    sys.exit("broker_config: " + message)


def value_of(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def merge(into, patch):
    if isinstance(into, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            if value is None:
                into.pop(key, None)
            elif key in into:
                into[key] = merge(into[key], value)
            else:
                into[key] = value
        return into
    if isinstance(into, list) and isinstance(patch, list):
        for i, value in enumerate(patch):
            if i < len(into):
                into[i] = merge(into[i], value)
            else:
                into.append(value)
        return into
    return patch


def set_path(doc, path, value):
    keys = path.split(".")
    node = doc
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) > len(node):
                fail(f"{path}: {where} is not an index of that array (it has {len(node)} elements)")
            index = int(key)
            if last:
                if value is None:
                    node.pop(index)
                elif index == len(node):
                    node.append(value)
                else:
                    node[index] = value
                return
            if index == len(node):
                node.append({})
            node = node[index]
        elif isinstance(node, dict):
            if last:
                if value is None:
                    node.pop(key, None)
                else:
                    node[key] = value
                return
            node = node.setdefault(key, {})
        else:
            fail(f"{path}: {'.'.join(keys[:depth])} is not an object or an array")


args = sys.argv[1:]
if not args or args[0].startswith("-"):
    fail("usage: broker_config FILE --name NAME --listen PORT --backend PORT [--status PORT] "
         "[--cert C] [--key K] [OVERRIDE...]")
file, args = args[0], args[1:]
opts = {"--cert": "server.crt", "--key": "server.key"}
while args and args[0] in ("--name", "--listen", "--backend", "--status", "--cert", "--key"):
    if len(args) < 2:
        fail(args[0] + " needs a value")
    opts[args[0]] = args[1]
    args = args[2:]
for required in ("--name", "--listen", "--backend"):
    if required not in opts:
        fail(required + " is missing")

doc = {"threads": 2, "log": {"level": "warning", "file": "tlsbroker.log"}}
if "--status" in opts:
    doc["status"] = {"listen": "127.0.0.1:" + opts["--status"]}
doc["listeners"] = [{
    "name": opts["--name"],
    "listen": "127.0.0.1:" + opts["--listen"],
    "tls": {"certificate": opts["--cert"], "private_key": opts["--key"]},
    "backend": {"address": "127.0.0.1:" + opts["--backend"]},
}]
for override in args:
    if override.startswith("{"):
        try:
            patch = json.loads(override)
        except ValueError as e:
            fail(f"{override}: not JSON ({e})")
        if not isinstance(patch, dict):
            fail(f"{override}: not a JSON object")
        merge(doc, patch)
    elif "=" in override:
        path, _, text = override.partition("=")
        set_path(doc, path, value_of(text))
    else:
        fail(f"{override}: neither path=VALUE nor a JSON object")
with open(file, "w") as out:
    json.dump(doc, out, indent=2)
    out.write("\n")
PY
}
