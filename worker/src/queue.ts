// The queues and their Redis connections: the one place that knows queue names, job ids and retry policy.

import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from './config.js';

/** Verified Stripe events; job id = Stripe event id, so a redelivery while the job is kept is a no-op. */
export const EVENTS_QUEUE = 'stripe-events';
/** Posts of new licenses to LICENSE_WEBHOOK_URL; job id = `handoff-<license key>`. */
export const HANDOFF_QUEUE = 'license-handoff';

/** Stripe retries an undelivered event for up to 3 days: keep completed jobs at least that long. */
const KEEP_COMPLETED_SECONDS = 4 * 86400;

/**
 * A connection for BullMQ workers and the ledger: commands wait through a Redis restart
 * (`maxRetriesPerRequest: null`, which BullMQ requires for blocking workers).
 */
export function workerConnection(config: Config): Redis {
	return new Redis(config.redisUrl, { maxRetriesPerRequest: null, connectionName: 'keycrate-worker' });
}

/**
 * A connection for ingest: when Redis is away, a command fails at once instead of queueing in memory,
 * so the webhook answers 503 and Stripe keeps the event for a later retry.
 */
export function ingestConnection(config: Config): Redis {
	return new Redis(config.redisUrl, {
		maxRetriesPerRequest: 1,
		enableOfflineQueue: false,
		connectTimeout: 2000,
		connectionName: 'keycrate-ingest',
	});
}

export function retryPolicy(config: Config): Pick<JobsOptions, 'attempts' | 'backoff'> {
	// Exponential with jitter so that a Keycrate outage does not end in a synchronised thundering herd.
	return { attempts: config.jobAttempts, backoff: { type: 'exponential', delay: config.backoffBaseMs, jitter: 0.5 } };
}

export function eventJobOptions(config: Config, eventId: string): JobsOptions {
	return {
		jobId: eventId,
		...retryPolicy(config),
		removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
		// Exhausted jobs stay in the failed set with their reason: that set is the dead-letter list.
		removeOnFail: false,
	};
}

export function handoffJobOptions(config: Config, licenseKey: string): JobsOptions {
	return {
		jobId: `handoff-${licenseKey}`,
		...retryPolicy(config),
		removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
		removeOnFail: false,
	};
}

export function eventsQueue(config: Config, connection: Redis): Queue {
	return new Queue(EVENTS_QUEUE, { connection, prefix: config.queuePrefix });
}

export function handoffQueue(config: Config, connection: Redis): Queue {
	return new Queue(HANDOFF_QUEUE, { connection, prefix: config.queuePrefix });
}

/** Ledger keys share the queue's hash tag, so one Redis Cluster slot holds a root's queue and ledger state. */
export function ledgerKey(config: Pick<Config, 'queuePrefix'>, ...parts: string[]): string {
	return [config.queuePrefix, 'ledger', ...parts].join(':');
}
