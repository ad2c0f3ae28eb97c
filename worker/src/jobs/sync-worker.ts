// The sync job's body around syncRoot(): a job cut off mid-run waits the settle time once before it reads what
// it did; Stripe's rate limit pauses the queue for every process without using an attempt; outcomes are logged.

import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type Stripe from 'stripe';
import type { Config } from '../config.js';
import type { LicenseApi } from '../keycrate/licenses.js';
import type { Logger } from '../log.js';
import { isStripeRateLimit, StripeRateLimited, type StripeBudget } from '../stripe/client.js';
import { asJobError } from './failures.js';
import { buildHandoffPayload, type HandoffPayload } from './handoff.js';
import { appendEntry, buildSyncEntry, countingApi, type AttemptResult } from './history.js';
import { enqueueSync, handoffJobOptions, recordSkipped, retryDelay, type SyncJobData } from './queues.js';
import { syncRoot, type SyncTrace } from './sync.js';
import { secondsSince, syncs, syncSeconds, type SyncMetricOutcome } from '../observe/metrics.js';

/** A Stripe 429 without a Retry-After: pause the queue this long. */
const STRIPE_RATE_LIMIT_PAUSE_MS = 1000;

export type SyncJob = Job<SyncJobData & { settledAtStart?: number }>;

export interface SyncJobContext {
	config: Config;
	log: Logger;
	connection: RedisConnection;
	api: LicenseApi;
	stripe: Stripe;
	budget: StripeBudget;
	syncs: Queue<SyncJobData>;
	handoffs?: Queue<HandoffPayload>;
	scrub: (text: string) => string;
	stopping: AbortSignal;
	/** Pauses the sync queue in every process (the worker's rateLimit). */
	pause(ms: number): Promise<void>;
}

export function syncJob(ctx: SyncJobContext): (job: SyncJob, token?: string) => Promise<string> {
	const { config, log, handoffs } = ctx;
	return async (job, token) => {
		const { root } = job.data;
		const started = performance.now();
		const count = (outcome: SyncMetricOutcome) => {
			syncs.inc({ outcome });
			syncSeconds.observe({ outcome }, secondsSince(started));
		};
		// Cut off mid-run before (its process died, or lost its lock): a write it sent may still land on
		// Keycrate. Wait until it must have, once, without using an attempt; then read what it did.
		if (job.attemptsStarted > job.attemptsMade + 1 && job.data.settledAtStart !== job.attemptsStarted && token !== undefined) {
			await job.updateData({ ...job.data, settledAtStart: job.attemptsStarted + 1 });
			await job.moveToDelayed(Date.now() + config.settleMs, token);
			count('settle_wait');
			throw new DelayedError();
		}
		// The attempt's history entry (jobs/history.ts): what it read, planned and did, written once at its end.
		const startedAt = Date.now();
		const trace: SyncTrace = { done: [] };
		const calls = { stripe: 0, keycrate: 0 };
		const record = (result: AttemptResult) =>
			appendEntry(
				config,
				ctx.connection,
				log,
				buildSyncEntry({ root, cause: job.data.cause, attempt: job.attemptsMade + 1, startedAt, endedAt: Date.now(), trace, calls, result }),
				startedAt,
			);
		try {
			const outcome = await syncRoot(
				{
					config,
					stripe: { stripe: ctx.stripe, beforeRequest: () => ((calls.stripe += 1), ctx.budget.acquire()) },
					api: countingApi(ctx.api, calls),
					trace,
					enqueueSync: (target, cause) => enqueueSync(config, ctx.syncs, target, cause),
					recordSkipped: (skippedRoot, reason, detail) => recordSkipped(config, ctx.connection, { root: skippedRoot, reason, detail }),
					...(handoffs
						? {
								handoff: async (linkage, license) => {
									await handoffs.add('license.created', buildHandoffPayload(linkage, license), handoffJobOptions(config, license.licenseKey));
								},
							}
						: {}),
					signal: ctx.stopping,
				},
				root,
			);
			if (outcome.kind === 'synced') {
				if (outcome.done.length > 0)
					log.info({ root, cause: job.data.cause, status: outcome.entitlement.status, why: outcome.entitlement.reason, done: outcome.done }, 'root synced');
				for (const warning of outcome.warnings) log.warn({ root }, warning);
			} else if (outcome.kind === 'skipped') {
				log.info({ root, cause: job.data.cause, reason: outcome.reason, detail: outcome.detail, paused: outcome.done.length }, 'root skipped: no license');
			} else {
				log.info({ root, to: outcome.to }, 'payment belongs to a subscription: synced there');
			}
			count(outcome.kind);
			await record({ kind: 'outcome', outcome });
			return outcome.kind;
		} catch (error) {
			if (isStripeRateLimit(error) || error instanceof StripeRateLimited) {
				// Not the job's fault: pause the queue (every process) and run it again without losing an attempt.
				const wait = error instanceof StripeRateLimited ? error.retryAfterMs : STRIPE_RATE_LIMIT_PAUSE_MS;
				// `by`: Stripe answered 429, or our own STRIPE_RATE_LIMIT budget is spent for now.
				log.warn({ root, waitMs: wait, by: error instanceof StripeRateLimited ? 'STRIPE_RATE_LIMIT' : 'stripe' }, 'Stripe rate limit: pausing syncs');
				count('rate_limited');
				await ctx.pause(wait);
				throw Worker.RateLimitError();
			}
			count('failed');
			log.warn({ root, attempt: job.attemptsMade + 1, err: error }, 'sync failed');
			const jobError = asJobError(error, ctx.scrub);
			const final = jobError instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
			await record({
				kind: 'failed',
				message: jobError.message,
				final,
				...(final ? {} : { retryInMs: retryDelay(config.retryScheduleMs, job.attemptsMade + 1, jobError) }),
			});
			throw jobError;
		}
	};
}
