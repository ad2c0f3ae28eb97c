// Table tests of the history's pure parts: a sync attempt (its trace and result) → its entry; Stripe's state →
// its summary; a hand-off → its root and entry; `--since` → a time; and the readable story.

import { parseSinceTime } from '../../src/jobs/dead-letters.js';
import {
	buildHandoffEntry,
	buildSyncEntry,
	entriesOfEvent,
	rootOfHandoff,
	summarizeState,
	type AttemptRecord,
	type AttemptResult,
	type HistoryEntry,
	type SyncEntry,
} from '../../src/jobs/history.js';
import { formatEventStory, formatRootHistory } from '../../src/jobs/history-view.js';
import type { HandoffJobData } from '../../src/jobs/handoff-worker.js';
import type { SyncTrace } from '../../src/jobs/sync.js';
import type { Action } from '../../src/keycrate/plan.js';
import type { Desired, PaymentState, RootState, SubscriptionState } from '../../src/model.js';

const APP = '11111111-1111-4111-8111-111111111111';
const STARTED = Date.parse('2026-12-01T10:00:00.000Z');
const ENDED = STARTED + 1234;
const PAID_THROUGH = Date.parse('2027-01-01T00:00:00.000Z') / 1000;

const payment: PaymentState = {
	kind: 'payment',
	root: 'pi_1',
	paid: true,
	payment: { paymentIntentId: 'pi_1', refunded: false, disputes: [] },
	metadata: {},
	lines: [{ key: 'li_1', price: { id: 'price_app', metadata: {} }, quantity: 1 }],
	linkage: { paymentIntentId: 'pi_1', checkoutSessionId: 'cs_1' },
};
const refunded: PaymentState = { ...payment, payment: { ...payment.payment, refunded: true } };
const subscription: SubscriptionState = {
	kind: 'subscription',
	root: 'sub_1',
	status: 'active',
	metadata: {},
	lines: [
		{ key: 'si_1', price: { id: 'price_pro', metadata: {} }, quantity: 2 },
		{ key: 'si_2', price: { id: 'price_usage', metadata: {} }, quantity: 0, metered: true },
	],
	invoices: [
		{
			id: 'in_2',
			status: 'paid',
			created: 2,
			covers: { start: 1, end: PAID_THROUGH },
			payments: [{ paymentIntentId: 'pi_b', refunded: false, disputes: ['lost'] }],
		},
		{ id: 'in_1', status: 'paid', created: 1, payments: [{ paymentIntentId: 'pi_a', refunded: true, disputes: [] }] },
		{ id: 'in_3', status: 'open', created: 3, payments: [] },
	],
	linkage: { subscriptionId: 'sub_1' },
};

const activeSeats: Desired = {
	kind: 'seats',
	root: 'pi_1',
	rootKind: 'payment',
	seats: [{ seat: 'li_1:0', appId: APP, status: 'active', plan: { durationUnit: 'days', durationValue: 30 } }],
	entitlement: { status: 'active', reason: 'pi_1 is paid' },
	linkage: payment.linkage,
	warnings: [],
};
const pausedSubscription: Desired = {
	kind: 'seats',
	root: 'sub_1',
	rootKind: 'subscription',
	seats: [
		{ seat: 'si_1:0', appId: APP, status: 'paused', plan: {}, expiresAt: PAID_THROUGH + 3600 },
		{ seat: 'si_1:1', appId: APP, status: 'paused', plan: {}, expiresAt: PAID_THROUGH + 3600 },
	],
	entitlement: { status: 'paused', reason: 'a payment of sub_1 (pi_b) is disputed: lost', paidThrough: PAID_THROUGH },
	linkage: subscription.linkage,
	warnings: [],
};
const createAndHandOff: Action[] = [
	{ type: 'create', seat: 'li_1:0', request: { app_id: APP, duration_unit: 'days', duration_value: 30 } },
	{ type: 'handoff', seat: 'li_1:0' },
];
const pauseBoth: Action[] = [
	{ type: 'setStatus', seat: 'si_1:0', licenseKey: 'KEY-A', status: 'paused' },
	{ type: 'setStatus', seat: 'si_1:1', licenseKey: 'KEY-B', status: 'paused' },
];

function record(root: string, trace: SyncTrace, result: AttemptResult, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
	return {
		root,
		cause: 'checkout.session.completed evt_1',
		attempt: 1,
		startedAt: STARTED,
		endedAt: ENDED,
		trace,
		calls: { stripe: 3, keycrate: 4 },
		result,
		...overrides,
	};
}

const synced = (root: string): AttemptResult => ({
	kind: 'outcome',
	outcome: { kind: 'synced', root, entitlement: { status: 'active', reason: '' }, planned: [], done: [], warnings: [] },
});

describe('buildSyncEntry: a sync attempt → its history entry', () => {
	test.each<[string, AttemptRecord, Partial<SyncEntry>]>([
		[
			'a purchase synced: state, entitlement, seats, the plan and what was done',
			record(
				'pi_1',
				{
					state: payment,
					desired: activeSeats,
					actions: createAndHandOff,
					done: [
						{ action: 'create', seat: 'li_1:0', licenseKey: 'KEY-1' },
						{ action: 'handoff', seat: 'li_1:0', licenseKey: 'KEY-1' },
					],
				},
				synced('pi_1'),
			),
			{
				state: { kind: 'payment', paid: true, lines: ['price_app ×1'], refunded: [], disputes: [] },
				entitlement: { status: 'active', reason: 'pi_1 is paid' },
				seats: { total: 1, active: 1, paused: 0 },
				planned: [
					{ type: 'create', seat: 'li_1:0' },
					{ type: 'handoff', seat: 'li_1:0' },
				],
				done: [
					{ action: 'create', seat: 'li_1:0', license_key: 'KEY-1' },
					{ action: 'handoff', seat: 'li_1:0', license_key: 'KEY-1' },
				],
				outcome: 'done',
			},
		],
		[
			'a subscription paused by a lost dispute: paid-through and the latest expiry as ISO times',
			record(
				'sub_1',
				{
					state: subscription,
					desired: pausedSubscription,
					actions: pauseBoth,
					done: [
						{ action: 'setStatus', seat: 'si_1:0', licenseKey: 'KEY-A' },
						{ action: 'setStatus', seat: 'si_1:1', licenseKey: 'KEY-B' },
					],
				},
				synced('sub_1'),
			),
			{
				entitlement: { status: 'paused', reason: 'a payment of sub_1 (pi_b) is disputed: lost', paid_through: '2027-01-01T00:00:00.000Z' },
				seats: { total: 2, active: 0, paused: 2, expires_at: '2027-01-01T01:00:00.000Z' },
				planned: [
					{ type: 'setStatus', seat: 'si_1:0', license_key: 'KEY-A', status: 'paused' },
					{ type: 'setStatus', seat: 'si_1:1', license_key: 'KEY-B', status: 'paused' },
				],
				outcome: 'done',
			},
		],
		[
			'nothing to do: no planned or done list, outcome done',
			record('pi_1', { state: payment, desired: activeSeats, actions: [], done: [] }, synced('pi_1')),
			{ outcome: 'done', planned: undefined, done: undefined },
		],
		[
			'a skip (no plan) says its reason and detail',
			record(
				'pi_1',
				{ state: payment, done: [] },
				{ kind: 'outcome', outcome: { kind: 'skipped', root: 'pi_1', reason: 'no_plan', detail: 'pi_1: no Keycrate plan for price_tshirt', done: [] } },
			),
			{ outcome: 'skipped', reason: 'no_plan: pi_1: no Keycrate plan for price_tshirt', entitlement: undefined },
		],
		[
			'a payment of a subscription is redirected there',
			record(
				'pi_9',
				{ state: { kind: 'redirect', root: 'pi_9', to: 'sub_1' }, done: [] },
				{ kind: 'outcome', outcome: { kind: 'redirected', root: 'pi_9', to: 'sub_1' } },
			),
			{ state: { kind: 'redirect', to: 'sub_1' }, outcome: 'redirected', reason: 'a payment of sub_1: synced as sub_1' },
		],
		[
			'a failure with retries left: retried, with the delay; what was done before it stays',
			record(
				'pi_1',
				{ state: payment, desired: activeSeats, actions: createAndHandOff, done: [{ action: 'create', seat: 'li_1:0', licenseKey: 'KEY-1' }] },
				{ kind: 'failed', message: 'Keycrate answered 500', final: false, retryInMs: 10000 },
				{ attempt: 2 },
			),
			{
				attempt: 2,
				outcome: 'retried',
				reason: 'Keycrate answered 500',
				retry_in_ms: 10000,
				done: [{ action: 'create', seat: 'li_1:0', license_key: 'KEY-1' }],
			},
		],
		[
			'a permanent failure before any read: dead-lettered with the reason, no state',
			record('pi_1', { done: [] }, { kind: 'failed', message: 'Keycrate refused: INVALID_INPUT', final: true }),
			{ outcome: 'dead-lettered', reason: 'Keycrate refused: INVALID_INPUT', state: undefined, retry_in_ms: undefined },
		],
		[
			'a lost create reply settled by its tag: counted as settled',
			record(
				'pi_1',
				{ state: payment, desired: activeSeats, actions: createAndHandOff, done: [{ action: 'adopted', seat: 'li_1:0', licenseKey: 'KEY-1' }] },
				synced('pi_1'),
			),
			{ settled: 1, done: [{ action: 'adopted', seat: 'li_1:0', license_key: 'KEY-1' }] },
		],
	])('%s', (_label, given, expected) => {
		const entry = buildSyncEntry(given);
		expect(entry).toMatchObject({
			kind: 'sync',
			root: given.root,
			cause: given.cause,
			at: new Date(ENDED).toISOString(),
			started_at: new Date(STARTED).toISOString(),
			calls: { stripe: 3, keycrate: 4 },
		});
		for (const [key, value] of Object.entries(expected)) {
			if (value === undefined) expect(entry).not.toHaveProperty(key);
			else expect(entry[key as keyof SyncEntry]).toEqual(value);
		}
		// No events in the built entry: the store adds those it takes, in the same round trip as the write.
		expect(entry).not.toHaveProperty('events');
	});

	test('a plan of 120 seats lists 50 planned and 50 done and counts the rest', () => {
		const actions: Action[] = Array.from({ length: 120 }, (_, n) => ({ type: 'setStatus', seat: `si_1:${n}`, licenseKey: `K${n}`, status: 'paused' }));
		const done = actions.map((action) => ({ action: action.type, seat: action.seat, licenseKey: `K${action.seat}` }));
		const entry = buildSyncEntry(record('sub_1', { actions, done }, synced('sub_1')));
		expect(entry.planned).toHaveLength(50);
		expect(entry.done).toHaveLength(50);
		expect(entry.truncated).toBe(140);
	});
});

describe('summarizeState: Stripe state → the facts an operator checks', () => {
	test.each<[string, RootState, object]>([
		['a paid purchase', payment, { kind: 'payment', paid: true, lines: ['price_app ×1'], refunded: [], disputes: [] }],
		['a refunded purchase', refunded, { kind: 'payment', paid: true, refunded: ['pi_1'], disputes: [] }],
		['a disputed purchase', { ...payment, payment: { ...payment.payment, disputes: ['needs_response'] } }, { disputes: ['pi_1: needs_response'] }],
		[
			'a subscription: status, invoices paid of read, refunds and disputes by payment, metered lines marked',
			subscription,
			{
				kind: 'subscription',
				status: 'active',
				lines: ['price_pro ×2', 'price_usage ×0 (metered)'],
				invoices: 3,
				paid_invoices: 2,
				refunded: ['pi_a'],
				disputes: ['pi_b: lost'],
			},
		],
		['unknown to Stripe', { kind: 'none', root: 'pi_x', reason: 'Stripe does not know pi_x' }, { kind: 'none', reason: 'Stripe does not know pi_x' }],
	])('%s', (_label, state, expected) => {
		expect(summarizeState(state)).toMatchObject(expected);
	});
});

const handoff = (data: Partial<Extract<HandoffJobData, { type: 'license.created' }>['data']>, delivered?: boolean): HandoffJobData => ({
	type: 'license.created',
	id: 'kclh_1',
	created: 1,
	data: {
		license_key: 'KEY-1',
		email: null,
		customer_id: null,
		checkout_session_id: null,
		payment_intent_id: null,
		subscription_id: null,
		expires_at: null,
		status: 'active',
		...data,
	},
	...(delivered === undefined ? {} : { delivered }),
});

describe('a hand-off → its root and entry', () => {
	test.each<[string, HandoffJobData, string | undefined]>([
		[
			'a subscription license: the subscription (even with a session and a payment)',
			handoff({ subscription_id: 'sub_1', checkout_session_id: 'cs_1', payment_intent_id: 'pi_1' }),
			'sub_1',
		],
		['a one-off purchase: its payment intent', handoff({ payment_intent_id: 'pi_1', checkout_session_id: 'cs_1' }), 'pi_1'],
		['a purchase that charged nothing: its session', handoff({ checkout_session_id: 'cs_1' }), 'cs_1'],
		['nothing names a root', handoff({}), undefined],
		[
			'a bulk job notification is no root of a buyer',
			{
				type: 'bulk_job.completed',
				id: 'bulk_1',
				created: 1,
				url: 'http://x',
				data: { job_id: 'bulk_1', kind: 'create', succeeded: 1, failed: 0, canceled: false, failures: [], calls: 1 },
			},
			undefined,
		],
	])('%s', (_label, data, root) => {
		expect(rootOfHandoff(data)).toBe(root);
		const entry = buildHandoffEntry(data, 'delivered', ENDED);
		if (root === undefined) expect(entry).toBeUndefined();
		else expect(entry).toEqual({ kind: 'handoff', at: new Date(ENDED).toISOString(), root, license_key: 'KEY-1', outcome: 'delivered' });
	});

	test('a dead-lettered hand-off keeps its reason', () => {
		expect(
			buildHandoffEntry(handoff({ payment_intent_id: 'pi_1' }), 'dead-lettered', ENDED, 'LICENSE_WEBHOOK_URL refused the hand-off: HTTP 400'),
		).toMatchObject({ outcome: 'dead-lettered', reason: 'LICENSE_WEBHOOK_URL refused the hand-off: HTTP 400' });
	});
});

describe('parseSinceTime: --since of retry', () => {
	const NOW = Date.parse('2026-12-04T12:00:00.000Z');
	test.each<[string, { ms: number } | { error: string }]>([
		['2h', { ms: NOW - 2 * 3600000 }],
		['30m', { ms: NOW - 30 * 60000 }],
		['90s', { ms: NOW - 90000 }],
		['7d', { ms: NOW - 7 * 86400000 }],
		['2026-12-01', { ms: Date.parse('2026-12-01') }],
		['2026-12-04T11:00:00Z', { ms: Date.parse('2026-12-04T11:00:00Z') }],
		['yesterday', { error: '"yesterday" is neither a time back from now (90s, 30m, 2h, 7d) nor an ISO date (2026-11-01, 2026-11-01T12:00:00Z)' }],
		['2h30m', { error: '"2h30m" is neither a time back from now (90s, 30m, 2h, 7d) nor an ISO date (2026-11-01, 2026-11-01T12:00:00Z)' }],
		['2026-13-45', { error: '"2026-13-45" is not a valid date' }],
		['2999-01-01', { error: '"2999-01-01" is in the future' }],
	])('%s', (raw, expected) => {
		expect(parseSinceTime(raw, NOW)).toEqual(expected);
	});
});

describe('the readable story', () => {
	const bought = {
		...buildSyncEntry(
			record(
				'pi_1',
				{
					state: payment,
					desired: activeSeats,
					actions: createAndHandOff,
					done: [
						{ action: 'create', seat: 'li_1:0', licenseKey: 'KEY-1' },
						{ action: 'handoff', seat: 'li_1:0', licenseKey: 'KEY-1' },
					],
				},
				synced('pi_1'),
			),
		),
		events: [{ id: 'evt_1', type: 'checkout.session.completed', received_ms: STARTED - 5 }],
	};
	const delivered = buildHandoffEntry(handoff({ payment_intent_id: 'pi_1' }, true), 'delivered', ENDED + 100) as HistoryEntry;
	const refundDesired: Desired = {
		...activeSeats,
		seats: [{ ...activeSeats.seats[0], status: 'paused' }],
		entitlement: { status: 'paused', reason: 'pi_1 was refunded in full' },
	};
	const paused = {
		...buildSyncEntry(
			record(
				'pi_1',
				{
					state: refunded,
					desired: refundDesired,
					actions: [{ type: 'setStatus', seat: 'li_1:0', licenseKey: 'KEY-1', status: 'paused' }],
					done: [{ action: 'setStatus', seat: 'li_1:0', licenseKey: 'KEY-1' }],
				},
				synced('pi_1'),
				{ cause: 'charge.refunded evt_2' },
			),
		),
		events: [{ id: 'evt_2', type: 'charge.refunded' }],
	};

	test('root: created → handed off → paused by the refund, oldest first', () => {
		const text = formatRootHistory('pi_1', [bought, delivered, paused], { maxEntries: 50, ttlSeconds: 2592000 });
		expect(text.split('\n')[0]).toBe('History of pi_1, oldest first (3 entries; at most 50 kept):');
		expect(text).toMatch(/sync \(attempt 1\) {2}done\n\s+events\s+checkout.session.completed evt_1\n/);
		expect(text).toMatch(/entitled\s+active: pi_1 is paid \(1 seat\(s\): 1 active, 0 paused\)/);
		expect(text).toMatch(/done\s+create li_1:0 KEY-1, handoff li_1:0 KEY-1/);
		expect(text).toMatch(/hand-off {2}delivered {2}KEY-1/);
		expect(text).toMatch(/stripe\s+payment paid; refunded: pi_1; no dispute; lines price_app ×1/);
		expect(text).toMatch(/done\s+setStatus li_1:0 KEY-1\n/);
		expect(text.indexOf('create li_1:0')).toBeLessThan(text.indexOf('hand-off  delivered')); // oldest first
		expect(text.indexOf('hand-off  delivered')).toBeLessThan(text.indexOf('refunded: pi_1'));
		expect(formatRootHistory('pi_2', [], { maxEntries: 50, ttlSeconds: 60 })).toBe('No history for pi_2 (kept 50 entries per root for 60 s after the last).\n');
	});

	test('events: the root and the attempt that took the event; a waiting one says so; a redirect names its target', () => {
		const entries = [bought, delivered, paused];
		const taken = entriesOfEvent(entries, 'evt_2');
		expect(taken).toEqual([paused]);
		const text = formatEventStory({
			event_id: 'evt_2',
			type: 'charge.refunded',
			root: 'pi_1',
			received_at: '2026-12-01T10:00:00.000Z',
			pending: false,
			entries: taken,
		});
		expect(text.split('\n').slice(0, 2)).toEqual(['evt_2 (charge.refunded) → root pi_1, received 2026-12-01T10:00:00.000Z', 'Synced by:']);
		expect(text).toContain('setStatus li_1:0 KEY-1 paused');
		expect(formatEventStory({ event_id: 'evt_3', type: 'charge.refunded', root: 'pi_1', pending: true, entries: [] })).toBe(
			'evt_3 (charge.refunded) → root pi_1\nWaiting for a sync of pi_1 (a process role takes it).\n',
		);
		const redirected = buildSyncEntry(
			record(
				'pi_9',
				{ state: { kind: 'redirect', root: 'pi_9', to: 'sub_1' }, done: [] },
				{ kind: 'outcome', outcome: { kind: 'redirected', root: 'pi_9', to: 'sub_1' } },
			),
		);
		expect(formatEventStory({ event_id: 'evt_4', type: 'invoice_payment.paid', root: 'pi_9', pending: false, entries: [redirected] })).toContain(
			'Synced as sub_1: keycrate-worker root sub_1',
		);
	});
});
