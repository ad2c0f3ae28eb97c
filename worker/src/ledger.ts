// The ledger: what the worker knows about each root, in Redis, merged so that order and repetition do not matter.
//
// Merge rules (one Lua script each, so a merge is atomic against every other worker):
//   lines, status      newest (asOf, rank, event id) wins        → a late old event cannot roll state back
//   expiresAtLeast     max                                        → renewals in any order give the latest period
//   entitled           OR                                         → once paid, seats exist (maybe paused)
//   linkage            first value per field                      → where the license came from
//   revocation         earliest kept; a refund for a payment that has no root yet waits for it (and vice versa)
//                      — revocations arrive through revokePayment, never as a fact of a root
// Seat records hold the intent protocol for creating a license: `creating` (+ search tag) before the call,
// `created` (+ key) after it, so a retry after a lost reply finds the license instead of creating a second.
// Every key expires (LEDGER_TTL_DAYS), so memory follows traffic, not history.

import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Linkage, PaymentRevocation, RootFacts, RootId, SeatLine, SettableStatus, UnixSeconds } from './model.js';
import { ledgerKey } from './queue.js';

/** A stamped fact as stored: its value plus what orders it against other events' values. */
interface StoredStamp<T> {
	value: T;
	asOf: UnixSeconds;
	rank: number;
	eventId: string;
}

/** The merged state of one root, as converge reads it. */
export interface RootState {
	root: RootId;
	kind: 'subscription' | 'payment';
	linkage: Linkage;
	lines: SeatLine[];
	status?: StoredStamp<SettableStatus>;
	expiresAtLeast?: UnixSeconds;
	entitled: boolean;
	revoked?: { asOf: UnixSeconds; reason: 'refund' | 'dispute' };
	/** Seats 0..seatsEverCreated-1 may own licenses (seats beyond the current quantity get paused). */
	seatsEverCreated: number;
	/** How many seats one clean, in-order delivery of the events seen so far would have created. */
	seatsNeeded: number;
}

/** What one event said about a root's seats, kept so the seat count never depends on delivery order. */
export interface SeatHistoryEntry {
	asOf: UnixSeconds;
	rank: number;
	eventId: string;
	/** Seats in the event's lines; null when it named none. */
	seats: number | null;
	entitled: boolean;
	/** The event told the paid-through time (a subscription seat is created only once that is known). */
	periodKnown: boolean;
}

/**
 * Replays the events in Stripe's order, as one clean delivery would have processed them, and returns the most
 * seats that delivery would have created: after each event, the latest line count, once the root was entitled
 * (and, for a subscription, its period known). Seats are never deleted, so the most ever is what exists.
 * Without this, "2 seats then 1" delivered in reverse would create one license instead of two (one paused).
 */
export function seatsNeeded(kind: RootState['kind'], history: SeatHistoryEntry[]): number {
	const ordered = [...history].sort((a, b) => a.asOf - b.asOf || a.rank - b.rank || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
	let latestSeats = 0;
	let entitled = false;
	let periodKnown = kind === 'payment';
	let most = 0;
	for (const entry of ordered) {
		if (entry.seats !== null) latestSeats = entry.seats;
		entitled ||= entry.entitled;
		periodKnown ||= entry.periodKnown;
		if (entitled && periodKnown) most = Math.max(most, latestSeats);
	}
	return most;
}

export type SeatRecord =
	| { state: 'creating'; tag: string; since: number }
	| { state: 'created'; tag: string; licenseKey: string; handoffQueued: boolean }
	| { state: 'gone'; tag: string; licenseKey: string };

// Shared Lua: stamp ordering and applying a revocation to a root.
const LUA_COMMON = `
local function newer(oldRaw, asOf, rank, eventId)
  if not oldRaw then return true end
  local old = cjson.decode(oldRaw)
  if asOf ~= old.asOf then return asOf > old.asOf end
  if rank ~= old.rank then return rank > old.rank end
  return eventId >= old.eventId
end
local function putStamped(rootKey, field, valueJson, asOf, rank, eventId)
  local stampField = field .. '_stamp'
  if newer(redis.call('HGET', rootKey, stampField), asOf, rank, eventId) then
    redis.call('HSET', rootKey, field, valueJson,
      stampField, cjson.encode({ asOf = asOf, rank = rank, eventId = eventId }))
  end
end
-- A one-off payment's refund or dispute pauses its licenses for good; on a subscription it is a "paused"
-- status as of that moment, which a later renewal may lift.
local function applyRevocation(rootKey, revJson, eventId)
  local rev = cjson.decode(revJson)
  if redis.call('HGET', rootKey, 'kind') == 'payment' then
    local current = redis.call('HGET', rootKey, 'revoked')
    if (not current) or cjson.decode(current).asOf > rev.asOf then
      redis.call('HSET', rootKey, 'revoked', revJson)
    end
  else
    putStamped(rootKey, 'status', '"paused"', rev.asOf, 3, eventId)
  end
end
`;

// KEYS[1] root hash, KEYS[2] the root's seat history; then pairs (payment→root key, payment revocation key).
// ARGV: facts JSON (lines/status values pre-serialised), event id, ttl seconds, root id, history entry JSON.
const MERGE_FACTS = `${LUA_COMMON}
local rootKey, facts, eventId, ttl, rootId = KEYS[1], cjson.decode(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('HSET', KEYS[2], eventId, ARGV[5])
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('HSETNX', rootKey, 'kind', facts.kind)
if facts.linkage then
  local raw = redis.call('HGET', rootKey, 'linkage')
  local merged = raw and cjson.decode(raw) or {}
  local changed = not raw
  for field, value in pairs(facts.linkage) do
    if merged[field] == nil then merged[field] = value; changed = true end
  end
  if changed then redis.call('HSET', rootKey, 'linkage', cjson.encode(merged)) end
end
if facts.lines then putStamped(rootKey, 'lines', facts.lines.json, facts.lines.asOf, facts.lines.rank, eventId) end
if facts.status then putStamped(rootKey, 'status', facts.status.json, facts.status.asOf, facts.status.rank, eventId) end
if facts.expiresAtLeast then
  local current = tonumber(redis.call('HGET', rootKey, 'expiresAtLeast') or '0')
  if facts.expiresAtLeast > current then redis.call('HSET', rootKey, 'expiresAtLeast', facts.expiresAtLeast) end
end
if facts.entitled then redis.call('HSET', rootKey, 'entitled', '1') end
for i = 3, #KEYS, 2 do
  redis.call('SET', KEYS[i], rootId, 'EX', ttl)
  local pending = redis.call('GET', KEYS[i + 1])
  if pending then applyRevocation(rootKey, pending, eventId) end
end
redis.call('EXPIRE', rootKey, ttl)
return 1
`;

// KEYS[1] payment revocation key, KEYS[2] payment→root key. ARGV: revocation JSON, event id, ttl, root key prefix.
// Returns the root id when the payment already belongs to a root (which must then be converged).
const REVOKE_PAYMENT = `${LUA_COMMON}
local revKey, mapKey, revJson, eventId, ttl, rootPrefix = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local existing = redis.call('GET', revKey)
if (not existing) or cjson.decode(existing).asOf > cjson.decode(revJson).asOf then
  redis.call('SET', revKey, revJson, 'EX', ttl)
end
local rootId = redis.call('GET', mapKey)
if not rootId then return false end
applyRevocation(rootPrefix .. rootId, revJson, eventId)
redis.call('EXPIRE', rootPrefix .. rootId, ttl)
return rootId
`;

// KEYS[1] lock. ARGV: token, ttl ms. Release / renew only a lock this process still holds.
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export class LockTimeoutError extends Error {
	constructor(root: RootId) {
		super(`another worker still holds ${root}; retrying later`);
		this.name = 'LockTimeoutError';
	}
}

export interface EventOutcome {
	eventId: string;
	type: string;
	outcome: 'applied' | 'ignored';
	reason?: string;
	detail?: string;
	warnings?: string[];
}

export class Ledger {
	private readonly ttl: number;

	constructor(
		private readonly redis: Redis,
		private readonly config: Pick<Config, 'queuePrefix' | 'ledgerTtlSeconds'>,
	) {
		this.ttl = config.ledgerTtlSeconds;
	}

	private key(...parts: string[]): string {
		return ledgerKey(this.config, ...parts);
	}

	rootKey(root: RootId): string {
		return this.key('root', root);
	}

	/** `eventCreated` orders this event among the root's others (the seat history); Stripe's `event.created`. */
	async mergeFacts(facts: RootFacts, eventId: string, eventCreated = facts.lines?.asOf ?? facts.status?.asOf ?? 0): Promise<void> {
		const payload = {
			kind: facts.kind,
			linkage: facts.linkage && withoutEmpty(facts.linkage),
			lines: facts.lines && { json: JSON.stringify(facts.lines.value), asOf: facts.lines.asOf, rank: facts.lines.rank },
			status: facts.status && { json: JSON.stringify(facts.status.value), asOf: facts.status.asOf, rank: facts.status.rank },
			expiresAtLeast: facts.expiresAtLeast,
			entitled: facts.entitled,
		};
		const paymentKeys = (facts.paymentIntentIds ?? []).flatMap((id) => [this.key('payment', id), this.key('revoked-payment', id)]);
		const history: SeatHistoryEntry = {
			asOf: eventCreated,
			rank: facts.lines?.rank ?? facts.status?.rank ?? 0,
			eventId,
			seats: facts.lines ? facts.lines.value.reduce((sum, line) => sum + Math.max(0, line.count), 0) : null,
			entitled: facts.entitled === true,
			periodKnown: facts.expiresAtLeast !== undefined,
		};
		await this.redis.eval(
			MERGE_FACTS,
			2 + paymentKeys.length,
			this.rootKey(facts.root),
			this.key('history', facts.root),
			...paymentKeys,
			JSON.stringify(payload),
			eventId,
			String(this.ttl),
			facts.root,
			JSON.stringify(history),
		);
	}

	/** Records a refund/dispute; returns the root to converge when the payment already has one. */
	async revokePayment(revocation: PaymentRevocation, eventId: string): Promise<RootId | null> {
		const root = await this.redis.eval(
			REVOKE_PAYMENT,
			2,
			this.key('revoked-payment', revocation.paymentIntentId),
			this.key('payment', revocation.paymentIntentId),
			JSON.stringify({ asOf: revocation.asOf, reason: revocation.reason }),
			eventId,
			String(this.ttl),
			this.key('root', ''),
		);
		return typeof root === 'string' ? (root as RootId) : null;
	}

	async readRoot(root: RootId): Promise<RootState | null> {
		const [fields, history] = await Promise.all([this.redis.hgetall(this.rootKey(root)), this.redis.hvals(this.key('history', root))]);
		if (fields.kind === undefined) return null;
		const kind = fields.kind as RootState['kind'];
		const status = fields.status && fields.status_stamp
			? { value: JSON.parse(fields.status) as SettableStatus, ...(JSON.parse(fields.status_stamp) as Omit<StoredStamp<SettableStatus>, 'value'>) }
			: undefined;
		const lines = fields.lines ? (JSON.parse(fields.lines) as SeatLine[]) : [];
		return {
			root,
			kind,
			linkage: fields.linkage ? (JSON.parse(fields.linkage) as Linkage) : {},
			lines: Array.isArray(lines) ? lines : [],
			status,
			expiresAtLeast: fields.expiresAtLeast ? Number(fields.expiresAtLeast) : undefined,
			entitled: fields.entitled === '1',
			revoked: fields.revoked ? JSON.parse(fields.revoked) : undefined,
			seatsEverCreated: Number(fields.seatsEverCreated ?? 0),
			seatsNeeded: seatsNeeded(kind, history.map((entry) => JSON.parse(entry) as SeatHistoryEntry)),
		};
	}

	private seatKey(root: RootId, seat: number): string {
		return this.key('seat', root, String(seat));
	}

	async readSeat(root: RootId, seat: number): Promise<SeatRecord | null> {
		const fields = await this.redis.hgetall(this.seatKey(root, seat));
		switch (fields.state) {
			case 'creating':
				return { state: 'creating', tag: fields.tag, since: Number(fields.since) };
			case 'created':
				return { state: 'created', tag: fields.tag, licenseKey: fields.licenseKey, handoffQueued: fields.handoffQueued === '1' };
			case 'gone':
				return { state: 'gone', tag: fields.tag, licenseKey: fields.licenseKey };
			default:
				return null;
		}
	}

	/** The intent, written BEFORE the create call: a retry that finds it searches Keycrate by tag first. */
	async markSeatCreating(root: RootId, seat: number, tag: string): Promise<void> {
		const key = this.seatKey(root, seat);
		await this.redis
			.multi()
			.hset(key, { state: 'creating', tag, since: Date.now() })
			.expire(key, this.ttl)
			.exec();
		await this.bumpSeatsEverCreated(root, seat + 1);
	}

	/** Read-then-write is safe: seats are only created under the root's lock. */
	private async bumpSeatsEverCreated(root: RootId, atLeast: number): Promise<void> {
		const key = this.rootKey(root);
		const current = Number((await this.redis.hget(key, 'seatsEverCreated')) ?? 0);
		if (atLeast > current) await this.redis.hset(key, 'seatsEverCreated', String(atLeast));
	}

	async markSeatCreated(root: RootId, seat: number, tag: string, licenseKey: string): Promise<void> {
		const key = this.seatKey(root, seat);
		await this.redis.multi().hset(key, { state: 'created', tag, licenseKey }).expire(key, this.ttl).exec();
	}

	async markHandoffQueued(root: RootId, seat: number): Promise<void> {
		await this.redis.hset(this.seatKey(root, seat), 'handoffQueued', '1');
	}

	/** The seller deleted the license on Keycrate: remember it, and do not recreate it behind their back. */
	async markSeatGone(root: RootId, seat: number, tag: string, licenseKey: string): Promise<void> {
		const key = this.seatKey(root, seat);
		await this.redis.multi().hset(key, { state: 'gone', tag, licenseKey }).expire(key, this.ttl).exec();
	}

	async recordOutcome(outcome: EventOutcome): Promise<void> {
		const key = this.key('event', outcome.eventId);
		const fields: Record<string, string> = { type: outcome.type, outcome: outcome.outcome, at: new Date().toISOString() };
		if (outcome.reason) fields.reason = outcome.reason;
		if (outcome.detail) fields.detail = outcome.detail;
		if (outcome.warnings?.length) fields.warnings = JSON.stringify(outcome.warnings);
		const multi = this.redis.multi().hset(key, fields).expire(key, this.ttl);
		if (outcome.outcome === 'ignored' || outcome.warnings?.length) {
			// A bounded report a seller can read (keycrate-worker report): unmapped prices, partial refunds, …
			multi.xadd(this.key('report'), 'MAXLEN', '~', '10000', '*', 'event', outcome.eventId, 'type', outcome.type,
				'reason', outcome.reason ?? 'warning', 'detail', outcome.detail ?? JSON.stringify(outcome.warnings ?? []));
		}
		await multi.exec();
	}

	async readOutcome(eventId: string): Promise<Record<string, string> | null> {
		const fields = await this.redis.hgetall(this.key('event', eventId));
		return fields.type === undefined ? null : fields;
	}

	/**
	 * Runs `work` while holding the root's lock, so one worker at a time converges a root. The lock is renewed
	 * while held; waiting is bounded, after which the job is retried by BullMQ rather than blocking a slot.
	 */
	async withRootLock<T>(root: RootId, work: () => Promise<T>, options: { ttlMs?: number; waitMs?: number } = {}): Promise<T> {
		const ttlMs = options.ttlMs ?? 60000;
		const waitMs = options.waitMs ?? 15000;
		const key = this.key('lock', root);
		const token = `${process.pid}-${Math.random().toString(36).slice(2)}-${Date.now()}`;
		const deadline = Date.now() + waitMs;
		let delay = 10;
		while ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
			if (Date.now() >= deadline) throw new LockTimeoutError(root);
			await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
			delay = Math.min(delay * 2, 250);
		}
		const renew = setInterval(() => {
			this.redis.eval(RENEW_LOCK, 1, key, token, String(ttlMs)).catch(() => undefined);
		}, Math.floor(ttlMs / 3));
		try {
			return await work();
		} finally {
			clearInterval(renew);
			await this.redis.eval(RELEASE_LOCK, 1, key, token).catch(() => undefined);
		}
	}
}

function withoutEmpty(linkage: Linkage): Partial<Linkage> {
	return Object.fromEntries(Object.entries(linkage).filter(([, value]) => value !== undefined && value !== null && value !== ''));
}
