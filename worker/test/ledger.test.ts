// The ledger's merge rules against real Redis: any order and any repetition of the same facts give one state.

import { Redis } from 'ioredis';
import { deleteKeysUnder } from '../src/redis-private.js';
import { Ledger, LockTimeoutError, seatsNeeded, type SeatHistoryEntry } from '../src/ledger.js';
import type { RootFacts, SeatLine } from '../src/model.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `{kc-ledger-test-${process.pid}-${Date.now()}}`;
const ledger = new Ledger(redis, { queuePrefix: prefix, ledgerTtlSeconds: 3600 });

afterAll(async () => {
	await deleteKeysUnder(redis, prefix);
	await redis.quit();
});

const line = (count: number, subscriptionId?: string): SeatLine => ({
	lineKey: 'si_1',
	priceId: 'price_1',
	plan: { durationUnit: 'days', durationValue: 30, ...(subscriptionId ? { subscriptionId } : {}) },
	count,
});

function shuffled<T>(items: T[], seed: number): T[] {
	const copy = [...items];
	let state = seed;
	for (let i = copy.length - 1; i > 0; i--) {
		state = (state * 1103515245 + 12345) % 2147483648;
		const j = state % (i + 1);
		[copy[i], copy[j]] = [copy[j], copy[i]];
	}
	return copy;
}

describe('mergeFacts', () => {
	// A subscription's life: created (active, qty 1) → renewal with qty 2 → past period → canceled, same second as an update.
	const root = 'sub:sub_order' as const;
	const events: Array<{ id: string; facts: RootFacts }> = [
		{ id: 'evt_a', facts: { root, kind: 'subscription', linkage: { customerId: 'cus_1' }, entitled: true, lines: { value: [line(1)], asOf: 100, rank: 0 }, status: { value: 'active', asOf: 100, rank: 0 }, expiresAtLeast: 1000 } },
		{ id: 'evt_b', facts: { root, kind: 'subscription', linkage: { email: 'a@example.com' }, entitled: true, lines: { value: [line(2)], asOf: 200, rank: 1 }, status: { value: 'active', asOf: 200, rank: 1 }, expiresAtLeast: 2000 } },
		{ id: 'evt_c', facts: { root, kind: 'subscription', expiresAtLeast: 1500, entitled: true } },
		{ id: 'evt_d', facts: { root, kind: 'subscription', lines: { value: [line(2)], asOf: 300, rank: 1 }, status: { value: 'active', asOf: 300, rank: 1 } } },
		{ id: 'evt_e', facts: { root, kind: 'subscription', lines: { value: [line(2)], asOf: 300, rank: 2 }, status: { value: 'paused', asOf: 300, rank: 2 } } },
	];

	it('gives the same state for every delivery order, with duplicates', async () => {
		const states: string[] = [];
		for (let seed = 1; seed <= 6; seed++) {
			const testRoot = `sub:sub_order_${seed}` as const;
			const deliveries = shuffled([...events, ...events, ...events], seed);
			for (const { id, facts } of deliveries) await ledger.mergeFacts({ ...facts, root: testRoot }, id);
			const state = await ledger.readRoot(testRoot);
			states.push(JSON.stringify({ ...state, root: undefined }));
		}
		expect(new Set(states).size).toBe(1);
		const state = JSON.parse(states[0]);
		expect(state.status.value).toBe('paused'); // same-second deleted (rank 2) beats updated (rank 1)
		expect(state.expiresAtLeast).toBe(2000); // max, not last
		expect(state.lines[0].count).toBe(2);
		expect(state.linkage).toEqual({ customerId: 'cus_1', email: 'a@example.com' });
		expect(state.entitled).toBe(true);
	});

	it('does not let an older status roll a newer one back', async () => {
		const testRoot = 'sub:sub_rollback' as const;
		await ledger.mergeFacts({ root: testRoot, kind: 'subscription', status: { value: 'paused', asOf: 500, rank: 2 } }, 'evt_new');
		await ledger.mergeFacts({ root: testRoot, kind: 'subscription', status: { value: 'active', asOf: 400, rank: 1 } }, 'evt_old');
		expect((await ledger.readRoot(testRoot))?.status?.value).toBe('paused');
	});

	it('returns null for a root it never saw', async () => {
		expect(await ledger.readRoot('pay:pi_never')).toBeNull();
	});
});

describe('revokePayment', () => {
	it('applies a refund that arrives before the purchase, when the purchase arrives', async () => {
		const root = 'pay:pi_refund_first' as const;
		expect(await ledger.revokePayment({ paymentIntentId: 'pi_refund_first', asOf: 900, reason: 'refund' }, 'evt_refund')).toBeNull();
		await ledger.mergeFacts({ root, kind: 'payment', entitled: true, lines: { value: [line(1)], asOf: 800, rank: 0 }, paymentIntentIds: ['pi_refund_first'] }, 'evt_buy');
		expect((await ledger.readRoot(root))?.revoked).toEqual({ asOf: 900, reason: 'refund' });
	});

	it('applies a refund to a purchase already known and names the root to converge', async () => {
		const root = 'pay:pi_refund_after' as const;
		await ledger.mergeFacts({ root, kind: 'payment', entitled: true, paymentIntentIds: ['pi_refund_after'] }, 'evt_buy');
		expect(await ledger.revokePayment({ paymentIntentId: 'pi_refund_after', asOf: 950, reason: 'dispute' }, 'evt_dispute')).toBe(root);
		expect((await ledger.readRoot(root))?.revoked).toEqual({ asOf: 950, reason: 'dispute' });
	});

	it('turns a refunded subscription invoice into a paused status that a later renewal can lift', async () => {
		const root = 'sub:sub_refunded' as const;
		await ledger.mergeFacts({ root, kind: 'subscription', status: { value: 'active', asOf: 100, rank: 1 }, paymentIntentIds: ['pi_invoice_1'] }, 'evt_1');
		await ledger.revokePayment({ paymentIntentId: 'pi_invoice_1', asOf: 150, reason: 'refund' }, 'evt_2');
		const refunded = await ledger.readRoot(root);
		expect(refunded?.status?.value).toBe('paused');
		expect(refunded?.revoked).toBeUndefined();
		await ledger.mergeFacts({ root, kind: 'subscription', status: { value: 'active', asOf: 200, rank: 1 } }, 'evt_3');
		expect((await ledger.readRoot(root))?.status?.value).toBe('active');
	});
});

describe('seat records and TTLs', () => {
	it('walks creating → created and counts seats ever created', async () => {
		const root = 'sub:sub_seats' as const;
		await ledger.mergeFacts({ root, kind: 'subscription' }, 'evt_seat');
		await ledger.markSeatCreating(root, 2, 'kcsync-x');
		expect(await ledger.readSeat(root, 2)).toMatchObject({ state: 'creating', tag: 'kcsync-x' });
		await ledger.markSeatCreated(root, 2, 'kcsync-x', 'KEY-1');
		expect(await ledger.readSeat(root, 2)).toEqual({ state: 'created', tag: 'kcsync-x', licenseKey: 'KEY-1', handoffQueued: false });
		await ledger.markSeatCreating(root, 0, 'kcsync-y');
		expect((await ledger.readRoot(root))?.seatsEverCreated).toBe(3);
	});

	it('gives every ledger key a TTL', async () => {
		const keys = await redis.keys(`${prefix}:ledger:*`);
		expect(keys.length).toBeGreaterThan(5);
		for (const key of keys) expect(await redis.ttl(key)).toBeGreaterThan(0);
	});
});

describe('withRootLock', () => {
	it('runs one holder at a time and times out a waiter', async () => {
		const order: string[] = [];
		let release!: () => void;
		const first = ledger.withRootLock('sub:sub_lock', async () => {
			order.push('first-in');
			await new Promise<void>((resolve) => (release = resolve));
			order.push('first-out');
		});
		await new Promise((resolve) => setTimeout(resolve, 20));
		await expect(ledger.withRootLock('sub:sub_lock', async () => order.push('never'), { waitMs: 100 })).rejects.toThrow(LockTimeoutError);
		const second = ledger.withRootLock('sub:sub_lock', async () => order.push('second'), { waitMs: 5000 });
		release();
		await Promise.all([first, second]);
		expect(order).toEqual(['first-in', 'first-out', 'second']);
	});
});

describe('seatsNeeded', () => {
	const entry = (asOf: number, seats: number | null, entitled: boolean, periodKnown = true, rank = 1): SeatHistoryEntry => ({ asOf, rank, eventId: `evt_${asOf}_${rank}`, seats, entitled, periodKnown });

	it('is the most seats after entitlement, replayed in Stripe order whatever the delivery order', () => {
		const history = [entry(1, 2, false), entry(2, 3, true), entry(3, 1, true)];
		expect(seatsNeeded('subscription', history)).toBe(3);
		expect(seatsNeeded('subscription', [...history].reverse())).toBe(3);
	});

	it('ignores quantities an unpaid subscription had before it was ever entitled', () => {
		expect(seatsNeeded('subscription', [entry(1, 4, false), entry(2, 1, true)])).toBe(1);
	});

	it('uses the lines known before the entitling event (an invoice names no lines)', () => {
		expect(seatsNeeded('subscription', [entry(1, 2, false), entry(2, null, true)])).toBe(2);
	});

	it('waits for the period of a subscription, not of a one-off payment', () => {
		expect(seatsNeeded('subscription', [entry(1, 2, true, false)])).toBe(0);
		expect(seatsNeeded('payment', [entry(1, 2, true, false)])).toBe(2);
	});

	it('orders same-second events by rank (a lower rank was processed first)', () => {
		// rank 1 (3 seats, not yet paid) then rank 2 (1 seat, paid): only one seat was ever created.
		expect(seatsNeeded('subscription', [entry(5, 1, true, true, 2), entry(5, 3, false, true, 1)])).toBe(1);
	});
});
