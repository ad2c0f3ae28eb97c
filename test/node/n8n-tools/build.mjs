// `npm run build:node`: builds the n8n package with n8n's own `n8n-node build` (@n8n/node-cli, installed
// here on first use) in a scratch copy of the package (scratch.mjs says why not at the root), and puts its
// dist/ at the repository root: tsc with the package's tsconfig.json (the compiled nodes and credentials,
// the codex .node.json files), then the icons next to them.
// Usage: node test/node/n8n-tools/build.mjs  — exits with n8n-node build's code.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTools, root, runN8nNode } from './scratch.mjs';

ensureTools();
rmSync(join(root, 'dist'), { recursive: true, force: true });
process.exitCode = runN8nNode(['build'], { collect: (scratch) => cpSync(join(scratch, 'dist'), join(root, 'dist'), { recursive: true }) });
