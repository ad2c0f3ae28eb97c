// The worker cannot read openapi/ at run time (it ships alone); these checks fail the moment its copies diverge.

import { limits } from '@keycrate/emulator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONTRACT_LIMITS, DURATION_UNITS, KEY_PATTERN } from '../src/config.js';
import { ENDPOINTS } from '../src/keycrate/client.js';

const contract = parse(readFileSync(new URL('../../openapi/keycrate.openapi.yaml', import.meta.url), 'utf8')) as {
	paths: Record<string, { post?: Record<string, unknown> }>;
	components: { schemas: Record<string, { enum?: string[]; pattern?: string; minLength?: number; maxLength?: number; maxItems?: number }> };
};
const schemas = contract.components.schemas;

describe('contract facts the worker copies', () => {
	it('matches info.x-keycrate-limits', () => {
		expect(CONTRACT_LIMITS).toEqual({ maxBatch: limits.max_batch, maxPerPage: limits.max_per_page, maxTags: schemas.Tags.maxItems });
	});

	it("marks write-once exactly the calls the contract's x-keycrate-write-once names", () => {
		for (const { path, writeOnce } of Object.values(ENDPOINTS)) {
			const operation = contract.paths[path]?.post;
			expect({ path, known: operation !== undefined }).toEqual({ path, known: true });
			expect({ path, writeOnce }).toEqual({ path, writeOnce: operation?.['x-keycrate-write-once'] === true });
		}
	});

	it('matches DurationUnit and KeyPattern', () => {
		expect([...DURATION_UNITS].sort()).toEqual([...(schemas.DurationUnit.enum ?? [])].sort());
		const { pattern, minLength, maxLength } = schemas.KeyPattern;
		expect(KEY_PATTERN.source).toBe(`${(pattern ?? '').replace(/\+\$$/, '')}{${minLength},${maxLength}}$`);
	});
});
