// How a job's failure is recorded and reported: what BullMQ stores (secrets scrubbed, permanent errors made
// unrecoverable), when a failure is a dead letter, and Redis outages logged once each way.

import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import { PermanentError } from '../errors.js';
import { isPermanentKeycrateError } from '../keycrate/errors.js';
import type { Logger } from '../log.js';
import { isPermanentStripeError } from '../stripe/client.js';
import { deadLettered } from '../observe/metrics.js';

/**
 * What BullMQ stores as the job's failure (message and stack land in Redis and in `dead-letters`): secrets
 * scrubbed, and errors no retry can fix turned into UnrecoverableError so the job fails at once.
 */
export function asJobError(error: unknown, scrub: (text: string) => string): Error {
	const original = error instanceof Error ? error : new Error(String(error));
	const stripeRefusal = isPermanentStripeError(error);
	const permanent = error instanceof PermanentError || error instanceof UnrecoverableError || isPermanentKeycrateError(error) || stripeRefusal;
	// Stripe's message says what it refused; say where to look.
	const message = stripeRefusal ? `Stripe refused the read (check STRIPE_API_KEY and its read permissions): ${original.message}` : original.message;
	const jobError = permanent ? new UnrecoverableError(scrub(message)) : new Error(scrub(message));
	jobError.stack = scrub(original.stack ?? original.message);
	// The backoff strategy reads these: a settle time or a Retry-After is a floor under the scheduled delay.
	for (const field of ['settleMs', 'retryAfterMs'] as const) {
		const value = (error as Record<string, unknown> | null)?.[field];
		if (typeof value === 'number') Object.assign(jobError, { [field]: value });
	}
	return jobError;
}

/** Logs a Redis outage once when it starts and once when it ends, however many reconnects come between. */
export function watchRedis(connection: RedisConnection, log: Logger): () => void {
	let down = false;
	const onError = (error: Error) => {
		if (!down) log.error({ err: error.message }, 'Redis unavailable: jobs wait until it is back');
		down = true;
	};
	const onReady = () => {
		if (down) log.info('Redis available again: jobs resume');
		down = false;
	};
	connection.on('error', onError);
	connection.on('ready', onReady);
	return () => {
		connection.off('error', onError);
		connection.off('ready', onReady);
	};
}

/** Logs a worker's own Redis errors (watchRedis says when Redis goes and comes back) and its dead letters. */
export function reportFailures<T>(worker: Worker<T>, connection: RedisConnection, log: Logger, what: string, fields: (job: Job<T>) => object): void {
	worker.on('error', (error) => {
		if (connection.status === 'ready') log.error({ err: error.message }, `${what} worker error`);
	});
	worker.on('failed', (job, error) => {
		if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError)) {
			deadLettered.inc({ queue: worker.name });
			log.error({ ...fields(job), reason: error.message }, `${what} moved to the dead letters (keycrate-worker dead-letters)`);
		}
	});
}
