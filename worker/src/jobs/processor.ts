// The BullMQ workers of the processing role: sync jobs (sync-worker.ts), hand-off jobs (handoff-worker.ts) and
// bulk jobs (bulk/job.ts),
// their shared settings and retry schedule, and a bounded stop.

import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { Config } from '../config.js';
import { bulkCalls, callerShare, RequestBudget } from '../budget.js';
import { bulkJob, type BulkApi, type BulkJobData, type BulkResult } from '../bulk/job.js';
import { budgetSpent, KeycrateClient } from '../keycrate/client.js';
import type { LicenseApi } from '../keycrate/licenses.js';
import { secretScrubber, secretValues, type Logger } from '../log.js';
import { createStripeClient, StripeBudget } from '../stripe/client.js';
import { reportFailures, watchRedis } from './failures.js';
import { handoffJob, type HandoffJobData } from './handoff-worker.js';
import { recordHandoffs } from './history.js';
import {
	BULK_QUEUE,
	bulkQueue,
	HANDOFF_QUEUE,
	handoffJobOptions,
	handoffQueue,
	retryDelay,
	SYNC_QUEUE,
	syncQueue,
	workerConnection,
	type SyncJobData,
} from './queues.js';
import { syncJob, type SyncJob } from './sync-worker.js';
import type { Check } from '../observe/probes.js';
import { initProcessSeries } from '../observe/metrics.js';

export { asJobError, watchRedis } from './failures.js';

export interface Processor {
	close(): Promise<void>;
	isRunning(): boolean;
	/** The workers' Redis connection (the probes and queue gauges of the processing role use it). */
	connection: RedisConnection;
	/** /readyz: every worker (sync, hand-off, bulk) runs and no stop has begun. */
	check: Check;
}

export interface ProcessorDeps {
	/** The Keycrate client; tests may pass a wrapped one. */
	api: LicenseApi & BulkApi;
	/** Override the Redis connection (tests). */
	connection?: RedisConnection;
}

export async function startProcessor(config: Config, log: Logger, deps: ProcessorDeps): Promise<Processor> {
	const connection = deps.connection ?? workerConnection(config);
	const unwatch = watchRedis(connection, log);
	const scrub = secretScrubber(secretValues(config));
	const syncs: Queue<SyncJobData> = syncQueue(config, connection);
	// Hand-offs, and bulk jobs' notifications, both signed with LICENSE_WEBHOOK_SECRET.
	const handoffs = config.licenseWebhookUrl || config.licenseWebhookSecret ? handoffQueue(config, connection) : undefined;
	const budget = new StripeBudget(connection, config.queuePrefix, config.stripeRateLimit);
	// One Keycrate budget for syncs and bulk chunks across all processes; bulk calls may fill only BULK_SHARE of it.
	if (deps.api instanceof KeycrateClient && config.keycrateRateLimit > 0) {
		const keycrateBudget = new RequestBudget(connection, `${config.queuePrefix}:keycrate-budget`, config.keycrateRateLimit, budgetSpent);
		deps.api.useBudget(() => keycrateBudget.acquire(callerShare()));
	}
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

	const syncBody = syncJob({
		config,
		log,
		connection,
		api: deps.api,
		stripe,
		budget,
		syncs,
		...(handoffs ? { handoffs } : {}),
		scrub,
		stopping: stopping.signal,
		// syncWorker exists by the time a job runs.
		pause: async (ms) => syncWorker.rateLimit(ms),
	});
	const syncWorker = new Worker<SyncJobData>(SYNC_QUEUE, (job, token) => syncBody(job as SyncJob, token), {
		...workerSettings,
		concurrency: config.workerConcurrency,
		// A limiter (never reached) makes BullMQ honour worker.rateLimit() in every process, not just this one.
		limiter: { max: 100000, duration: 1000 },
	});
	reportFailures(syncWorker, connection, log, 'sync', (job) => ({ root: job.data.root }));

	const handoffWorker = handoffs
		? new Worker<HandoffJobData>(HANDOFF_QUEUE, handoffJob(config, log, deps.api, scrub), {
				...workerSettings,
				concurrency: Math.min(config.workerConcurrency, 10),
			})
		: undefined;
	if (handoffWorker) recordHandoffs(config, connection, log, handoffWorker);
	if (handoffWorker)
		reportFailures(handoffWorker, connection, log, 'hand-off', (job) =>
			job.data.type === 'bulk_job.completed' ? { bulkJob: job.data.id } : { licenseKey: job.data.data.license_key },
		);

	const bulks = bulkQueue(config, connection);
	const bulkBody = bulkJob({
		config,
		connection,
		api: deps.api,
		log,
		syncs,
		notify: async (url, jobId, result) => {
			if (handoffs === undefined) throw new UnrecoverableError('notify_url needs LICENSE_WEBHOOK_SECRET, which signs the notification');
			const notification: HandoffJobData = {
				type: 'bulk_job.completed',
				id: jobId,
				created: Math.floor(Date.now() / 1000),
				data: { job_id: jobId, kind: (await bulks.getJob(jobId))?.data.spec.kind ?? 'unknown', ...result },
				url,
			};
			await handoffs.add('bulk_job.completed', notification, { ...handoffJobOptions(config, jobId), jobId: `notify-${jobId}` });
		},
	});
	const bulkWorker = new Worker<BulkJobData, BulkResult>(BULK_QUEUE, (job, token) => bulkCalls.run(true, () => bulkBody(job, token)), {
		...workerSettings,
		concurrency: config.bulkConcurrency,
	});
	reportFailures(bulkWorker, connection, log, 'bulk job', (job) => ({ bulkJob: job.id }));

	initProcessSeries([SYNC_QUEUE, HANDOFF_QUEUE, BULK_QUEUE]);
	let running = true;
	const workers = [syncWorker, bulkWorker, ...(handoffWorker ? [handoffWorker] : [])];
	return {
		connection,
		isRunning: () => running && syncWorker.isRunning(),
		check: async () => {
			if (!running) return { name: 'processor', ok: false, state: 'stopping', reason: 'the processor is stopping' };
			const stopped = workers.filter((worker) => !worker.isRunning()).map((worker) => worker.name);
			return stopped.length === 0
				? { name: 'processor', ok: true, state: 'running' }
				: { name: 'processor', ok: false, state: 'stopped', reason: `worker not running: ${stopped.join(', ')}` };
		},
		async close() {
			running = false;
			// Active jobs get SHUTDOWN_TIMEOUT_MS to finish; then the sync stops between two calls and its job is
			// left to run again (another process takes it once its lock lapses): a stop never hangs on a job.
			const graceful = Promise.all([syncWorker.close(), handoffWorker?.close(), bulkWorker.close()]);
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
			await Promise.all([syncs.close(), handoffs?.close(), bulks.close()]);
			unwatch();
			if (!deps.connection) await connection.quit().catch(() => connection.disconnect());
		},
	};
}
