// A budget of requests per second shared by every process on one Redis, over a sliding second (a fixed window
// would let twice the budget through around its edge). One MULTI per request on a sorted set of the last
// second's requests; over budget, `acquire` takes its entry back and waits until the oldest leaves the window (at
// most 1 s, jittered), up to BUDGET_WAITS times, then gives way with the caller's error. A caller may be allowed
// only a share of it: bulk jobs fill at most BULK_SHARE of the Keycrate budget, so buyers' syncs always find room.

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { RedisConnection } from './redis.js';

/** Waits (each at most 1 s) for room before a request gives way. */
const BUDGET_WAITS = 4;
/** The share of the Keycrate budget bulk jobs may fill; the rest is kept for syncs. */
export const BULK_SHARE = 0.8;

export class RequestBudget {
	constructor(
		private readonly redis: RedisConnection,
		private readonly key: string,
		private readonly perSecond: number,
		private readonly exhausted: () => Error,
	) {}

	/** Waits for room in the budget; `share` (0–1] is how full the window may be for this caller. */
	async acquire(share = 1): Promise<void> {
		if (this.perSecond <= 0) return;
		const limit = Math.max(1, Math.floor(this.perSecond * share));
		for (let tries = 0; ; tries++) {
			const now = Date.now();
			const entry = `${now}:${randomBytes(6).toString('hex')}`;
			const replies = (await this.redis
				.multi()
				.zremrangebyscore(this.key, 0, now - 1000)
				.zadd(this.key, now, entry)
				.zcard(this.key)
				.zrange(this.key, 0, 0, 'WITHSCORES')
				.pexpire(this.key, 2000)
				.exec()) as [Error | null, unknown][];
			if ((replies[2][1] as number) <= limit) return;
			await this.redis.zrem(this.key, entry);
			if (tries === BUDGET_WAITS) throw this.exhausted();
			// Until the oldest leaves the window, plus jitter: waiting callers must not all come back at once.
			const oldest = Number((replies[3][1] as string[])[1] ?? now);
			await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, oldest + 1000 - now) + Math.random() * 250)));
		}
	}
}

/** Set while a bulk job runs: its Keycrate calls draw on BULK_SHARE of the budget only. */
export const bulkCalls = new AsyncLocalStorage<true>();

export function callerShare(): number {
	return bulkCalls.getStore() === true ? BULK_SHARE : 1;
}
