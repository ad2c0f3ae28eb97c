import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeType, ICredentialType } from 'n8n-workflow';

import { describeOperations } from './describe-operations';

const root = join(__dirname, '../..');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	dependencies?: Record<string, string>;
	engines: Record<string, string>;
	n8n: { nodes: string[]; credentials: string[] };
};

/** What n8n loads: the compiled files listed under "n8n" in package.json (npm run build:node). */
describe('the built package', () => {
	const nodePath = packageJson.n8n.nodes.find((path) => path.endsWith('/Keycrate.node.js'))!;
	const [credentialPath] = packageJson.n8n.credentials;

	beforeAll(() => {
		if (!existsSync(join(root, nodePath))) throw new Error(`${nodePath} is missing: run npm run build:node first`);
	});

	it('lists the 23 operations (22 endpoints) with the same parameters as the source', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { Keycrate } = require(join(root, nodePath)) as { Keycrate: new () => INodeType };
		const built = new Keycrate().description;
		const operations = built.properties
			.filter((p) => p.name === 'operation')
			.flatMap((p) => (p.options ?? []).map((o) => `${(p.displayOptions?.show?.resource as string[])[0]}.${'value' in o ? o.value : ''}`));
		expect(operations).toHaveLength(23);
		expect(operations.sort()).toEqual(
			Object.entries(describeOperations())
				.flatMap(([resource, ops]) => Object.keys(ops).map((op) => `${resource}.${op}`))
				.sort(),
		);
		expect(built.usableAsTool).toBe(true);
		expect(existsSync(join(root, 'dist/nodes/Keycrate/keycrate.svg'))).toBe(true);
		expect(existsSync(join(root, 'dist/nodes/Keycrate/Keycrate.node.json'))).toBe(true);
	});

	it('registers the Keycrate Trigger as a polling node', () => {
		const triggerPath = packageJson.n8n.nodes.find((path) => path.endsWith('KeycrateTrigger.node.js'));
		expect(triggerPath).toBeDefined();
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { KeycrateTrigger } = require(join(root, triggerPath!)) as { KeycrateTrigger: new () => INodeType };
		expect(new KeycrateTrigger().description).toMatchObject({ name: 'keycrateTrigger', polling: true, inputs: [] });
		expect(existsSync(join(root, 'dist/nodes/Keycrate/KeycrateTrigger.node.json'))).toBe(true);
	});

	it('registers the Keycrate Worker node and its credential, with icon and codex', () => {
		const workerPath = packageJson.n8n.nodes.find((path) => path.endsWith('/KeycrateWorker.node.js'));
		const credential = packageJson.n8n.credentials.find((path) => path.endsWith('/KeycrateWorkerApi.credentials.js'));
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { KeycrateWorker } = require(join(root, workerPath!)) as { KeycrateWorker: new () => INodeType };
		expect(new KeycrateWorker().description).toMatchObject({
			name: 'keycrateWorker',
			usableAsTool: true,
			credentials: [{ name: 'keycrateWorkerApi', required: true }],
		});
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { KeycrateWorkerApi } = require(join(root, credential!)) as { KeycrateWorkerApi: new () => ICredentialType };
		expect(new KeycrateWorkerApi()).toMatchObject({ name: 'keycrateWorkerApi', test: { request: { url: '/admin/jobs' } } });
		for (const asset of ['keycrateWorker.svg', 'keycrateWorker.dark.svg', 'KeycrateWorker.node.json'])
			expect(existsSync(join(root, 'dist/nodes/KeycrateWorker', asset))).toBe(true);
	});

	it('has the credential and no runtime dependencies', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { KeycrateApi } = require(join(root, credentialPath)) as { KeycrateApi: new () => ICredentialType };
		expect(new KeycrateApi().name).toBe('keycrateApi');
		expect(packageJson.dependencies ?? {}).toEqual({});
	});

	it('states the minimum n8n version (NodeConnectionTypes came with n8n 1.85.0) in package.json and the README', () => {
		expect(packageJson.engines.n8n).toBe('>=1.85.0');
		expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('**Compatibility: n8n 1.85.0 or later**');
	});

	it('packs only the built nodes and credential, index.js and the package documents', () => {
		const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{
			files: Array<{ path: string }>;
		}>;
		const paths = packed.files.map((file) => file.path);
		const outside = paths.filter((path) => !/^dist\/(nodes|credentials)\//.test(path) && !['index.js', 'package.json', 'README.md', 'LICENSE'].includes(path));
		expect(outside).toEqual([]);
		for (const listed of [...packageJson.n8n.nodes, ...packageJson.n8n.credentials]) expect(paths).toContain(listed);
		for (const asset of [
			'dist/nodes/Keycrate/keycrate.svg',
			'dist/nodes/Keycrate/keycrate.dark.svg',
			'dist/nodes/Keycrate/Keycrate.node.json',
			'dist/nodes/Keycrate/KeycrateTrigger.node.json',
			'dist/nodes/KeycrateWorker/keycrateWorker.svg',
			'dist/nodes/KeycrateWorker/KeycrateWorker.node.json',
		]) {
			expect(paths).toContain(asset);
		}
		// Every compiled module a node needs is packed (n8n loads them by relative require).
		for (const path of paths.filter((p) => p.endsWith('.js') && p.startsWith('dist/'))) {
			for (const [, required] of readFileSync(join(root, path), 'utf8').matchAll(/require\("(\.[^"]+)"\)/g)) {
				const target = join(path, '..', required).replace(/\\/g, '/');
				expect([path, paths.includes(`${target}.js`) || paths.includes(target)]).toEqual([path, true]);
			}
		}
	});
});
