// The Stripe API client of the sync job: the `stripe` package at its pinned API version (so every object is
// read in one shape), pointed at STRIPE_API_BASE when set, behind a request budget shared by every process.

import type { RedisConnection } from '../redis.js';
import Stripe from 'stripe';
import { RequestBudget } from '../budget.js';
import type { Config } from '../config.js';
import { failureStatus, secondsSince, statusLabel, stripeEndpoint, stripeRequests, stripeSeconds } from '../observe/metrics.js';

/** How long one Stripe read may take before it counts as failed (the package retries network errors itself). */
const STRIPE_TIMEOUT_MS = 20000;

export function createStripeClient(config: Pick<Config, 'stripeApiKey' | 'stripeApiBase'>): Stripe {
	const options: Stripe.StripeConfig = {
		maxNetworkRetries: 2,
		timeout: STRIPE_TIMEOUT_MS,
		telemetry: false,
		appInfo: { name: 'keycrate-stripe-sync-worker' },
		httpClient: measuredHttpClient(),
	};
	if (config.stripeApiBase !== undefined) {
		const base = new URL(config.stripeApiBase);
		options.host = base.hostname;
		options.protocol = base.protocol === 'http:' ? 'http' : 'https';
		if (base.port !== '') options.port = Number(base.port);
	}
	return new Stripe(config.stripeApiKey, options);
}

/**
 * The stripe package's own Node HTTP client, with every request it sends (its retries too) counted and timed:
 * the one place Stripe calls are measured.
 */
function measuredHttpClient(): Stripe.HttpClient {
	const client = Stripe.createNodeHttpClient();
	const send = client.makeRequest.bind(client);
	client.makeRequest = async (host, port, path, method, headers, requestData, protocol, timeout) => {
		const started = performance.now();
		const endpoint = stripeEndpoint(path);
		try {
			const response = await send(host, port, path, method, headers, requestData, protocol, timeout);
			stripeSeconds.observe({ endpoint }, secondsSince(started));
			stripeRequests.inc({ endpoint, status: statusLabel(response.getStatusCode()) });
			return response;
		} catch (error) {
			stripeSeconds.observe({ endpoint }, secondsSince(started));
			stripeRequests.inc({ endpoint, status: failureStatus((error as { code?: string } | null)?.code) });
			throw error;
		}
	};
	return client;
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

/** Stripe requests per second across all processes (STRIPE_RATE_LIMIT); spent, a read gives way to the queue's pause. */
export class StripeBudget extends RequestBudget {
	constructor(redis: RedisConnection, prefix: string, perSecond: number) {
		super(redis, `${prefix}:stripe-budget`, perSecond, () => new StripeRateLimited(1000));
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
