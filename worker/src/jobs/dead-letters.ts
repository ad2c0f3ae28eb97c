// Dead letters (syncs and hand-offs that failed for good) as an operator reads and retries them: one module for
// the CLI (`dead-letters`, `retry`) and the admin API (`/admin/dead-letters`).

import type { Job, Queue } from 'bullmq';
import type { Config } from '../config.js';
import { enqueueSync, type SyncJobData } from './queues.js';

export interface DeadLetter {
	kind: 'sync' | 'hand-off';
	/** The root of a sync, the license key of a hand-off (or the bulk job of a notification): what `retry` takes. */
	id: string;
	attempts: number;
	failedAt?: string;
	reason: string;
}

export interface DeadLetterQueues {
	syncs: Queue<SyncJobData>;
	handoffs: Queue;
}

function letterOf(kind: DeadLetter['kind'], job: Job): DeadLetter {
	const data = job.data as Partial<SyncJobData> & { type?: string; id?: string; data?: { license_key?: string } };
	const handoffId = data.type === 'bulk_job.completed' ? data.id : data.data?.license_key;
	return {
		kind,
		id: (kind === 'sync' ? data.root : handoffId) ?? job.id ?? '?',
		attempts: job.attemptsMade,
		failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
		reason: job.failedReason ?? '',
	};
}

/** The newest dead letters, each root or license once, and how many there are in all. */
export async function listDeadLetters({ syncs, handoffs }: DeadLetterQueues, limit: number): Promise<{ letters: DeadLetter[]; total: number }> {
	const [syncTotal, handoffTotal, syncJobs, handoffJobs] = await Promise.all([
		syncs.getFailedCount(),
		handoffs.getFailedCount(),
		syncs.getFailed(0, limit - 1),
		handoffs.getFailed(0, limit - 1),
	]);
	const all = [...syncJobs.map((job) => letterOf('sync', job)), ...handoffJobs.map((job) => letterOf('hand-off', job))];
	// A root can fail again after its dead letter (an event that came meanwhile): show it once, newest first.
	const seen = new Set<string>();
	const unique = all
		.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
		.filter((letter) => !seen.has(`${letter.kind} ${letter.id}`) && seen.add(`${letter.kind} ${letter.id}`));
	return { letters: unique.slice(0, limit), total: unique.length + Math.max(0, syncTotal + handoffTotal - all.length) };
}

export interface RetryOptions {
	/** Only dead letters that failed at or after this time (ms). */
	since?: number;
	/** Only this kind (a replay retries its root's sync only). */
	kind?: DeadLetter['kind'];
	/** The queued sync's cause (its history entry says it). */
	cause?: string;
}

/** Runs dead letters again: a fresh sync of each root, a hand-off from scratch. `ids` undefined = all. */
export async function retryDeadLetters(
	config: Config,
	{ syncs, handoffs }: DeadLetterQueues,
	ids: string[] | undefined,
	options: RetryOptions = {},
): Promise<{ retried: string[]; missing: string[] }> {
	// A root can have several dead letters (events that came while it failed): every one of them is retried.
	const done = new Set<string>();
	const wanted = new Set(ids ?? []);
	for (const [kind, queue] of [
		['sync', syncs],
		['hand-off', handoffs],
	] as const) {
		if (options.kind !== undefined && options.kind !== kind) continue;
		for (const job of await queue.getFailed()) {
			const letter = letterOf(kind, job);
			if (ids !== undefined && !wanted.has(letter.id)) continue;
			if (options.since !== undefined && (job.finishedOn ?? 0) < options.since) continue;
			if (kind === 'sync') {
				// A fresh sync job (deduplicated per root like any other), then the dead letter goes.
				if (!done.has(letter.id)) await enqueueSync(config, syncs, letter.id, options.cause ?? 'retry of a dead letter');
				await job.remove();
			} else {
				await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
			}
			done.add(letter.id);
		}
	}
	return { retried: [...done], missing: [...wanted].filter((id) => !done.has(id)) };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60000, h: 3600000, d: 86400000 };

/**
 * Pure: `--since` / `since` of a retry → ms: an ISO date (2026-11-01, 2026-11-01T12:00:00Z) or a time back from
 * now (90s, 30m, 2h, 7d). A message (without the field's name) when it is neither, or in the future.
 */
export function parseSinceTime(raw: string, now = Date.now()): { ms: number } | { error: string } {
	const relative = /^([0-9]{1,6})([smhd])$/.exec(raw.trim());
	if (relative) return { ms: now - Number(relative[1]) * UNIT_MS[relative[2]] };
	if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw.trim())) {
		return { error: `"${raw}" is neither a time back from now (90s, 30m, 2h, 7d) nor an ISO date (2026-11-01, 2026-11-01T12:00:00Z)` };
	}
	const ms = Date.parse(raw.trim());
	if (Number.isNaN(ms)) return { error: `"${raw}" is not a valid date` };
	if (ms > now) return { error: `"${raw}" is in the future` };
	return { ms };
}
