# Debian source packages for scripts/build-windows-deps.sh (sourced; needs say, die, sudo_cmd
# and root from the caller).
# - ensure_deb_src bookworm: one deb-src entry in the system's apt per existing `deb` entry for
#   bookworm* main (same host, same keyring), security suite included, so the sources carry the
#   same fixes as the installed packages. Left alone when another file already provides them.
# - private_apt CODENAME: the source packages of another release (trixie: OpenSSL 3.5) through
#   a private apt configuration under the cache root: the same hosts and keyring with the suite
#   renamed (bookworm → CODENAME, -updates, -security), its own index, refreshed once a day.
#   The system's apt never sees it, so nothing else on the machine picks up another release's
#   sources or packages. Sets apt_opts for apt-get/apt-cache.

# The file of CODENAME's entries (bookworm keeps the name it always had).
deb_src_file() {
  if [[ $1 == bookworm ]]; then echo /etc/apt/sources.list.d/tlsbroker-deb-src.sources
  else echo "/etc/apt/sources.list.d/tlsbroker-deb-src-$1.sources"; fi
}

# The deb822 text of the bookworm main `deb` entries as deb-src entries.
bookworm_src_entries() {
  local f own=/etc/apt/sources.list.d/tlsbroker-deb-src
  # One-line format: deb [opts] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk '
      { sub(/#.*/, "") }
      $1 == "deb" {
        i = 2; opts = ""
        if ($i ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) break; i++ } i++ }
        uri = $i; suite = $(i + 1); main = 0
        for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
        if (suite !~ /^bookworm/ || !main) next
        signed = ""
        if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n", uri, suite
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }' "$f"
  done
  # deb822 format (our own deb-src files are not `deb` entries and are skipped).
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$own"*.sources ]] || continue
    awk '
      function flush(   n, s, i, suites) {
        if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled !~ /^[Nn]o/) {
          n = split(suitesraw, s, " "); suites = ""
          for (i = 1; i <= n; i++) if (s[i] ~ /^bookworm/) suites = suites (suites == "" ? "" : " ") s[i]
          if (suites != "") {
            printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n", uris, suites
            if (signed != "") printf "Signed-By:%s\n", signed
            printf "\n"
          }
        }
        types = uris = suitesraw = comps = signed = enabled = ""; last = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (last == "signed-by") signed = signed "\n" $0; next }
      {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        last = key; sub(/^[ \t]+/, "", val)
        if (key == "types") types = val; else if (key == "uris") uris = val
        else if (key == "suites") suitesraw = val; else if (key == "components") comps = val
        else if (key == "enabled") enabled = val
        else if (key == "signed-by") signed = (val == "" ? "" : " " val)
      }
      END { flush() }' "$f"
  done
}

# Whether a file other than ours already has deb-src entries for CODENAME main.
others_have_src() {
  local code=$1 f own
  own=$(deb_src_file "$code")
  grep -hsE "^[[:space:]]*deb-src[[:space:]].*[[:space:]]$code[[:space:]-].*[[:space:]]main" \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list >/dev/null && return 0
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$own" ]] || continue
    grep -qiE '^Types:.*deb-src' "$f" && grep -qiE "^Suites:.*([[:space:]]|:)$code([[:space:]-]|$)" "$f" && return 0
  done
  return 1
}

ensure_deb_src() {
  local code=$1 file want
  file=$(deb_src_file "$code")
  others_have_src "$code" && return 0
  want=$(bookworm_src_entries | sed "/^Suites:/ s/bookworm/$code/g")
  [[ -n $want ]] || die "no 'deb' entry for bookworm main found in /etc/apt/sources.list{,.d/}"
  if [[ ! -f $file ]] || [[ "$(cat "$file")" != "$want" ]]; then
    say "writing $file (deb-src for $code, from the bookworm main entries) and running apt-get update"
    printf '%s\n' "$want" | "${sudo_cmd[@]}" tee "$file" >/dev/null
    "${sudo_cmd[@]}" apt-get update -qq >&2
  fi
}

private_apt() {
  local code=$1 dir="$root/apt-$1" want
  want=$(bookworm_src_entries | sed "/^Suites:/ s/bookworm/$code/g")
  [[ -n $want ]] || die "no 'deb' entry for bookworm main found in /etc/apt/sources.list{,.d/}"
  mkdir -p "$dir/parts" "$dir/lists/partial" "$dir/cache"
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$dir/parts"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  if [[ "$(cat "$dir/parts/$code.sources" 2>/dev/null)" != "$want" ]] ||
    [[ -z $(find "$dir/lists" -maxdepth 1 -name '*_Sources*' -mmin -1440 2>/dev/null) ]]; then
    printf '%s\n' "$want" >"$dir/parts/$code.sources"
    say "refreshing the private index of $code source packages ($dir)"
    apt-get "${apt_opts[@]}" update -qq >&2 || die "apt-get update of the private $code index failed"
  fi
}
