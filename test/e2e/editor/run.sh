#!/usr/bin/env bash
# The Keycrate package in n8n's editor, in headless Chromium: screenshots and a report of what the nodes
# panel and each operation's panel show (screenshots.ts). Not part of CI; re-run after changing the node.
#
#   npm run e2e:screenshots              # n8n 2.x (test/e2e/n8n-runtimes/n8n-2)
#   npm run e2e:screenshots -- n8n-1     # another runtime
#
# Needs Debian's Chromium (apt-get install -y chromium) at /usr/bin/chromium, or KEYCRATE_E2E_CHROMIUM.
# playwright-core comes from test/e2e/editor/package-lock.json (installed here, not in the root package).
# Env: KEYCRATE_E2E_CACHE, KEYCRATE_E2E_KEEP=1 (keeps the n8n user folder and server log).
set -euo pipefail

repo_dir=$(cd "$(dirname "$0")/../../.." && pwd)
editor_dir="$repo_dir/test/e2e/editor"
# shellcheck source=test/e2e/runtimes.sh
source "$repo_dir/test/e2e/runtimes.sh"

runtime=${1:-n8n-2}
chromium=${KEYCRATE_E2E_CHROMIUM:-/usr/bin/chromium}
[[ -x "$chromium" ]] || { log "no Chromium at $chromium: apt-get install -y chromium (or set KEYCRATE_E2E_CHROMIUM)"; exit 1; }

ensure_runtimes "$runtime"
editor_lock_hash=$(sha256sum <"$editor_dir/package-lock.json" | cut -d' ' -f1)
if [[ "$(cat "$editor_dir/node_modules/.installed" 2>/dev/null)" != "$editor_lock_hash" ]]; then
  (cd "$editor_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$editor_lock_hash" >"$editor_dir/node_modules/.installed"
fi

prepare_work keycrate-editor
KEYCRATE_E2E_WORK_DIR="$work_dir" KEYCRATE_E2E_CHROMIUM="$chromium" with_runtime "$runtime" npx tsx "$editor_dir/screenshots.ts"
