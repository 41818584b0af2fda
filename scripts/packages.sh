# ensure_packages PKG...: installs the Debian packages that are not installed yet (apt-get,
# through sudo unless root). Sourced by the build and test scripts; progress goes to stderr,
# so that a script's stdout stays its own. Returns 0 when everything is present.
ensure_packages() {
  local p missing=() sudo_cmd=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "installing: ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}
