// The Stripe API client of the sync job: the `stripe` package at its pinned API version (so every object is
// read in one shape), pointed at STRIPE_API_BASE when set, behind a request budget shared by every process.

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
 * A fixed-window budget of Stripe requests per second across all processes: one INCR per request on a key
 * that lives two seconds. Over budget, `acquire` waits for the next second once (at most 1 s), then leaves the wait to the queue.
 */
export class StripeBudget {
	constructor(
		private readonly redis: Redis,
		private readonly prefix: string,
		private readonly perSecond: number,
	) {}

	async acquire(): Promise<void> {
		if (this.perSecond <= 0) return;
		for (let tries = 0; ; tries++) {
			const second = Math.floor(Date.now() / 1000);
			const key = `${this.prefix}:stripe-budget:${second}`;
			const [[, used]] = (await this.redis.multi().incr(key).expire(key, 2).exec()) as [[Error | null, number], unknown];
			if (used <= this.perSecond) return;
			if (tries === 1) throw new StripeRateLimited(1000);
			await new Promise((resolve) => setTimeout(resolve, (second + 1) * 1000 - Date.now() + 5));
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
