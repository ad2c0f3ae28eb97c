// The queues: the one place that knows queue names, job ids, deduplication and the retry schedule.
//
//   keycrate-sync     one job = sync(root); deduplicated per root (BullMQ deduplication with keepLastIfActive):
//                     at most one runs and one waits, so a burst of events for one subscription costs one sync
//                     and two syncs of one root never run at once
//   license-handoff   one job per license: POST it to LICENSE_WEBHOOK_URL (job id = handoff-<key>)
//   keycrate-bulk     one job per bulk job (bulk/job.ts): job id bulk_<random>; its chunks live in its own keys
//   skipped           a capped stream of events and roots that led to no license, with the reason

import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../config.js';
import { connectRedis, type RedisConnection } from '../redis.js';
import type { RootId, SkipReason } from '../model.js';

export const SYNC_QUEUE = 'keycrate-sync';
export const HANDOFF_QUEUE = 'license-handoff';
export const BULK_QUEUE = 'keycrate-bulk';
/** The retry schedule's name in job options; the worker's backoffStrategy turns it into delays. */
export const RETRY_BACKOFF = 'keycrate-schedule';
/** Skipped records kept (approximately; XADD MAXLEN ~). */
const SKIPPED_MAX = 10000;
/** Completed jobs are history only (deduplication is per root, not per job id): keep a day of them. */
const KEEP_COMPLETED = { age: 86400, count: 10000 };
/** Dead letters stay until retried or this old. */
const KEEP_FAILED = { age: 30 * 86400 };

export interface SyncJobData {
	root: RootId;
	/** What asked for the sync: an event (id and type), a resync, a redirect, or a retry. */
	cause: string;
}

/**
 * A connection for BullMQ workers: commands wait through a Redis restart (`maxRetriesPerRequest: null`,
 * which BullMQ requires for blocking workers).
 */
export function workerConnection(config: Config): RedisConnection {
	return connectRedis(config, { maxRetriesPerRequest: null, connectionName: 'keycrate-worker' });
}

/**
 * A connection for ingest and admin commands: when Redis is away, a command fails at once instead of queueing
 * in memory, so the webhook answers 503 and Stripe keeps the event for a later retry.
 */
export function ingestConnection(config: Config): RedisConnection {
	return connectRedis(config, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, connectionName: 'keycrate-ingest' });
}

export function syncQueue(config: Config, connection: RedisConnection): Queue<SyncJobData> {
	return new Queue<SyncJobData>(SYNC_QUEUE, { connection, prefix: config.queuePrefix });
}

export function handoffQueue(config: Config, connection: RedisConnection): Queue {
	return new Queue(HANDOFF_QUEUE, { connection, prefix: config.queuePrefix });
}

export function bulkQueue(config: Config, connection: RedisConnection): Queue {
	return new Queue(BULK_QUEUE, { connection, prefix: config.queuePrefix });
}

/** A bulk job retries on the schedule like a sync; its result is kept BULK_RESULT_TTL_SECONDS. */
export function bulkJobOptions(config: Config, jobId: string): JobsOptions {
	const keep = { age: config.bulkResultTtlSeconds };
	return { ...retryOptions(config), jobId, removeOnComplete: keep, removeOnFail: keep };
}

function retryOptions(config: Config): Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail'> {
	return { attempts: config.retryScheduleMs.length + 1, backoff: { type: RETRY_BACKOFF }, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };
}

export function syncJobOptions(config: Config, root: RootId): JobsOptions {
	return { ...retryOptions(config), deduplication: { id: root, keepLastIfActive: true } };
}

export function handoffJobOptions(config: Config, licenseKey: string): JobsOptions {
	return { ...retryOptions(config), jobId: `handoff-${licenseKey}` };
}

/** Adds sync(root); a no-op when one is already waiting (it will read the same current state). */
export async function enqueueSync(config: Config, queue: Queue<SyncJobData>, root: RootId, cause: string): Promise<void> {
	await queue.add('sync', { root, cause }, syncJobOptions(config, root));
}

/**
 * The delay before retry number `attemptsMade` (1-based): the schedule's entry, but never less than what the
 * failure asks for (a write's settle time, a Retry-After).
 */
export function retryDelay(scheduleMs: readonly number[], attemptsMade: number, error?: Error): number {
	const scheduled = scheduleMs[Math.min(Math.max(attemptsMade, 1), scheduleMs.length) - 1] ?? 0;
	const asked = (error as { settleMs?: unknown; retryAfterMs?: unknown } | undefined) ?? {};
	const floor = Math.max(typeof asked.settleMs === 'number' ? asked.settleMs : 0, typeof asked.retryAfterMs === 'number' ? asked.retryAfterMs : 0);
	return Math.max(scheduled, floor);
}

export interface SkippedRecord {
	at: string;
	reason: SkipReason;
	detail: string;
	root?: RootId;
	eventId?: string;
	eventType?: string;
}

export function skippedKey(config: Pick<Config, 'queuePrefix'>): string {
	return `${config.queuePrefix}:skipped`;
}

/** Records why an event or a root led to no license (capped stream: RedisConnection memory stays bounded). */
export async function recordSkipped(config: Config, redis: RedisConnection, record: Omit<SkippedRecord, 'at'>): Promise<void> {
	const fields = Object.entries({ at: new Date().toISOString(), ...record }).flatMap(([key, value]) => (value === undefined ? [] : [key, String(value)]));
	await redis.xadd(skippedKey(config), 'MAXLEN', '~', String(SKIPPED_MAX), '*', ...fields);
}

/** The newest skipped records first. */
export async function readSkipped(config: Config, redis: RedisConnection, limit: number): Promise<SkippedRecord[]> {
	const entries = await redis.xrevrange(skippedKey(config), '+', '-', 'COUNT', limit);
	return entries.map(([, fields]) => {
		const record: Record<string, string> = {};
		for (let index = 0; index + 1 < fields.length; index += 2) record[fields[index]] = fields[index + 1];
		return record as unknown as SkippedRecord;
	});
}
