// What a bulk job keeps in Redis besides its BullMQ job: its snapshot, its chunk ledger (each chunk recorded
// before and after its call), its counts and first failures, and a cancel flag. All under the queue prefix (one
// Redis Cluster slot with the hash tag) and expiring BULK_RESULT_TTL after the job ends.

import type { RedisConnection } from '../redis.js';
import type { SnapshotEntry } from './plan.js';

/** Failures kept per job (the counts are exact; the list is what a seller reads). */
export const MAX_FAILURES_KEPT = 1000;

export interface Failure {
	license_key?: string;
	reason: string;
}

/** `sent:<ms>[:<offset>]` before the call, `done` after it. */
export type LedgerEntry = { state: 'sent'; at: number; offset?: number } | { state: 'done' };

export class BulkStore {
	private readonly base: string;

	constructor(
		private readonly redis: RedisConnection,
		prefix: string,
		readonly jobId: string,
	) {
		this.base = `${prefix}:bulk:${jobId}`;
	}

	private key(part: string): string {
		return `${this.base}:${part}`;
	}

	async resetSnapshot(): Promise<void> {
		await this.redis.del(this.key('snapshot'), this.key('wanted'), this.key('cursor'));
	}

	async addWanted(keys: string[]): Promise<void> {
		for (let index = 0; index < keys.length; index += 10000) await this.redis.sadd(this.key('wanted'), ...keys.slice(index, index + 10000));
	}

	/**
	 * Appends page `page` of the app: the entries whose keys are wanted (all of them when no list was given), with
	 * the page as the snapshot's cursor in the same transaction, so a job cut off mid-snapshot resumes after the
	 * last page it kept, never keeping one twice. Returns how many were kept.
	 */
	async appendSnapshot(page: number, entries: SnapshotEntry[], onlyWanted: boolean): Promise<number> {
		let kept = entries;
		if (onlyWanted && entries.length > 0) {
			const flags = await this.redis.smismember(this.key('wanted'), ...entries.map((entry) => entry.license_key));
			kept = entries.filter((_, index) => flags[index] === 1);
		}
		const multi = this.redis.multi();
		if (onlyWanted && kept.length > 0) multi.srem(this.key('wanted'), ...kept.map((entry) => entry.license_key));
		if (kept.length > 0) multi.rpush(this.key('snapshot'), ...kept.map((entry) => JSON.stringify(entry)));
		await multi.set(this.key('cursor'), String(page)).exec();
		return kept.length;
	}

	/** The last page the snapshot kept (0: none yet). */
	async snapshotCursor(): Promise<number> {
		return Number((await this.redis.get(this.key('cursor'))) ?? 0);
	}

	/** The wanted keys no page of the app held. */
	async unmatched(limit: number): Promise<{ count: number; keys: string[] }> {
		const count = await this.redis.scard(this.key('wanted'));
		const keys = count === 0 ? [] : await this.redis.srandmember(this.key('wanted'), Math.min(limit, count));
		return { count, keys };
	}

	async snapshotSize(): Promise<number> {
		return this.redis.llen(this.key('snapshot'));
	}

	async chunk(start: number, size: number): Promise<SnapshotEntry[]> {
		return (await this.redis.lrange(this.key('snapshot'), start, start + size - 1)).map((line) => JSON.parse(line) as SnapshotEntry);
	}

	/** The whole ledger, read once when a job (re)starts: chunk index → entry. */
	async ledger(): Promise<Map<number, LedgerEntry>> {
		const entries = new Map<number, LedgerEntry>();
		for (const [index, raw] of Object.entries(await this.redis.hgetall(this.key('ledger')))) {
			if (raw === 'done') {
				entries.set(Number(index), { state: 'done' });
				continue;
			}
			const [, at, offset] = raw.split(':');
			entries.set(Number(index), { state: 'sent', at: Number(at), ...(offset !== undefined ? { offset: Number(offset) } : {}) });
		}
		return entries;
	}

	async markSent(index: number, offset?: number): Promise<void> {
		await this.redis.hset(this.key('ledger'), String(index), `sent:${Date.now()}${offset === undefined ? '' : `:${offset}`}`);
	}

	async clearSent(index: number): Promise<void> {
		await this.redis.hdel(this.key('ledger'), String(index));
	}

	/**
	 * The chunk is done: its counts and failures land with the mark, in one transaction (never counted twice).
	 * Resolves to whether a cancel was asked for meanwhile (read in the same round trip).
	 */
	async markDone(index: number, succeeded: number, failures: Failure[], calls: number): Promise<boolean> {
		const multi = this.redis
			.multi()
			.hset(this.key('ledger'), String(index), 'done')
			.hincrby(this.key('counts'), 'succeeded', succeeded)
			.hincrby(this.key('counts'), 'failed', failures.length)
			.hincrby(this.key('counts'), 'calls', calls);
		if (failures.length > 0)
			multi.rpush(this.key('failures'), ...failures.map((failure) => JSON.stringify(failure))).ltrim(this.key('failures'), 0, MAX_FAILURES_KEPT - 1);
		const replies = (await multi.exists(this.key('cancel')).exec()) ?? [];
		return replies[replies.length - 1]?.[1] === 1;
	}

	/** Failures found outside a chunk (keys not in the app): counted once, when the snapshot is taken. */
	async recordFailures(failures: Failure[], count: number): Promise<void> {
		// Once, even when the job is cut off right after and takes this step again.
		if ((await this.redis.set(this.key('unmatched-recorded'), '1', 'NX')) === null) return;
		const multi = this.redis.multi().hincrby(this.key('counts'), 'failed', count);
		if (failures.length > 0)
			multi.rpush(this.key('failures'), ...failures.map((failure) => JSON.stringify(failure))).ltrim(this.key('failures'), 0, MAX_FAILURES_KEPT - 1);
		await multi.exec();
	}

	async addCalls(calls: number): Promise<void> {
		if (calls > 0) await this.redis.hincrby(this.key('counts'), 'calls', calls);
	}

	async counts(): Promise<{ succeeded: number; failed: number; calls: number }> {
		const raw = await this.redis.hgetall(this.key('counts'));
		return { succeeded: Number(raw.succeeded ?? 0), failed: Number(raw.failed ?? 0), calls: Number(raw.calls ?? 0) };
	}

	async failures(): Promise<Failure[]> {
		return (await this.redis.lrange(this.key('failures'), 0, MAX_FAILURES_KEPT - 1)).map((line) => JSON.parse(line) as Failure);
	}

	async requestCancel(ttlSeconds: number): Promise<void> {
		await this.redis.set(this.key('cancel'), '1', 'EX', ttlSeconds);
	}

	async cancelRequested(): Promise<boolean> {
		return (await this.redis.exists(this.key('cancel'))) === 1;
	}

	/** The job ended: the snapshot goes (it can be large), the rest expires with the result. */
	async finish(ttlSeconds: number): Promise<void> {
		const multi = this.redis.multi().del(this.key('snapshot'), this.key('wanted'), this.key('cursor'));
		for (const part of ['ledger', 'counts', 'failures', 'cancel', 'unmatched-recorded']) multi.expire(this.key(part), ttlSeconds);
		await multi.exec();
	}
}
