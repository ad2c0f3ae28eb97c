import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { describeOperations, NODE_OPERATIONS } from './describe-operations';

const OPERATIONS_FILE = join(__dirname, 'operations.json');

describe('the node offers every endpoint of the contract', () => {
	const { properties } = new Keycrate().description;

	it('offers exactly the operations of each resource, with an action for AI agents', () => {
		for (const [resource, operations] of Object.entries(NODE_OPERATIONS)) {
			const selector = properties.find((p) => p.name === 'operation' && (p.displayOptions?.show?.resource as string[]).includes(resource));
			const offered = (selector?.options ?? []).map((o) => ('value' in o ? o.value : undefined));
			expect(offered.sort()).toEqual(Object.keys(operations).sort());
			for (const option of selector?.options ?? []) expect(option).toHaveProperty('action');
		}
		expect(Object.values(NODE_OPERATIONS).flatMap(Object.keys)).toHaveLength(23);
		expect(new Set(Object.values(NODE_OPERATIONS).flatMap(Object.values)).size).toBe(22);
	});

	// operations.json is what the real-n8n e2e builds its workflows from; it must follow the node.
	// Regenerate with: UPDATE_OPERATIONS=1 npx jest test/node/operations.test.ts
	it('matches test/node/operations.json', () => {
		const described = describeOperations();
		if (process.env.UPDATE_OPERATIONS === '1') {
			writeFileSync(OPERATIONS_FILE, `${JSON.stringify(described, null, '\t')}\n`);
		}
		expect(JSON.parse(readFileSync(OPERATIONS_FILE, 'utf8'))).toEqual(described);
	});
});
