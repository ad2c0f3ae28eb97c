// Bulk jobs as an operator sees them: start (or dry-run), list, get, cancel. One module serves the CLI and the
// admin HTTP API, so both say the same thing in the same shape (openapi/worker-admin.openapi.yaml's BulkJob).

import { randomBytes } from 'node:crypto';
import type { Job, JobState, Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { Config } from '../config.js';
import { bulkJobOptions } from '../jobs/queues.js';
import type { BulkApi, BulkJobData, BulkProgress, BulkResult } from './job.js';
import { callsPerChunk, chunkCount, entryOf, listFilter, selects } from './plan.js';
import { BulkRequestError, type BulkSpec } from './request.js';
import { BulkStore } from './store.js';

export type BulkState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'canceled';

export interface BulkJobView {
	id: string;
	kind: BulkSpec['kind'];
	state: BulkState;
	request: BulkSpec;
	progress: BulkProgress;
	result?: BulkResult;
	error?: string;
	created_at: string;
	finished_at?: string;
}

const JOB_ID = /^bulk_[A-Za-z0-9_-]{1,64}$/;

export function isBulkJobId(id: string): boolean {
	return JOB_ID.test(id);
}

function stateOf(state: JobState | 'unknown', result: BulkResult | undefined): BulkState {
	if (state === 'completed') return result?.canceled ? 'canceled' : 'completed';
	if (state === 'failed' || state === 'active' || state === 'delayed') return state;
	return 'waiting';
}

export async function viewOf(job: Job<BulkJobData, BulkResult>): Promise<BulkJobView> {
	const result = job.returnvalue ?? undefined;
	const state = stateOf(await job.getState(), result ?? undefined);
	const progress = (typeof job.progress === 'object' && job.progress !== null ? job.progress : undefined) as BulkProgress | undefined;
	const total = job.data.spec.kind === 'create' ? job.data.spec.count : (job.data.snapshotted ?? 0);
	return {
		id: job.id as string,
		kind: job.data.spec.kind,
		state,
		request: job.data.spec,
		progress: progress ?? { done: state === 'completed' ? total : 0, total, failed: result?.failed ?? 0, rate_per_second: 0, eta_seconds: 0 },
		...(result ? { result } : {}),
		...(state === 'failed' && job.failedReason ? { error: job.failedReason } : {}),
		created_at: new Date(job.timestamp).toISOString(),
		...(job.finishedOn ? { finished_at: new Date(job.finishedOn).toISOString() } : {}),
	};
}

export async function startBulkJob(config: Config, queue: Queue<BulkJobData, BulkResult>, spec: BulkSpec): Promise<BulkJobView> {
	if (spec.notifyUrl !== undefined && config.licenseWebhookSecret === undefined) {
		throw new BulkRequestError('notify_url', 'needs LICENSE_WEBHOOK_SECRET on the worker (it signs the notification)');
	}
	const id = `bulk_${randomBytes(12).toString('base64url')}`;
	const job = await queue.add(spec.kind, { spec }, bulkJobOptions(config, id));
	return viewOf(job);
}

export async function getBulkJob(queue: Queue<BulkJobData, BulkResult>, id: string): Promise<BulkJobView | undefined> {
	if (!isBulkJobId(id)) return undefined;
	const job = await queue.getJob(id);
	return job ? viewOf(job) : undefined;
}

export async function listBulkJobs(queue: Queue<BulkJobData, BulkResult>, state: BulkState | undefined, limit: number): Promise<BulkJobView[]> {
	const types: JobState[] =
		state === undefined
			? ['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed']
			: state === 'canceled'
				? ['completed']
				: state === 'waiting'
					? ['waiting', 'prioritized']
					: [state];
	const jobs = (await queue.getJobs(types, 0, Math.max(limit * 2, 100))).filter((job): job is Job<BulkJobData, BulkResult> => job !== undefined);
	const views = await Promise.all(jobs.map(viewOf));
	return views
		.filter((view) => state === undefined || view.state === state)
		.sort((a, b) => b.created_at.localeCompare(a.created_at))
		.slice(0, limit);
}

export type CancelOutcome = { kind: 'canceled'; view: BulkJobView } | { kind: 'ended'; view: BulkJobView } | { kind: 'unknown' };

/** Asks the job to stop after its current chunk (one not started yet stops before its first). */
export async function cancelBulkJob(config: Config, redis: RedisConnection, queue: Queue<BulkJobData, BulkResult>, id: string): Promise<CancelOutcome> {
	const before = await getBulkJob(queue, id);
	if (before === undefined) return { kind: 'unknown' };
	if (['completed', 'failed', 'canceled'].includes(before.state)) return { kind: 'ended', view: before };
	await new BulkStore(redis, config.queuePrefix, id).requestCancel(config.bulkResultTtlSeconds);
	return { kind: 'canceled', view: (await getBulkJob(queue, id)) ?? before };
}

export interface DryRun {
	kind: BulkSpec['kind'];
	selected: number;
	calls: number;
}

/** What a job would do: its selection's size (read from Keycrate for a filter or key list) and its calls. */
export async function dryRun(config: Pick<Config, 'bulkBatchSize'>, api: Pick<BulkApi, 'listLicensesPage'>, spec: BulkSpec): Promise<DryRun> {
	const batch = config.bulkBatchSize;
	if (spec.kind === 'create') return { kind: spec.kind, selected: spec.count, calls: chunkCount(spec.count, batch) };
	const wanted = 'keys' in spec.selection ? new Set(spec.selection.keys) : undefined;
	let selected = 0;
	let pages = 0;
	for (let page = 1; ; page++) {
		const { items, more } = await api.listLicensesPage(listFilter(spec.appId, spec.selection), page);
		pages += 1;
		selected += items
			.map(entryOf)
			.filter((entry) => entry !== undefined && (wanted === undefined ? selects(entry, spec.selection) : wanted.has(entry.license_key))).length;
		if (!more) break;
	}
	const chunks = chunkCount(selected, batch);
	const perChunk = spec.kind === 'retier' ? batch : callsPerChunk(spec.kind, batch);
	const calls = pages + (spec.kind === 'retier' ? selected : chunks * perChunk);
	return { kind: spec.kind, selected, calls };
}
