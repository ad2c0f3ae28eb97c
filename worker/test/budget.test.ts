// The shared request budget on a real Redis: a sliding second across callers; a bulk job's calls fill at most
// BULK_SHARE of the Keycrate budget, so a buyer's sync finds room while a bulk job uses all it may; spent, it
// gives way with the caller's error instead of waiting on.

import { Redis } from 'ioredis';
import { BULK_SHARE, bulkCalls, callerShare, RequestBudget } from '../src/budget.js';
import { budgetSpent } from '../src/keycrate/client.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';

describe('RequestBudget', () => {
	const redis = new Redis(SHARED_REDIS_URL);
	afterAll(() => redis.disconnect());

	test('bulk calls fill at most BULK_SHARE of the second; a sync still gets the rest at once', async () => {
		const budget = new RequestBudget(redis, `${uniquePrefix('budget')}:keycrate-budget`, 10, budgetSpent);
		const started = Date.now();
		await bulkCalls.run(true, async () => {
			expect(callerShare()).toBe(BULK_SHARE);
			for (let call = 0; call < 8; call++) await budget.acquire(callerShare());
		});
		expect(Date.now() - started).toBeLessThan(900);
		// The 9th bulk call waits for the window to move; a sync's calls do not.
		const bulkNinth = bulkCalls.run(true, () => budget.acquire(callerShare()).then(() => Date.now()));
		const syncStarted = Date.now();
		await budget.acquire(callerShare());
		await budget.acquire(callerShare());
		expect(Date.now() - syncStarted).toBeLessThan(300);
		expect((await bulkNinth) - started).toBeGreaterThanOrEqual(900);
	});

	test('spent for longer than its waits, it gives way with the error it was given (a KeycrateError RATE_LIMITED, nothing sent)', async () => {
		const budget = new RequestBudget(redis, `${uniquePrefix('budget')}:keycrate-budget`, 1, budgetSpent);
		await budget.acquire();
		// Fill the window again and again from elsewhere so it never has room.
		const key = (budget as unknown as { key: string }).key;
		const filler = setInterval(() => void redis.zadd(key, Date.now(), `other-${Math.random()}`), 50);
		try {
			await expect(budget.acquire()).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000, ambiguous: false });
		} finally {
			clearInterval(filler);
		}
	}, 15000);

	test('no limit (0) never waits', async () => {
		const budget = new RequestBudget(redis, `${uniquePrefix('budget')}:x`, 0, budgetSpent);
		for (let call = 0; call < 100; call++) await budget.acquire();
	});
});
