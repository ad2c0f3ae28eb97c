// The BullMQ workers: sync jobs (jobs/sync.ts) and hand-off jobs (jobs/handoff.ts), their retry schedule,
// what counts as a dead letter, Stripe's rate limits, Redis outages and a bounded stop.

import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { PermanentError } from '../errors.js';
import { isPermanentKeycrateError } from '../keycrate/errors.js';
import type { LicenseApi } from '../keycrate/execute.js';
import { markHandedOff } from '../keycrate/record.js';
import { secretScrubber, secretValues, type Logger } from '../log.js';
import { createStripeClient, isPermanentStripeError, isStripeRateLimit, StripeBudget, StripeRateLimited } from '../stripe/client.js';
import { buildHandoffPayload, deliverHandoff, type HandoffPayload } from './handoff.js';
import {
	enqueueSync,
	HANDOFF_QUEUE,
	handoffJobOptions,
	handoffQueue,
	recordSkipped,
	retryDelay,
	SYNC_QUEUE,
	syncQueue,
	workerConnection,
	type SyncJobData,
} from './queues.js';
import { syncRoot } from './sync.js';

export interface Processor {
	close(): Promise<void>;
	isRunning(): boolean;
}

export interface ProcessorDeps {
	/** The Keycrate client; tests may pass a wrapped one. */
	api: LicenseApi;
	/** Override the Redis connection (tests). */
	connection?: Redis;
}

/** A Stripe 429 without a Retry-After: pause the queue this long. */
const STRIPE_RATE_LIMIT_PAUSE_MS = 1000;

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
export function watchRedis(connection: Redis, log: Logger): () => void {
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

export async function startProcessor(config: Config, log: Logger, deps: ProcessorDeps): Promise<Processor> {
	const connection = deps.connection ?? workerConnection(config);
	const unwatch = watchRedis(connection, log);
	const scrub = secretScrubber(secretValues(config));
	const syncs: Queue<SyncJobData> = syncQueue(config, connection);
	const handoffs = config.licenseWebhookUrl ? handoffQueue(config, connection) : undefined;
	const budget = new StripeBudget(connection, config.queuePrefix, config.stripeRateLimit);
	const stripe = createStripeClient(config);
	const stopping = new AbortController();
	const workerSettings = {
		connection,
		prefix: config.queuePrefix,
		// A job whose process died runs again (sync is idempotent); BullMQ's default of 1 would dead-letter a job
		// cut off twice (e.g. two crashes in a row) and lose its root's sync for good.
		maxStalledCount: config.retryScheduleMs.length + 1,
		lockDuration: config.jobLockMs,
		stalledInterval: config.jobLockMs,
		settings: { backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => retryDelay(config.retryScheduleMs, attemptsMade, error) },
	};

	/** Logs a worker's own Redis errors (watchRedis says when Redis goes and comes back) and its dead letters. */
	function reportFailures<T>(worker: Worker<T>, what: string, fields: (job: Job<T>) => object): void {
		worker.on('error', (error) => {
			if (connection.status === 'ready') log.error({ err: error.message }, `${what} worker error`);
		});
		worker.on('failed', (job, error) => {
			if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError)) {
				log.error({ ...fields(job), reason: error.message }, `${what} moved to the dead letters (keycrate-worker dead-letters)`);
			}
		});
	}

	const syncWorker: Worker<SyncJobData> = new Worker<SyncJobData>(
		SYNC_QUEUE,
		async (job: Job<SyncJobData & { settledAtStart?: number }>, token?: string) => {
			const { root } = job.data;
			// Cut off mid-run before (its process died, or lost its lock): a write it sent may still land on
			// Keycrate. Wait until it must have, once, without using an attempt; then read what it did.
			if (job.attemptsStarted > job.attemptsMade + 1 && job.data.settledAtStart !== job.attemptsStarted && token !== undefined) {
				await job.updateData({ ...job.data, settledAtStart: job.attemptsStarted + 1 });
				await job.moveToDelayed(Date.now() + 2 * config.keycrateTimeoutMs, token);
				throw new DelayedError();
			}
			try {
				const outcome = await syncRoot(
					{
						config,
						stripe: { stripe, beforeRequest: () => budget.acquire() },
						api: deps.api,
						enqueueSync: (target, cause) => enqueueSync(config, syncs, target, cause),
						recordSkipped: (skippedRoot, reason, detail) => recordSkipped(config, connection, { root: skippedRoot, reason, detail }),
						...(handoffs
							? {
									handoff: async (linkage, license) => {
										await handoffs.add('license.created', buildHandoffPayload(linkage, license), handoffJobOptions(config, license.licenseKey));
									},
								}
							: {}),
						signal: stopping.signal,
					},
					root,
				);
				if (outcome.kind === 'synced') {
					if (outcome.done.length > 0) log.info({ root, cause: job.data.cause, done: outcome.done }, 'root synced');
					for (const warning of outcome.warnings) log.warn({ root }, warning);
				} else if (outcome.kind === 'skipped') {
					log.info({ root, cause: job.data.cause, reason: outcome.reason, detail: outcome.detail }, 'root skipped: no license');
				} else {
					log.info({ root, to: outcome.to }, 'payment belongs to a subscription: synced there');
				}
				return outcome.kind;
			} catch (error) {
				if (isStripeRateLimit(error) || error instanceof StripeRateLimited) {
					// Not the job's fault: pause the queue (every process) and run it again without losing an attempt.
					const wait = error instanceof StripeRateLimited ? error.retryAfterMs : STRIPE_RATE_LIMIT_PAUSE_MS;
					// `by`: Stripe answered 429, or our own STRIPE_RATE_LIMIT budget is spent for now.
					log.warn({ root, waitMs: wait, by: error instanceof StripeRateLimited ? 'STRIPE_RATE_LIMIT' : 'stripe' }, 'Stripe rate limit: pausing syncs');
					await syncWorker.rateLimit(wait);
					throw Worker.RateLimitError();
				}
				log.warn({ root, attempt: job.attemptsMade + 1, err: error }, 'sync failed');
				throw asJobError(error, scrub);
			}
		},
		// A limiter (never reached) makes BullMQ honour worker.rateLimit() in every process, not just this one.
		{ ...workerSettings, concurrency: config.workerConcurrency, limiter: { max: 100000, duration: 1000 } },
	);
	reportFailures(syncWorker, 'sync', (job) => ({ root: job.data.root }));

	const handoffWorker = handoffs
		? new Worker<HandoffPayload & { delivered?: boolean }>(
				HANDOFF_QUEUE,
				async (job) => {
					const licenseKey = job.data.data.license_key;
					try {
						// A retry after the post was taken only marks: the receiver is not posted to again.
						if (job.data.delivered !== true) {
							// A license deleted meanwhile (a duplicate cleaned up) is not handed off: the kept one is.
							if ((await deps.api.getLicense(licenseKey)) === null) {
								log.info({ licenseKey }, 'hand-off dropped: the license no longer exists');
								return;
							}
							await deliverHandoff(config, job.data);
							await job.updateData({ ...job.data, delivered: true });
							log.info({ licenseKey }, 'license handed off');
						}
						await markHandedOff(deps.api, licenseKey);
					} catch (error) {
						log.warn({ licenseKey, attempt: job.attemptsMade + 1, err: (error as Error).message }, 'hand-off failed');
						throw asJobError(error, scrub);
					}
				},
				{ ...workerSettings, concurrency: Math.min(config.workerConcurrency, 10) },
			)
		: undefined;
	if (handoffWorker) reportFailures(handoffWorker, 'hand-off', (job) => ({ licenseKey: job.data.data.license_key }));

	let running = true;
	return {
		isRunning: () => running && syncWorker.isRunning(),
		async close() {
			running = false;
			// Active jobs get SHUTDOWN_TIMEOUT_MS to finish; then the sync stops between two calls and its job is
			// left to run again (another process takes it once its lock lapses): a stop never hangs on a job.
			const graceful = Promise.all([syncWorker.close(), handoffWorker?.close()]);
			graceful.catch(() => undefined); // after a timeout it may fail on the connection we drop
			let timer: NodeJS.Timeout | undefined;
			const timedOut = await Promise.race([
				graceful.then(() => false),
				new Promise<boolean>((resolve) => {
					timer = setTimeout(() => resolve(true), config.shutdownTimeoutMs);
				}),
			]);
			clearTimeout(timer);
			if (timedOut) {
				// BullMQ's close() cannot be hurried once called; stop between two calls and let the process go.
				// The jobs stay active in Redis and run again once their lock lapses.
				log.warn({ afterMs: config.shutdownTimeoutMs }, 'active jobs did not finish in time: left for a retry');
				stopping.abort();
				unwatch();
				if (!deps.connection) connection.disconnect();
				return;
			}
			await Promise.all([syncs.close(), handoffs?.close()]);
			unwatch();
			if (!deps.connection) await connection.quit().catch(() => connection.disconnect());
		},
	};
}
