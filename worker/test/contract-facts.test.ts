// The worker cannot read openapi/ at run time (it ships alone); these checks fail the moment its copies diverge.

import { limits } from '@keycrate/emulator';
import { CONTRACT_LIMITS } from '../src/config.js';

describe('contract facts the worker copies', () => {
	it('matches info.x-keycrate-limits', () => {
		expect(CONTRACT_LIMITS).toEqual({ maxBatch: limits.max_batch, maxPerPage: limits.max_per_page });
	});
});
