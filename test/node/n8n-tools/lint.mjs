// Runs `n8n-node lint` (@n8n/node-cli, installed here) on what n8n verifies: package.json, tsconfig.json,
// nodes/ and credentials/ copied into a scratch directory with n8n's default eslint.config.mjs (strict
// mode asks for that file unchanged). At the repository root it would also lint worker/, emulator/,
// stripe-fake/ and test/, which are not part of the package.
// Usage: node test/node/n8n-tools/lint.mjs  — exits with n8n-node lint's code.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../../..');
const scratch = mkdtempSync(join(tmpdir(), 'keycrate-n8n-node-lint-'));
try {
	for (const entry of ['package.json', 'tsconfig.json', 'nodes', 'credentials']) cpSync(join(root, entry), join(scratch, entry), { recursive: true });
	writeFileSync(join(scratch, 'eslint.config.mjs'), "import { config } from '@n8n/node-cli/eslint';\n\nexport default config;\n");
	symlinkSync(join(here, 'node_modules'), join(scratch, 'node_modules'), 'dir');
	// Without npm's npm_* variables (set under npm test / npx) and NODE_ENV (jest sets it to "test", and
	// eslint-plugin-n8n-nodes-base then checks file names against a fixture's name instead of the file's).
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_ENV'));
	const run = spawnSync(join(here, 'node_modules/.bin/n8n-node'), ['lint'], { cwd: scratch, encoding: 'utf8', env: { ...env, FORCE_COLOR: '0', CI: 'true' } });
	process.stdout.write(stripVTControlCharacters(run.stdout ?? '').replaceAll(scratch, '.'));
	process.stderr.write(stripVTControlCharacters(run.stderr ?? '').replaceAll(scratch, '.'));
	process.exitCode = run.status ?? 1;
} finally {
	rmSync(scratch, { recursive: true, force: true });
}
