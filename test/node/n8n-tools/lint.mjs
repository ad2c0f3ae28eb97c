// Runs `n8n-node lint` (@n8n/node-cli, installed here) on what n8n verifies, in a scratch copy of the package
// (scratch.mjs) with n8n's default eslint.config.mjs (strict mode asks for that file unchanged).
// Usage: node test/node/n8n-tools/lint.mjs  — exits with n8n-node lint's code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { here, runN8nNode } from './scratch.mjs';

process.exitCode = runN8nNode(['lint'], {
	nodeModules: join(here, 'node_modules'),
	prepare: (scratch) => writeFileSync(join(scratch, 'eslint.config.mjs'), "import { config } from '@n8n/node-cli/eslint';\n\nexport default config;\n"),
});
