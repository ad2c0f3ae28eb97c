// A root's history: what each sync attempt saw (Stripe's state, summarized), decided (the desired seats, the plan)
// and did (Keycrate calls, lost replies settled), its outcome, and the hand-offs that followed; plus an index
// event id → root, so `events <evt_…>` and `replay <evt_…>` find the root of an event. Read by the CLI (`root`,
// `events`, `replay`) and the admin API. Bounded like everything in Redis: HISTORY_MAX_ENTRIES per root, and
// every key expires HISTORY_TTL_SECONDS after its last write.
//
// Keys, all under QUEUE_PREFIX so that its hash tag puts them in the queues' Redis Cluster slot:
//   <prefix>:history:root:<root>      list of JSON entries, oldest first (RPUSH + LTRIM)
//   <prefix>:history:pending:<root>   sorted set of events received for the root (score: when) not yet taken
//                                     by a sync; an attempt takes those received before it started
//   <prefix>:history:event:<evt_…>    JSON {root, type, received_ms}
//
// Building an entry is pure (buildSyncEntry, buildHandoffEntry: table-tested); writing one is one round trip
// (a script that also takes the pending events), and a failed write is logged, never fails the job.

import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { Config } from '../config.js';
import type { Done } from '../keycrate/execute.js';
import type { LicenseApi } from '../keycrate/licenses.js';
import type { Action } from '../keycrate/plan.js';
import type { Desired, RootId, RootState } from '../model.js';
import type { Logger } from '../log.js';
import { retryDeadLetters, type DeadLetterQueues } from './dead-letters.js';
import type { HandoffJobData } from './handoff-worker.js';
import { enqueueSync } from './queues.js';
import type { SyncOutcome, SyncTrace } from './sync.js';

export type HistoryConfig = Pick<Config, 'queuePrefix' | 'historyMaxEntries' | 'historyTtlSeconds'>;

/** Events waiting per root (a burst of one subscription's events is dozens at most). */
const PENDING_MAX = 100;
/** Planned and done actions listed per entry; the rest are counted in `truncated`. */
const LISTED_MAX = 50;
/** A history write waits this long at most: it must not hold a job (or a webhook) when Redis is slow. */
const WRITE_TIMEOUT_MS = 2000;

export const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;

export interface HistoryEvent {
	id: string;
	type: string;
	/** When an ingest received it (ms); set when it was taken from the pending set. */
	received_ms?: number;
}

/** Stripe's state as the sync read it, in a few words. */
export type StateSummary =
	| {
			kind: 'subscription';
			status: string;
			lines: string[];
			/** Invoices read, and how many of them are paid. */
			invoices: number;
			paid_invoices: number;
			/** Payments fully refunded, and disputes with their status ("pi_…: lost"). */
			refunded: string[];
			disputes: string[];
	  }
	| { kind: 'payment'; paid: boolean; lines: string[]; refunded: string[]; disputes: string[] }
	| { kind: 'redirect'; to: RootId }
	| { kind: 'none'; reason: string };

export interface PlannedAction {
	type: Action['type'];
	seat: string;
	license_key?: string;
	status?: string;
	tier?: string;
	/** extend: the target expiry. */
	target?: string;
}

export interface DoneAction {
	action: Done['action'];
	seat: string;
	license_key: string;
}

export type SyncOutcomeKind = 'done' | 'skipped' | 'redirected' | 'retried' | 'dead-lettered';

export interface SyncEntry {
	kind: 'sync';
	/** When the attempt ended. */
	at: string;
	started_at: string;
	root: RootId;
	/** 1 for the first run of the job, 2 for its first retry, … */
	attempt: number;
	/** What queued the job: its first event ("<type> <id>"), a resync, a retry, a replay. */
	cause: string;
	/** The events received for the root before the attempt started (added by the store). */
	events?: HistoryEvent[];
	state?: StateSummary;
	entitlement?: { status: string; reason: string; paid_through?: string };
	seats?: { total: number; active: number; paused: number; expires_at?: string };
	planned?: PlannedAction[];
	done?: DoneAction[];
	/** Planned or done actions not listed (more than LISTED_MAX). */
	truncated?: number;
	calls: { stripe: number; keycrate: number };
	/** Creates whose reply was lost or unreadable, settled by finding what they made (adopted). */
	settled?: number;
	outcome: SyncOutcomeKind;
	/** Why: the skip's detail, the redirect's target, the failure (secrets scrubbed). */
	reason?: string;
	retry_in_ms?: number;
}

export interface HandoffEntry {
	kind: 'handoff';
	at: string;
	root: RootId;
	license_key: string;
	outcome: 'delivered' | 'dropped' | 'dead-lettered';
	reason?: string;
}

export type HistoryEntry = SyncEntry | HandoffEntry;

export type AttemptResult =
	| { kind: 'outcome'; outcome: SyncOutcome }
	/** `final`: no retry follows (a permanent error, or the last attempt): a dead letter. */
	| { kind: 'failed'; message: string; final: boolean; retryInMs?: number };

export interface AttemptRecord {
	root: RootId;
	cause: string;
	attempt: number;
	startedAt: number;
	endedAt: number;
	trace: SyncTrace;
	calls: { stripe: number; keycrate: number };
	result: AttemptResult;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoSeconds = (seconds: number): string => iso(seconds * 1000);

function linesOf(state: Extract<RootState, { kind: 'subscription' | 'payment' }>): string[] {
	return state.lines.map((line) => `${line.price?.id ?? line.key ?? 'a line'} ×${line.quantity}${line.metered ? ' (metered)' : ''}`);
}

/** Pure: the state a sync read, as a few facts an operator checks (statuses, refunds, disputes). */
export function summarizeState(state: RootState): StateSummary {
	if (state.kind === 'redirect') return { kind: 'redirect', to: state.to };
	if (state.kind === 'none') return { kind: 'none', reason: state.reason };
	if (state.kind === 'payment') {
		const id = state.payment.paymentIntentId ?? state.root;
		return {
			kind: 'payment',
			paid: state.paid,
			lines: linesOf(state),
			refunded: state.payment.refunded ? [id] : [],
			disputes: state.payment.disputes.map((status) => `${id}: ${status}`),
		};
	}
	const payments = state.invoices.flatMap((invoice) => invoice.payments.map((payment) => ({ id: payment.paymentIntentId ?? invoice.id, payment })));
	return {
		kind: 'subscription',
		status: state.status,
		lines: linesOf(state),
		invoices: state.invoices.length,
		paid_invoices: state.invoices.filter((invoice) => invoice.status === 'paid').length,
		refunded: payments.filter(({ payment }) => payment.refunded).map(({ id }) => id),
		disputes: payments.flatMap(({ id, payment }) => payment.disputes.map((status) => `${id}: ${status}`)),
	};
}

function plannedOf(action: Action): PlannedAction {
	const base = { type: action.type, seat: action.seat };
	switch (action.type) {
		case 'create':
			return base;
		case 'delete':
			return { ...base, license_key: action.licenseKey };
		case 'setTier':
			return { ...base, license_key: action.licenseKey, tier: action.tier };
		case 'setStatus':
			return { ...base, license_key: action.licenseKey, status: action.status };
		case 'extend':
			return { ...base, ...(action.licenseKey ? { license_key: action.licenseKey } : {}), target: isoSeconds(action.target) };
		case 'handoff':
			return { ...base, ...(action.licenseKey ? { license_key: action.licenseKey } : {}) };
	}
}

function desiredParts(want: Desired | undefined): Pick<SyncEntry, 'entitlement' | 'seats'> {
	if (want === undefined || want.kind !== 'seats') return {};
	const { entitlement, seats } = want;
	const expiries = seats.flatMap((seat) => (seat.expiresAt === undefined ? [] : [seat.expiresAt]));
	return {
		entitlement: {
			status: entitlement.status,
			reason: entitlement.reason,
			...(entitlement.paidThrough !== undefined ? { paid_through: isoSeconds(entitlement.paidThrough) } : {}),
		},
		seats: {
			total: seats.length,
			active: seats.filter((seat) => seat.status === 'active').length,
			paused: seats.filter((seat) => seat.status === 'paused').length,
			...(expiries.length > 0 ? { expires_at: isoSeconds(Math.max(...expiries)) } : {}),
		},
	};
}

function outcomeParts(result: AttemptResult): Pick<SyncEntry, 'outcome' | 'reason' | 'retry_in_ms'> {
	if (result.kind === 'failed') {
		return result.final
			? { outcome: 'dead-lettered', reason: result.message }
			: { outcome: 'retried', reason: result.message, ...(result.retryInMs !== undefined ? { retry_in_ms: result.retryInMs } : {}) };
	}
	const { outcome } = result;
	if (outcome.kind === 'skipped') return { outcome: 'skipped', reason: `${outcome.reason}: ${outcome.detail}` };
	if (outcome.kind === 'redirected') return { outcome: 'redirected', reason: `a payment of ${outcome.to}: synced as ${outcome.to}` };
	return { outcome: 'done' };
}

/** Pure: one sync attempt's entry (without its events, which the store adds as it takes them). */
export function buildSyncEntry(record: AttemptRecord): SyncEntry {
	const { trace } = record;
	const planned = (trace.actions ?? []).map(plannedOf);
	const done = trace.done.map((entry) => ({ action: entry.action, seat: entry.seat, license_key: entry.licenseKey }));
	const truncated = Math.max(0, planned.length - LISTED_MAX) + Math.max(0, done.length - LISTED_MAX);
	const settled = trace.done.filter((entry) => entry.action === 'adopted').length;
	return {
		kind: 'sync',
		at: iso(record.endedAt),
		started_at: iso(record.startedAt),
		root: record.root,
		attempt: record.attempt,
		cause: record.cause,
		...(trace.state ? { state: summarizeState(trace.state) } : {}),
		...desiredParts(trace.desired),
		...(planned.length > 0 ? { planned: planned.slice(0, LISTED_MAX) } : {}),
		...(done.length > 0 ? { done: done.slice(0, LISTED_MAX) } : {}),
		...(truncated > 0 ? { truncated } : {}),
		calls: { ...record.calls },
		...(settled > 0 ? { settled } : {}),
		...outcomeParts(record.result),
	};
}

/**
 * The root a license hand-off belongs to, from its payload: a subscription's license names the subscription, a
 * one-off purchase's its payment intent, a purchase that charged nothing its Checkout Session (fetch.ts linkage).
 */
export function rootOfHandoff(data: HandoffJobData): RootId | undefined {
	if (data.type !== 'license.created') return undefined;
	return data.data.subscription_id ?? data.data.payment_intent_id ?? data.data.checkout_session_id ?? undefined;
}

/** Pure: a hand-off's end as an entry of its root's history; undefined for a bulk job's notification. */
export function buildHandoffEntry(data: HandoffJobData, outcome: HandoffEntry['outcome'], at: number, reason?: string): HandoffEntry | undefined {
	const root = rootOfHandoff(data);
	if (root === undefined || data.type !== 'license.created') return undefined;
	return { kind: 'handoff', at: iso(at), root, license_key: data.data.license_key, outcome, ...(reason !== undefined ? { reason } : {}) };
}

export function historyKey(config: Pick<Config, 'queuePrefix'>, root: RootId): string {
	return `${config.queuePrefix}:history:root:${root}`;
}

function pendingKey(config: Pick<Config, 'queuePrefix'>, root: RootId): string {
	return `${config.queuePrefix}:history:pending:${root}`;
}

function eventKey(config: Pick<Config, 'queuePrefix'>, eventId: string): string {
	return `${config.queuePrefix}:history:event:${eventId}`;
}

/**
 * KEYS: history list, pending set. ARGV: entry JSON (an object without "events"), taken-before (ms), max
 * entries, TTL seconds. Takes the pending events received before the attempt started into the entry, appends it,
 * trims the list to its newest entries and renews the TTLs.
 */
const APPEND_SCRIPT = `
local taken = {}
if ARGV[2] ~= '' then
	local pending = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'WITHSCORES')
	for i = 1, #pending, 2 do
		taken[#taken + 1] = string.sub(pending[i], 1, -2) .. ',"received_ms":' .. pending[i + 1] .. '}'
	end
	if #pending > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2]) end
end
local entry = ARGV[1]
if #taken > 0 then entry = string.sub(entry, 1, -2) .. ',"events":[' .. table.concat(taken, ',') .. ']}' end
redis.call('RPUSH', KEYS[1], entry)
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return #taken
`;

type HistoryRedis = RedisConnection & {
	historyAppend(history: string, pending: string, entry: string, takenBefore: string, max: string, ttl: string): Promise<number>;
};

function withScript(redis: RedisConnection): HistoryRedis {
	const scripted = redis as HistoryRedis;
	// EVALSHA with EVAL as fallback: one round trip once the script is cached on the server.
	if (typeof scripted.historyAppend !== 'function') redis.defineCommand('historyAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
	return scripted;
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
	});
	return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Appends an entry to its root's history; `takenBefore` (ms) takes the events received before then. Never throws. */
export async function appendEntry(config: HistoryConfig, redis: RedisConnection, log: Logger, entry: HistoryEntry, takenBefore?: number): Promise<void> {
	if (config.historyMaxEntries === 0) return;
	try {
		const { events: _events, ...rest } = entry as SyncEntry;
		await withTimeout(
			withScript(redis).historyAppend(
				historyKey(config, entry.root),
				pendingKey(config, entry.root),
				JSON.stringify(rest),
				takenBefore === undefined ? '' : String(takenBefore),
				String(config.historyMaxEntries),
				String(config.historyTtlSeconds),
			),
		);
	} catch (error) {
		log.warn({ root: entry.root, err: (error as Error).message }, 'history not written (the sync itself is unaffected)');
	}
}

/**
 * At ingest: the event's index entry and its place among the root's pending events, in one MULTI. Never throws:
 * the webhook's answer depends on the queued sync only.
 */
export async function recordEvent(
	config: HistoryConfig,
	redis: RedisConnection,
	log: Logger,
	event: { id: string; type: string },
	root: RootId,
	receivedAt = Date.now(),
): Promise<void> {
	if (config.historyMaxEntries === 0) return;
	const ttl = config.historyTtlSeconds;
	const pending = pendingKey(config, root);
	try {
		const results = await withTimeout(
			redis
				.multi()
				.set(eventKey(config, event.id), JSON.stringify({ root, type: event.type, received_ms: receivedAt }), 'EX', ttl)
				// Member = the event itself: a redelivery moves it (score = its latest arrival), never doubles it.
				.zadd(pending, receivedAt, JSON.stringify({ id: event.id, type: event.type }))
				.zremrangebyrank(pending, 0, -(PENDING_MAX + 1))
				.expire(pending, ttl)
				.exec(),
		);
		const failed = results?.find(([error]) => error !== null)?.[0];
		if (failed) throw failed;
	} catch (error) {
		log.warn({ eventId: event.id, root, err: (error as Error).message }, 'event not indexed in the history (the webhook is unaffected)');
	}
}

export interface IndexedEvent {
	id: string;
	root: RootId;
	type: string;
	received_at?: string;
}

/** The root an event was for, as the ingest indexed it (undefined: never received, or older than the TTL). */
export async function lookupEvent(config: HistoryConfig, redis: RedisConnection, eventId: string): Promise<IndexedEvent | undefined> {
	const raw = await redis.get(eventKey(config, eventId));
	if (raw === null) return undefined;
	const parsed = JSON.parse(raw) as { root: RootId; type: string; received_ms?: number };
	return { id: eventId, root: parsed.root, type: parsed.type, ...(parsed.received_ms !== undefined ? { received_at: iso(parsed.received_ms) } : {}) };
}

/** A root's history, oldest first; `limit` keeps the newest. */
export async function readHistory(config: HistoryConfig, redis: RedisConnection, root: RootId, limit?: number): Promise<HistoryEntry[]> {
	const raw = await redis.lrange(historyKey(config, root), limit === undefined ? 0 : -limit, -1);
	return raw.map((line) => JSON.parse(line) as HistoryEntry);
}

/** Whether an event still waits for a sync of its root (received, not taken by an attempt yet). */
async function isPending(config: HistoryConfig, redis: RedisConnection, event: IndexedEvent): Promise<boolean> {
	return (await redis.zscore(pendingKey(config, event.root), JSON.stringify({ id: event.id, type: event.type }))) !== null;
}

/** Puts an event back among its root's pending ones, so the sync a replay queues lists it. */
export async function markPending(config: HistoryConfig, redis: RedisConnection, event: IndexedEvent, at = Date.now()): Promise<void> {
	if (config.historyMaxEntries === 0) return;
	await redis
		.multi()
		.zadd(pendingKey(config, event.root), at, JSON.stringify({ id: event.id, type: event.type }))
		.expire(pendingKey(config, event.root), config.historyTtlSeconds)
		.exec();
}

export interface EventStory {
	event_id: string;
	type: string;
	root: RootId;
	received_at?: string;
	/** Received, and no attempt has taken it yet. */
	pending: boolean;
	entries: SyncEntry[];
}

/** `events <evt_…>` and GET /admin/events/{id}: the event's root and the attempts that took it; undefined when unknown. */
export async function eventStory(config: HistoryConfig, redis: RedisConnection, eventId: string): Promise<EventStory | undefined> {
	const event = await lookupEvent(config, redis, eventId);
	if (event === undefined) return undefined;
	const [entries, pending] = await Promise.all([readHistory(config, redis, event.root), isPending(config, redis, event)]);
	return {
		event_id: event.id,
		type: event.type,
		root: event.root,
		...(event.received_at ? { received_at: event.received_at } : {}),
		pending,
		entries: entriesOfEvent(entries, eventId),
	};
}

/** The entries of a root that took this event (normally one; a redelivery after its sync can add another). */
export function entriesOfEvent(entries: HistoryEntry[], eventId: string): SyncEntry[] {
	return entries.filter((entry): entry is SyncEntry => entry.kind === 'sync' && (entry.events ?? []).some((event) => event.id === eventId));
}

/** Counts the calls a sync makes through a LicenseApi (a wrapper per job; the client itself is shared). */
export function countingApi(api: LicenseApi, calls: { keycrate: number }): LicenseApi {
	return new Proxy(api, {
		get(target, property) {
			const value: unknown = Reflect.get(target, property, target);
			if (typeof value !== 'function') return value;
			return (...args: unknown[]) => {
				calls.keycrate += 1;
				return (value as (...given: unknown[]) => unknown).apply(target, args);
			};
		},
	});
}

/** Records the end of every license hand-off (delivered, dropped, dead-lettered) in its root's history. */
export function recordHandoffs(config: HistoryConfig, redis: RedisConnection, log: Logger, worker: Worker<HandoffJobData>): void {
	if (config.historyMaxEntries === 0) return;
	const record = (job: Job<HandoffJobData>, outcome: HandoffEntry['outcome'], reason?: string) => {
		const entry = buildHandoffEntry(job.data, outcome, Date.now(), reason);
		if (entry !== undefined) void appendEntry(config, redis, log, entry);
	};
	// A hand-off marks `delivered` once the receiver took it; a completed job without it found no license to hand off.
	worker.on('completed', (job) => record(job, job.data.type === 'license.created' && job.data.delivered === true ? 'delivered' : 'dropped'));
	worker.on('failed', (job, error) => {
		if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError)) record(job, 'dead-lettered', error.message);
	});
}

export type ReplayResult = { kind: 'unknown' } | { kind: 'queued'; event: IndexedEvent; deadLetter: boolean };

/**
 * Re-runs the sync of an event's root now. A sync reads Stripe's current state, so a replay applies the event
 * once however often it is replayed. A dead letter of the root is retried (and so leaves the list); otherwise a
 * fresh sync is queued (deduplicated with one already waiting).
 */
export async function replayEvent(config: Config, redis: RedisConnection, queues: DeadLetterQueues, eventId: string): Promise<ReplayResult> {
	const event = await lookupEvent(config, redis, eventId);
	if (event === undefined) return { kind: 'unknown' };
	const cause = `replay of ${event.type} ${event.id}`;
	await markPending(config, redis, event);
	const { retried } = await retryDeadLetters(config, queues, [event.root], { kind: 'sync', cause });
	if (retried.length === 0) await enqueueSync(config, queues.syncs, event.root, cause);
	return { kind: 'queued', event, deadLetter: retried.length > 0 };
}

/** Why an event id is not known, and what to do instead (CLI and admin API say the same). */
export function unknownEventMessage(config: HistoryConfig, eventId: string): string {
	const off = config.historyMaxEntries === 0 ? ' (HISTORY_MAX_ENTRIES=0: no events are indexed)' : '';
	return (
		`${eventId} is not in the history${off}: never received here, older than HISTORY_TTL_SECONDS (${config.historyTtlSeconds} s), or an event that named no root (keycrate-worker skipped). ` +
		'Find its root (sub_…, pi_…, cs_…) in the Stripe Dashboard and run: keycrate-worker resync --root <root>'
	);
}
