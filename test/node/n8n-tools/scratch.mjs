// What n8n verifies of this repository, copied into a scratch directory for n8n's own tools (n8n-node build
// and lint): package.json, tsconfig.json, nodes/ and credentials/ (and openapi/, whose keycrate.d.ts the nodes
// import types from), with node_modules linked to the
// repository's (its typescript and n8n-workflow). At the repository root n8n-node would also take in worker/,
// emulator/, stripe-fake/, docs/ and test/, which are not part of the package: `build` copies every .png and
// .svg it finds outside the top-level dist/ and node_modules/ into dist/, `lint` lints every file.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

export const here = fileURLToPath(new URL('.', import.meta.url));
export const root = join(here, '../../..');

/** Runs `n8n-node <args>` in a scratch copy of the package; `prepare(dir)` adds files first, `collect(dir)` reads results. */
export function runN8nNode(args, { prepare = () => {}, collect = () => {}, nodeModules = join(root, 'node_modules') } = {}) {
	const scratch = mkdtempSync(join(tmpdir(), `keycrate-n8n-node-${args[0]}-`));
	try {
		for (const entry of ['package.json', 'tsconfig.json', 'nodes', 'credentials', 'openapi'])
			cpSync(join(root, entry), join(scratch, entry), { recursive: true });
		symlinkSync(nodeModules, join(scratch, 'node_modules'), 'dir');
		prepare(scratch);
		// Without npm's npm_* variables (set under npm run / npx: n8n-node reads the package manager from them)
		// and NODE_ENV (jest sets it to "test", and eslint-plugin-n8n-nodes-base then checks file names against
		// a fixture's name instead of the file's).
		const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_ENV'));
		const run = spawnSync(join(here, 'node_modules/.bin/n8n-node'), args, { cwd: scratch, encoding: 'utf8', env: { ...env, FORCE_COLOR: '0', CI: 'true' } });
		const clean = (text) => stripVTControlCharacters(text ?? '').replaceAll(scratch, '.');
		process.stdout.write(clean(run.stdout));
		process.stderr.write(clean(run.stderr));
		if (run.error) process.stderr.write(`${run.error.message}\n`);
		if (run.status === 0) collect(scratch);
		return run.status ?? 1;
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}

/** Installs n8n's tools here (npm ci --ignore-scripts: see package.json) unless they are. */
export function ensureTools() {
	if (existsSync(join(here, 'node_modules/@n8n/node-cli/package.json'))) return;
	const install = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
	if (install.status !== 0) throw new Error(`npm ci --ignore-scripts in ${here} failed`);
}
