// The bulk job: resolve the selection into a snapshot (once), then work through its chunks in order, each
// recorded before and after its call (store.ts), so a killed or restarted job resumes where it stopped, never
// applies a chunk twice and never skips one. A chunk found "sent" but not "done" is settled by reading
// (plan.ts says how) after its write must have landed. Buyers first: while syncs wait, the job steps aside.

import { closeSync, ftruncateSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { Config } from '../config.js';
import { isKeycrateError, isPermanentKeycrateError, mayStillCommit } from '../keycrate/errors.js';
import type { BulkItemResult, KeycrateLicense, LicenseCreateBulkRequest, LicenseListFilter } from '../keycrate/client.js';
import { readLicense } from '../keycrate/record.js';
import type { Logger } from '../log.js';
import type { SettableStatus } from '../model.js';
import {
	chunkCount,
	chunkSize,
	chunkTag,
	entryOf,
	exportHeader,
	exportLine,
	extendGroups,
	jobTag,
	jobTotal,
	listFilter,
	selects,
	type SnapshotEntry,
} from './plan.js';
import type { BulkSpec } from './request.js';
import { BulkStore, type Failure } from './store.js';
import { bulkChunks, bulkKeys } from '../observe/metrics.js';

/** The Keycrate calls a bulk job makes (keycrate/client.ts). */
export interface BulkApi {
	createLicensesBulk(body: LicenseCreateBulkRequest): Promise<KeycrateLicense[]>;
	extendLicensesBulk(licenseKeys: string[], extendSeconds: number): Promise<BulkItemResult[]>;
	updateStatusBulk(licenseKeys: string[], status: SettableStatus): Promise<BulkItemResult[]>;
	deleteLicensesBulk(licenseKeys: string[]): Promise<BulkItemResult[]>;
	toggleLockBulk(licenseKeys: string[], hwidLock: boolean): Promise<BulkItemResult[]>;
	updateSubscription(licenseKey: string, subscriptionId: string | null): Promise<KeycrateLicense>;
	getLicense(licenseKey: string): Promise<KeycrateLicense | null>;
	listLicensesPage(filter: LicenseListFilter, page: number): Promise<{ items: unknown[]; more: boolean }>;
}

export interface BulkJobData {
	spec: BulkSpec;
	/** Set once the snapshot is complete (its size). */
	snapshotted?: number;
	/** ms since the epoch when the job first ran (rate and ETA). */
	startedAt?: number;
	/** The export file, once chosen. */
	exportPath?: string;
	/** Failures in a row since the last chunk done: the retry schedule counts per stuck point, not per job. */
	failureStreak?: number;
}

export interface BulkProgress {
	done: number;
	total: number;
	failed: number;
	rate_per_second: number;
	eta_seconds: number;
}

export interface BulkResult {
	succeeded: number;
	failed: number;
	canceled: boolean;
	failures: Failure[];
	export_path?: string;
	calls: number;
}

export interface BulkContext {
	config: Pick<Config, 'queuePrefix' | 'bulkBatchSize' | 'settleMs' | 'bulkResultTtlSeconds' | 'exportDir' | 'retryScheduleMs'>;
	connection: RedisConnection;
	api: BulkApi;
	log: Logger;
	/** The sync queue: while buyers' syncs wait, bulk chunks step aside. */
	syncs: Pick<Queue, 'getJobCounts'>;
	/** Queues the job's signed notification to its notify_url. */
	notify(url: string, jobId: string, result: BulkResult): Promise<void>;
}

/** How long a bulk job steps aside while buyers' syncs wait. */
const YIELD_MS = 200;
const PROGRESS_EVERY_MS = 250;
/** Pages of a snapshot read at once (past the last page, a read answers an empty page: at most this many − 1). */
const SNAPSHOT_PAGES_IN_FLIGHT = 4;
/** Keys whose per-key calls (retier) or settle reads run at once. */
const PER_KEY_CONCURRENCY = 10;

/** Stop the job now and run it again at `until` without using an attempt (a 429, a settle wait, buyers first). */
async function delayUntil(job: Job, token: string | undefined, until: number): Promise<never> {
	if (token === undefined) throw new Error('a bulk job needs its lock token to step aside');
	await job.moveToDelayed(until, token);
	throw new DelayedError();
}

async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(limit, items.length) }, async () => {
			while (next < items.length) {
				const index = next++;
				results[index] = await work(items[index]);
			}
		}),
	);
	return results;
}

/**
 * Resolves the selection into the snapshot: the app's licenses page by page, only those selected. Resumable: a
 * job cut off mid-way goes on after the last page it kept.
 */
async function takeSnapshot(ctx: BulkContext, store: BulkStore, spec: Exclude<BulkSpec, { kind: 'create' }>, progressed: () => Promise<void>): Promise<number> {
	const { selection } = spec;
	const byKeys = 'keys' in selection;
	let page = await store.snapshotCursor();
	if (page === 0) {
		await store.resetSnapshot();
		if (byKeys) await store.addWanted(selection.keys);
	}
	const filter = listFilter(spec.appId, selection);
	// A few pages in flight, kept in order: one page's fault or Retry-After wait does not hold up the others.
	for (let more = true; more;) {
		const window = Array.from({ length: SNAPSHOT_PAGES_IN_FLIGHT }, (_, index) => page + 1 + index);
		const reads = await Promise.allSettled(window.map((number) => readPatiently(() => ctx.api.listLicensesPage(filter, number))));
		await store.addCalls(reads.length);
		for (const read of reads) {
			if (read.status === 'rejected') throw read.reason;
			page += 1;
			const entries = read.value.items.map(entryOf).filter((entry): entry is SnapshotEntry => entry !== undefined && selects(entry, selection));
			await store.appendSnapshot(page, entries, byKeys);
			more = read.value.more;
			if (!more) break;
		}
		await progressed();
	}
	if (byKeys) {
		const missing = await store.unmatched(100);
		if (missing.count > 0) {
			await store.recordFailures(
				missing.keys.map((key) => ({ license_key: key, reason: `LICENSE_NOT_FOUND: not a license of app ${spec.appId}` })),
				missing.count,
			);
		}
	}
	return store.snapshotSize();
}

/** Waits for Retry-After a read may take in place (longer ones step the job aside). */
const READ_RATE_LIMIT_WAITS = 10;
const READ_RATE_LIMIT_MAX_WAIT_MS = 5000;

/**
 * Reads are safe to send again: a snapshot or a settle of many keys does not start over because one read met a
 * fault. A 429 is honoured here (Retry-After, then the same read again), counted apart from the faults: a long
 * snapshot meets many and none of them is a failure of the job.
 */
async function readPatiently<T>(read: () => Promise<T>, tries = 4): Promise<T> {
	let waits = 0;
	for (let attempt = 1; ; attempt++) {
		try {
			return await read();
		} catch (error) {
			if (!isKeycrateError(error)) throw error;
			const wait = error.retryAfterMs ?? 1000;
			if (error.code === 'RATE_LIMITED' && waits < READ_RATE_LIMIT_WAITS && wait <= READ_RATE_LIMIT_MAX_WAIT_MS) {
				waits += 1;
				attempt -= 1;
				await new Promise((resolve) => setTimeout(resolve, wait));
				continue;
			}
			if (attempt >= tries || !error.retryable || error.code === 'RATE_LIMITED') throw error;
		}
	}
}

function failuresOf(
	results: BulkItemResult[],
	sent: string[],
	treatAsDone: (result: BulkItemResult) => boolean = () => false,
): { succeeded: number; failures: Failure[] } {
	const byKey = new Map(results.map((result) => [result.license_key, result]));
	const failures: Failure[] = [];
	let succeeded = 0;
	for (const key of sent) {
		const result = byKey.get(key);
		if (result === undefined) failures.push({ license_key: key, reason: 'Keycrate answered no result for this key' });
		else if (result.success || treatAsDone(result)) succeeded += 1;
		else failures.push({ license_key: key, reason: `${result.error_code ?? 'FAILED'}: ${result.error ?? 'no reason given'}` });
	}
	return { succeeded, failures };
}

interface ChunkOutcome {
	succeeded: number;
	failures: Failure[];
	calls: number;
}

/** Licenses of the app that carry the chunk's tag (checked on each: the tag filter is inferred). */
async function countTagged(ctx: BulkContext, appId: string, tag: string): Promise<{ count: number; calls: number }> {
	let count = 0;
	let calls = 0;
	for (let page = 1; ; page++) {
		const { items, more } = await readPatiently(() => ctx.api.listLicensesPage({ app_id: appId, tag }, page));
		calls += 1;
		count += items.filter((item) => Array.isArray((item as { tags?: unknown }).tags) && (item as { tags: unknown[] }).tags.includes(tag)).length;
		if (!more) return { count, calls };
	}
}

async function createChunk(
	ctx: BulkContext,
	jobId: string,
	spec: Extract<BulkSpec, { kind: 'create' }>,
	index: number,
	settling: boolean,
): Promise<ChunkOutcome> {
	const size = chunkSize(spec.count, ctx.config.bulkBatchSize, index);
	const tag = chunkTag(jobId, index);
	let missing = size;
	let calls = 0;
	if (settling) {
		const found = await countTagged(ctx, spec.appId, tag);
		calls += found.calls;
		missing = Math.max(0, size - found.count);
	}
	if (missing > 0) {
		await ctx.api.createLicensesBulk({
			key_amount: missing,
			app_id: spec.appId,
			duration_unit: spec.durationUnit,
			...(spec.durationValue !== undefined ? { duration_value: spec.durationValue } : {}),
			...(spec.subscriptionId !== undefined ? { subscription_id: spec.subscriptionId } : {}),
			...(spec.hwidLock !== undefined ? { hwid_lock: spec.hwidLock } : {}),
			...(spec.keyPattern !== undefined ? { key_pattern: spec.keyPattern } : {}),
			...(spec.metadata !== undefined ? { metadata: spec.metadata } : {}),
			tags: [...spec.tags, jobTag(jobId), tag],
		});
		calls += 1;
	}
	return { succeeded: size, failures: [], calls };
}

async function extendChunk(ctx: BulkContext, spec: Extract<BulkSpec, { kind: 'extend' }>, entries: SnapshotEntry[], settling: boolean): Promise<ChunkOutcome> {
	const failures: Failure[] = [];
	let succeeded = 0;
	const targets = new Map<string, number>();
	for (const entry of entries) {
		if (typeof entry.expires_at === 'number') targets.set(entry.license_key, entry.expires_at + spec.seconds);
		else if (entry.expires_at === null)
			succeeded += 1; // lifetime: nothing to add
		else failures.push({ license_key: entry.license_key, reason: 'its expiry was unknown when the job started: not extended' });
	}
	if (targets.size === 0) return { succeeded, failures, calls: 0 };
	let calls = 0;
	const keys = [...targets.keys()];
	let expiries = new Map<string, number | null | undefined>(entries.map((entry) => [entry.license_key, entry.expires_at]));
	if (settling) {
		// What the lost call did: read each key; extend only what is still below its target.
		const read = await inParallel(keys, PER_KEY_CONCURRENCY, async (key) => [key, await readPatiently(() => ctx.api.getLicense(key))] as const);
		calls += keys.length;
		expiries = new Map(read.map(([key, license]) => [key, license === null ? undefined : readLicense(license, '')?.expiresAt]));
		for (const [key, license] of read) if (license === null) failures.push({ license_key: key, reason: 'LICENSE_NOT_FOUND: deleted meanwhile' });
	}
	const groups = extendGroups(targets, expiries);
	const short = new Set([...groups.values()].flat());
	succeeded += keys.filter((key) => !short.has(key) && expiries.get(key) !== undefined).length;
	for (const [seconds, group] of groups) {
		const results = await ctx.api.extendLicensesBulk(group, seconds);
		calls += 1;
		const outcome = failuresOf(results, group);
		succeeded += outcome.succeeded;
		failures.push(...outcome.failures);
	}
	return { succeeded, failures, calls };
}

async function setChunk(
	ctx: BulkContext,
	spec: Exclude<BulkSpec, { kind: 'create' | 'extend' | 'export' }>,
	keys: string[],
	settling: boolean,
): Promise<ChunkOutcome> {
	switch (spec.kind) {
		case 'pause':
		case 'activate':
			return { ...failuresOf(await ctx.api.updateStatusBulk(keys, spec.kind === 'pause' ? 'paused' : 'active'), keys), calls: 1 };
		case 'lock':
			return { ...failuresOf(await ctx.api.toggleLockBulk(keys, spec.hwidLock), keys), calls: 1 };
		case 'delete':
			// Sent again after a lost reply: a key it already deleted answers LICENSE_NOT_FOUND, which is done.
			return { ...failuresOf(await ctx.api.deleteLicensesBulk(keys), keys, (result) => settling && result.error_code === 'LICENSE_NOT_FOUND'), calls: 1 };
		case 'retier': {
			const results = await inParallel(keys, PER_KEY_CONCURRENCY, async (key): Promise<Failure | undefined> => {
				try {
					await ctx.api.updateSubscription(key, spec.subscriptionId);
					return undefined;
				} catch (error) {
					// A key the API refuses fails alone; anything else (an outage) fails the chunk, to be sent again.
					if (isPermanentKeycrateError(error)) return { license_key: key, reason: `${error.code}: ${error.message}` };
					throw error;
				}
			});
			const failures = results.filter((failure): failure is Failure => failure !== undefined);
			return { succeeded: keys.length - failures.length, failures, calls: keys.length };
		}
	}
}

function exportChunk(path: string, format: 'csv' | 'jsonl', entries: SnapshotEntry[], offset: number | undefined): ChunkOutcome {
	const file = openSync(path, 'r+');
	try {
		// A chunk cut off mid-write is rewritten from where it began.
		const start = offset ?? statSync(path).size;
		ftruncateSync(file, start);
		writeSync(file, entries.map((entry) => exportLine(entry, format)).join(''), start);
	} finally {
		closeSync(file);
	}
	return { succeeded: entries.length, failures: [], calls: 0 };
}

export function bulkJob(ctx: BulkContext): (job: Job<BulkJobData>, token?: string) => Promise<BulkResult> {
	const { config } = ctx;
	return async (job, token) => {
		const jobId = job.id as string;
		const store = new BulkStore(ctx.connection, config.queuePrefix, jobId);
		const { spec } = job.data;
		let data: BulkJobData = { ...job.data, startedAt: job.data.startedAt ?? Date.now() };
		const save = async (changes: Partial<BulkJobData>) => {
			data = { ...data, ...changes };
			await job.updateData(data);
		};
		const startedAt = data.startedAt as number;
		if (job.data.startedAt === undefined) await save({});

		try {
			let total = spec.kind === 'create' ? spec.count : data.snapshotted;
			if (total === undefined && spec.kind !== 'create') {
				// A page kept after a failure ends its streak: a 1,000-page snapshot is progress, not one step.
				total = await takeSnapshot(ctx, store, spec, async () => {
					if ((data.failureStreak ?? 0) > 0) await save({ failureStreak: 0 });
				});
				await save({ snapshotted: total });
			}
			total = jobTotal(spec, total ?? 0);
			let exportPath = data.exportPath;
			if (spec.kind === 'export' && exportPath === undefined) {
				mkdirSync(config.exportDir, { recursive: true });
				exportPath = resolve(join(config.exportDir, `${jobId}.${spec.format}`));
				const file = openSync(exportPath, 'w');
				writeSync(file, exportHeader(spec.format));
				closeSync(file);
				await save({ exportPath });
			}

			const batch = config.bulkBatchSize;
			const chunks = chunkCount(total, batch);
			const ledger = await store.ledger();
			let canceled = await store.cancelRequested();
			let failed = (await store.counts()).failed;
			let reported = 0;
			for (let index = 0; index < chunks && !canceled; index++) {
				const entry = ledger.get(index);
				if (entry?.state === 'done') continue;
				// Sent before and not recorded done: its call may still land; settle once it must have.
				const settling = entry?.state === 'sent';
				if (settling && spec.kind !== 'export' && entry.at + config.settleMs > Date.now()) await delayUntil(job, token, entry.at + config.settleMs);
				const offset = spec.kind === 'export' ? (settling && entry.state === 'sent' ? entry.offset : statSync(exportPath as string).size) : undefined;
				// Buyers first: a purchase's sync never waits behind a chunk. (Asked while the chunk is recorded as
				// sent, in parallel: one round trip less per chunk; a chunk that steps aside is unrecorded again.)
				const [waiting, entries] = await Promise.all([
					ctx.syncs.getJobCounts('waiting', 'prioritized'),
					spec.kind === 'create' ? Promise.resolve([]) : store.chunk(index * batch, chunkSize(total, batch, index)),
					settling ? Promise.resolve() : store.markSent(index, offset),
				]);
				if ((waiting.waiting ?? 0) + (waiting.prioritized ?? 0) > 0) {
					if (!settling) await store.clearSent(index);
					bulkChunks.inc({ kind: spec.kind, outcome: 'yielded' });
					await delayUntil(job, token, Date.now() + YIELD_MS);
				}
				let outcome: ChunkOutcome;
				try {
					if (spec.kind === 'create') outcome = await createChunk(ctx, jobId, spec, index, settling);
					else if (spec.kind === 'extend') outcome = await extendChunk(ctx, spec, entries, settling);
					else if (spec.kind === 'export') outcome = exportChunk(exportPath as string, spec.format, entries, offset);
					else
						outcome = await setChunk(
							ctx,
							spec,
							entries.map((item) => item.license_key),
							settling,
						);
				} catch (error) {
					if (isKeycrateError(error) && error.code === 'RATE_LIMITED') {
						// Refused, not applied: the chunk is not sent; run again after Retry-After, no attempt used.
						if (!settling) await store.clearSent(index);
						bulkChunks.inc({ kind: spec.kind, outcome: 'rate_limited' });
						await delayUntil(job, token, Date.now() + (error.retryAfterMs ?? 1000));
					}
					if (mayStillCommit(error)) {
						// No answer: it may still land. Settle once it must have (no attempt used).
						await store.markSent(index, offset);
						bulkChunks.inc({ kind: spec.kind, outcome: 'unanswered' });
						await delayUntil(job, token, Date.now() + config.settleMs);
					}
					if (isKeycrateError(error) && error.ambiguous && (spec.kind === 'create' || spec.kind === 'extend')) {
						// Answered but maybe applied: settle now, by reading.
						outcome = spec.kind === 'create' ? await createChunk(ctx, jobId, spec, index, true) : await extendChunk(ctx, spec, entries, true);
					} else {
						bulkChunks.inc({ kind: spec.kind, outcome: 'failed' });
						throw error;
					}
				}
				canceled = await store.markDone(index, outcome.succeeded, outcome.failures, outcome.calls);
				bulkChunks.inc({ kind: spec.kind, outcome: 'done' });
				bulkKeys.inc({ kind: spec.kind, result: 'succeeded' }, outcome.succeeded);
				if (outcome.failures.length > 0) bulkKeys.inc({ kind: spec.kind, result: 'failed' }, outcome.failures.length);
				if ((data.failureStreak ?? 0) > 0) await save({ failureStreak: 0 });
				failed += outcome.failures.length;
				const done = Math.min(total, (index + 1) * batch);
				// Progress at most 4 times a second (and at the end): a Redis write per chunk is not free.
				if (Date.now() - reported >= PROGRESS_EVERY_MS || done === total) {
					reported = Date.now();
					const rate = done / Math.max(0.001, (reported - startedAt) / 1000);
					const progress: BulkProgress = {
						done,
						total,
						failed,
						rate_per_second: Math.round(rate * 10) / 10,
						eta_seconds: Math.round((total - done) / Math.max(rate, 0.001)),
					};
					await job.updateProgress(progress as unknown as object);
				}
			}

			const counts = await store.counts();
			const result: BulkResult = { ...counts, canceled, failures: await store.failures(), ...(exportPath ? { export_path: exportPath } : {}) };
			await store.finish(config.bulkResultTtlSeconds);
			if (spec.notifyUrl !== undefined) await ctx.notify(spec.notifyUrl, jobId, result);
			ctx.log.info(
				{ jobId, kind: spec.kind, succeeded: result.succeeded, failed: result.failed, canceled, calls: result.calls },
				canceled ? 'bulk job canceled' : 'bulk job done',
			);
			return result;
		} catch (error) {
			if (error instanceof DelayedError) throw error;
			if (isPermanentKeycrateError(error)) {
				ctx.log.error({ jobId, kind: spec.kind, err: error.message }, 'bulk job failed: Keycrate refused it');
				throw new UnrecoverableError(error.message);
			}
			// A passing failure (an outage, a 500 after the client's own retries): wait as the retry schedule
			// says, counted from the last chunk done, so a long job does not spend its attempts over hours of work.
			const streak = (data.failureStreak ?? 0) + 1;
			if (streak > config.retryScheduleMs.length) throw error;
			ctx.log.warn({ jobId, kind: spec.kind, streak, err: (error as Error).message }, 'bulk job paused after a failure: it goes on where it stopped');
			await save({ failureStreak: streak });
			await delayUntil(job, token, Date.now() + (config.retryScheduleMs[streak - 1] ?? 1000));
			throw error;
		}
	};
}
