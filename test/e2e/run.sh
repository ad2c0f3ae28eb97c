#!/usr/bin/env bash
# Real-n8n end-to-end for the Keycrate package, on every n8n runtime under test/e2e/n8n-runtimes/.
#
#   1. installs each n8n runtime (pinned by n8n-runtimes/<name>/package-lock.json) into a cache dir outside
#      the repo, once; later runs reuse it while that lockfile is unchanged (runtimes.sh);
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
# shellcheck source=test/e2e/runtimes.sh
source "$repo_dir/test/e2e/runtimes.sh"

# shellcheck disable=SC2207
runtimes=(${KEYCRATE_E2E_RUNTIMES:-$(all_runtimes)})
ensure_runtimes "${runtimes[@]}"

prepare_work keycrate-e2e

failed=()
for name in "${runtimes[@]}"; do
  version=$(runtime_version "$name")
  log "suite on n8n $version"
  started=$(now)
  if KEYCRATE_E2E_WORK_DIR="$work_dir/n8n-$version" with_runtime "$name" npx jest --config test/e2e/jest.config.js "$@"; then
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
