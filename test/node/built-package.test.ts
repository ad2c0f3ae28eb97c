import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeType, ICredentialType } from 'n8n-workflow';

import { describeOperations } from './describe-operations';

const root = join(__dirname, '../..');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	dependencies?: Record<string, string>;
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
			Object.entries(describeOperations()).flatMap(([resource, ops]) => Object.keys(ops).map((op) => `${resource}.${op}`)).sort(),
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

	it('has the credential and no runtime dependencies', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { KeycrateApi } = require(join(root, credentialPath)) as { KeycrateApi: new () => ICredentialType };
		expect(new KeycrateApi().name).toBe('keycrateApi');
		expect(packageJson.dependencies ?? {}).toEqual({});
	});
});
