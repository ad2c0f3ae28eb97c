// The Stripe API client of the sync job: the `stripe` package at its pinned API version (so every object is
// read in one shape), pointed at STRIPE_API_BASE when set, behind a request budget shared by every process.

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import Stripe from 'stripe';
import type { Config } from '../config.js';

/** How long one Stripe read may take before it counts as failed (the package retries network errors itself). */
const STRIPE_TIMEOUT_MS = 20000;

export function createStripeClient(config: Pick<Config, 'stripeApiKey' | 'stripeApiBase'>): Stripe {
	const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: STRIPE_TIMEOUT_MS, telemetry: false, appInfo: { name: 'keycrate-stripe-sync-worker' } };
	if (config.stripeApiBase !== undefined) {
		const base = new URL(config.stripeApiBase);
		options.host = base.hostname;
		options.protocol = base.protocol === 'http:' ? 'http' : 'https';
		if (base.port !== '') options.port = Number(base.port);
	}
	return new Stripe(config.stripeApiKey, options);
}

/** A Stripe 429 (or the shared budget is spent): the job should wait this long without losing an attempt. */
export class StripeRateLimited extends Error {
	constructor(readonly retryAfterMs: number) {
		super(`Stripe rate limit: waiting ${retryAfterMs} ms`);
		this.name = 'StripeRateLimited';
	}
}

export function isStripeRateLimit(error: unknown): boolean {
	return error instanceof Stripe.errors.StripeRateLimitError || (error as { statusCode?: unknown })?.statusCode === 429;
}

/**
 * A budget of Stripe requests per second across all processes, over a sliding second (a fixed window would let
 * twice the budget through around its edge, as Stripe counts it). One MULTI per request on a sorted set of the
 * last second's requests; over budget, `acquire` takes its entry back and waits until the oldest leaves the
 * window (at most 1 s, jittered), up to BUDGET_WAITS times, then leaves the wait to the queue.
 */
/** Waits (each at most 1 s) for budget before a read gives way to the queue's pause. */
const BUDGET_WAITS = 4;

export class StripeBudget {
	private readonly key: string;

	constructor(
		private readonly redis: Redis,
		prefix: string,
		private readonly perSecond: number,
	) {
		this.key = `${prefix}:stripe-budget`;
	}

	async acquire(): Promise<void> {
		if (this.perSecond <= 0) return;
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
			if ((replies[2][1] as number) <= this.perSecond) return;
			await this.redis.zrem(this.key, entry);
			if (tries === BUDGET_WAITS) throw new StripeRateLimited(1000);
			// Until the oldest leaves the window, plus jitter: waiting jobs must not all come back at once (and
			// a job that gives up loses the reads it made, so it waits a few times first).
			const oldest = Number((replies[3][1] as string[])[1] ?? now);
			await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, oldest + 1000 - now) + Math.random() * 250)));
		}
	}
}

/**
 * A Stripe refusal no retry can fix until someone acts: a key Stripe does not accept, a restricted key without a
 * read permission the sync needs, a request Stripe calls invalid. The job becomes a dead letter at once.
 */
export function isPermanentStripeError(error: unknown): boolean {
	return (
		error instanceof Stripe.errors.StripeAuthenticationError ||
		error instanceof Stripe.errors.StripePermissionError ||
		(error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode !== 404)
	);
}
