// Table tests of desired(): Stripe's current state → the seats Keycrate should have.

import { PermanentError } from '../../src/errors.js';
import type { Desired, InvoiceFacts, PaymentFacts, PaymentState, SubscriptionState } from '../../src/model.js';
import { appsOf, desired, type DesiredOptions } from '../../src/stripe/desired.js';

const APP = '11111111-1111-4111-8111-111111111111';
const OTHER_APP = '22222222-2222-4222-8222-222222222222';
const TIER = '33333333-3333-4333-8333-333333333333';
const PRO = '44444444-4444-4444-8444-444444444444';
const END = 1_800_000_000;
const GRACE = 86400;

const NOW = END - 10 * 86400;
const MONTH = 30 * 86400;
const START = END - MONTH;

const options: DesiredOptions = {
	plans: {
		price_plans_file: { durationUnit: 'days', durationValue: 30 },
		lookup_yearly: { durationUnit: 'years', durationValue: 1, subscriptionId: PRO },
	},
	defaultAppId: APP,
	graceSeconds: GRACE,
	pastDueStatus: 'active',
	maxSeatsPerRoot: 100,
	disputePauses: 'chargeback',
	disputeWindowSeconds: 120 * 86400,
	now: NOW,
};

const tierPrice = { id: 'price_tier', metadata: { keycrate_subscription_id: TIER } };

/** A paid invoice covering [start, end), paid by one payment charged at its start. */
function paid(id: string, start: number, end: number, payment: Partial<PaymentFacts> = {}): InvoiceFacts {
	return {
		id,
		status: 'paid',
		created: start,
		covers: { start, end },
		payments: [{ paymentIntentId: `pi_${id}`, created: start, refunded: false, disputes: [], ...payment }],
	};
}

/** The subscription's first invoice (one month before END) and, with renewals, one more per month back. */
const history = (...payments: Partial<PaymentFacts>[]): InvoiceFacts[] =>
	payments.map((payment, index) => paid(`in_${index}`, START - index * MONTH, END - index * MONTH, payment));

function subscription(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
	return {
		kind: 'subscription',
		root: 'sub_1',
		status: 'active',
		metadata: {},
		lines: [{ price: tierPrice, quantity: 1 }],
		invoices: history({}),
		linkage: { subscriptionId: 'sub_1', customerId: 'cus_1' },
		...overrides,
	};
}

function payment(overrides: Partial<PaymentState> = {}): PaymentState {
	return {
		kind: 'payment',
		root: 'pi_1',
		paid: true,
		payment: { paymentIntentId: 'pi_1', refunded: false, disputes: [] },
		metadata: {},
		lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 1 }],
		linkage: { paymentIntentId: 'pi_1', email: 'a@example.com' },
		...overrides,
	};
}

/** The seats of a result in a compact form: [seat, status, expiresAt, tier, duration, app]. */
function seats(result: Desired): unknown {
	if (result.kind === 'skip') return { skip: result.reason };
	return result.seats.map((seat) => [
		seat.seat,
		seat.status,
		seat.expiresAt ?? null,
		seat.plan.subscriptionId ?? null,
		seat.plan.durationUnit ?? null,
		seat.appId === APP ? 'app' : seat.appId,
	]);
}

const active = (seat: number | string, tier: string | null = TIER, expiry: number | null = END + GRACE) => [
	typeof seat === 'number' ? `line0:${seat}` : seat,
	'active',
	expiry,
	tier,
	null,
	'app',
];
const paused = (seat: number | string, tier: string | null = TIER, expiry: number | null = END + GRACE) => [
	typeof seat === 'number' ? `line0:${seat}` : seat,
	'paused',
	expiry,
	tier,
	null,
	'app',
];
const RENEWED_END = END + MONTH;
/** Renewed once: in_r (END → END + 1 month) on top of in_0. */
const renewed = (renewal: Partial<InvoiceFacts> = {}, first: Partial<PaymentFacts> = {}): InvoiceFacts[] => [
	{ ...paid('in_r', END, RENEWED_END), ...renewal },
	...history(first),
];
const afterRenewal = { now: END + 3600 };

const cases: [string, SubscriptionState | PaymentState, unknown, Partial<DesiredOptions>?][] = [
	['tier-only subscription price: expiry = paid-through + grace', subscription(), [active(0)]],
	[
		'trial: its paid $0 invoice (no payment) covers the trial',
		subscription({ status: 'trialing', invoices: [{ id: 'in_trial', status: 'paid', created: START, covers: { start: START, end: END }, payments: [] }] }),
		[active(0)],
	],
	[
		'trial without a payment method, ended into an open invoice (past_due): paid through the trial only',
		subscription({
			status: 'past_due',
			invoices: [
				{ id: 'in_open', status: 'open', created: END, covers: { start: END, end: RENEWED_END }, payments: [] },
				{ id: 'in_trial', status: 'paid', created: START, covers: { start: START, end: END }, payments: [] },
			],
		}),
		[active(0)],
		afterRenewal,
	],
	[
		'trial ended with missing_payment_method=pause → paused',
		subscription({ status: 'paused', invoices: [{ id: 'in_trial', status: 'paid', created: START, covers: { start: START, end: END }, payments: [] }] }),
		[paused(0)],
		afterRenewal,
	],
	[
		'trial ended with missing_payment_method=cancel → paused',
		subscription({ status: 'canceled', invoices: [{ id: 'in_trial', status: 'paid', created: START, covers: { start: START, end: END }, payments: [] }] }),
		[paused(0)],
		afterRenewal,
	],
	['quantity 3 → three seats', subscription({ lines: [{ price: tierPrice, quantity: 3 }] }), [active(0), active(1), active(2)]],
	['paused → paused', subscription({ status: 'paused' }), [paused(0)]],
	['canceled → paused', subscription({ status: 'canceled' }), [paused(0)]],
	['cancel at period end: still active until Stripe cancels it (canceled → paused)', subscription({ status: 'active' }), [active(0)]],
	['unpaid → paused', subscription({ status: 'unpaid' }), [paused(0)]],
	[
		'incomplete: nothing paid → paused (so nothing is created)',
		subscription({ status: 'incomplete', invoices: [{ id: 'in_0', status: 'open', created: START, covers: { start: START, end: END }, payments: [] }] }),
		[paused(0, TIER, null)],
	],
	['incomplete_expired → paused', subscription({ status: 'incomplete_expired', invoices: [] }), [paused(0, TIER, null)]],
	[
		'send_invoice: active while its first invoice is open, but nothing paid → paused',
		subscription({ invoices: [{ id: 'in_0', status: 'open', created: START, covers: { start: START, end: END }, payments: [] }] }),
		[paused(0, TIER, null)],
	],

	// Renewal: invoiced before it is paid.
	[
		'renewal invoice still a draft: the period advanced, the expiry did not',
		subscription({ invoices: renewed({ status: 'draft', payments: [] }) }),
		[active(0)],
		afterRenewal,
	],
	['renewal invoice paid: extended by the period', subscription({ invoices: renewed() }), [active(0, TIER, RENEWED_END + GRACE)], afterRenewal],
	[
		'renewal payment failed (past_due): no extension; PAST_DUE_STATUS=active keeps it to its paid-through expiry',
		subscription({ status: 'past_due', invoices: renewed({ status: 'open', payments: [] }) }),
		[active(0)],
		afterRenewal,
	],
	[
		'renewal payment failed, PAST_DUE_STATUS=paused → paused',
		subscription({ status: 'past_due', invoices: renewed({ status: 'open', payments: [] }) }),
		[paused(0)],
		{ ...afterRenewal, pastDueStatus: 'paused' },
	],
	[
		'dunning ran out (unpaid) → paused, expiry not extended',
		subscription({ status: 'unpaid', invoices: renewed({ status: 'open', payments: [] }) }),
		[paused(0)],
		afterRenewal,
	],

	// Refunds.
	['the only payment fully refunded → paused, nothing paid stands', subscription({ invoices: history({ refunded: true }) }), [paused(0, TIER, null)]],
	['a partial refund (refunded: false) changes nothing', subscription({ invoices: history({ refunded: false }) }), [active(0)]],
	['a refund that failed or was canceled restores (the facts say not refunded)', subscription({ invoices: history({ refunded: false }) }), [active(0)]],
	[
		'full refund of the current period, then a draft renewal: stays paused, not extended',
		subscription({ invoices: renewed({ status: 'draft', payments: [] }, { refunded: true }) }),
		[paused(0, TIER, null)],
		{ now: END - 3600 },
	],
	[
		'… then that renewal paid: active again, to the new period',
		subscription({ invoices: renewed({}, { refunded: true }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		afterRenewal,
	],
	[
		'full refund of the renewal that covers now: paused, expiry stays at the earlier paid period',
		subscription({ invoices: renewed({ payments: [{ paymentIntentId: 'pi_r', created: END, refunded: true, disputes: [] }] }) }),
		[paused(0)],
		afterRenewal,
	],
	[
		'full refund of the latest renewal before its period starts (paid early): paused all the same',
		subscription({ invoices: renewed({ payments: [{ paymentIntentId: 'pi_r', created: END, refunded: true, disputes: [] }] }) }),
		[paused(0)],
		{ now: END - 86400 },
	],
	[
		'refund of an earlier period: revokes nothing now',
		subscription({ invoices: renewed({}, { refunded: true }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		afterRenewal,
	],
	[
		'a refunded proration invoice covers no period and revokes nothing',
		subscription({
			invoices: [
				{ id: 'in_pr', status: 'paid', created: NOW, payments: [{ paymentIntentId: 'pi_pr', created: NOW, refunded: true, disputes: [] }] },
				...history({}),
			],
		}),
		[active(0)],
	],

	// Disputes.
	[
		'a chargeback opened on the first invoice of a renewed subscription → paused',
		subscription({ invoices: renewed({}, { disputes: ['needs_response'] }) }),
		[paused(0, TIER, RENEWED_END + GRACE)],
		afterRenewal,
	],
	['… under review → paused', subscription({ invoices: renewed({}, { disputes: ['under_review'] }) }), [paused(0, TIER, RENEWED_END + GRACE)], afterRenewal],
	['… lost → paused', subscription({ invoices: renewed({}, { disputes: ['lost'] }) }), [paused(0, TIER, RENEWED_END + GRACE)], afterRenewal],
	['… won afterwards → active again', subscription({ invoices: renewed({}, { disputes: ['won'] }) }), [active(0, TIER, RENEWED_END + GRACE)], afterRenewal],
	[
		'an inquiry does not pause',
		subscription({ invoices: renewed({}, { disputes: ['warning_needs_response'] }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		afterRenewal,
	],
	[
		'an inquiry closed does not pause',
		subscription({ invoices: renewed({}, { disputes: ['warning_closed'] }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		afterRenewal,
	],
	[
		'DISPUTE_PAUSES=inquiry: an inquiry pauses',
		subscription({ invoices: renewed({}, { disputes: ['warning_under_review'] }) }),
		[paused(0, TIER, RENEWED_END + GRACE)],
		{ ...afterRenewal, disputePauses: 'inquiry' },
	],
	[
		'DISPUTE_PAUSES=lost: an open chargeback does not pause, a lost one does',
		subscription({ invoices: renewed({}, { disputes: ['needs_response'] }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		{ ...afterRenewal, disputePauses: 'lost' },
	],
	[
		'a chargeback on a payment older than the dispute window does not pause',
		subscription({ invoices: renewed({}, { disputes: ['lost'] }) }),
		[active(0, TIER, RENEWED_END + GRACE)],
		{ now: END + 3600, disputeWindowSeconds: 3600 },
	],
	[
		'a chargeback on the only payment: paused, and that invoice covers nothing',
		subscription({ invoices: history({ disputes: ['lost'] }) }),
		[paused(0, TIER, null)],
	],

	// Lines and plans.
	[
		'subscription metadata alone names the plan when no price has one',
		subscription({ metadata: { keycrate_subscription_id: PRO }, lines: [{ price: { id: 'price_x', metadata: {} }, quantity: 1 }] }),
		[active(0, PRO)],
	],
	[
		'subscription metadata completes the price plan: keycrate_hwid_lock only keeps the price tier',
		subscription({ metadata: { keycrate_hwid_lock: 'true' } }),
		[active(0)],
	],
	[
		'subscription metadata overrides the key it names: keycrate_app_id moves the app, the tier stays',
		subscription({ metadata: { keycrate_app_id: OTHER_APP } }),
		[['line0:0', 'active', END + GRACE, TIER, null, OTHER_APP]],
	],
	[
		'an add-on without a plan of its own is no license, even when the subscription metadata names a tier',
		subscription({
			metadata: { keycrate_subscription_id: PRO },
			lines: [
				{ key: 'si_main', price: tierPrice, quantity: 1 },
				{ key: 'si_addon', price: { id: 'price_addon', metadata: {} }, quantity: 1 },
			],
		}),
		[active('si_main:0', PRO)],
	],
	[
		'a metered item is never a license',
		subscription({
			lines: [
				{ key: 'si_main', price: tierPrice, quantity: 1 },
				{ key: 'si_usage', price: { id: 'price_usage', metadata: { keycrate_subscription_id: PRO } }, quantity: 1, metered: true },
			],
		}),
		[active('si_main:0')],
	],
	[
		'a metered item with the subscription metadata naming a tier is never a license',
		subscription({
			metadata: { keycrate_subscription_id: PRO },
			lines: [{ key: 'si_usage', price: { id: 'price_usage', metadata: {} }, quantity: 1, metered: true }],
		}),
		{ skip: 'no_plan' },
	],
	[
		'PLANS_FILE by lookup_key (a duration there is ignored for subscriptions)',
		subscription({ lines: [{ price: { id: 'price_y', lookupKey: 'lookup_yearly', metadata: {} }, quantity: 1 }] }),
		[['line0:0', 'active', END + GRACE, PRO, 'years', 'app']],
	],
	[
		'an unlicensed item beside a licensed one',
		subscription({
			lines: [
				{ price: { id: 'price_tshirt', metadata: {} }, quantity: 2 },
				{ price: tierPrice, quantity: 1 },
			],
		}),
		[active('line1:0')],
	],
	[
		'seats are numbered within their item (si_…): one item changing never renumbers another',
		subscription({
			lines: [
				{ key: 'si_A', price: tierPrice, quantity: 1 },
				{ key: 'si_B', price: { id: 'price_pro', metadata: { keycrate_subscription_id: PRO } }, quantity: 2 },
			],
		}),
		[active('si_A:0'), active('si_B:0', PRO), active('si_B:1', PRO)],
	],
	[
		'no licensed item at all (a price unmapped) → skip (sync.ts pauses what it holds)',
		subscription({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 }] }),
		{ skip: 'no_plan' },
	],
	[
		'a plan may name another Keycrate app',
		subscription({ lines: [{ price: { id: 'p', metadata: { keycrate_app_id: OTHER_APP, keycrate_subscription_id: TIER } }, quantity: 1 }] }),
		[['line0:0', 'active', END + GRACE, TIER, null, OTHER_APP]],
	],

	// One-off purchases.
	['one-off Checkout purchase priced through PLANS_FILE', payment(), [['line0:0', 'active', null, null, 'days', 'app']]],
	[
		'one-off, quantity 2',
		payment({ lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 2 }] }),
		[
			['line0:0', 'active', null, null, 'days', 'app'],
			['line0:1', 'active', null, null, 'days', 'app'],
		],
	],
	[
		'one-off fully refunded (before its first sync too) → paused, so never created',
		payment({ payment: { refunded: true, disputes: [] } }),
		[['line0:0', 'paused', null, null, 'days', 'app']],
	],
	['one-off chargeback → paused', payment({ payment: { refunded: false, disputes: ['needs_response'] } }), [['line0:0', 'paused', null, null, 'days', 'app']]],
	['one-off chargeback won → active', payment({ payment: { refunded: false, disputes: ['won'] } }), [['line0:0', 'active', null, null, 'days', 'app']]],
	[
		'one-off inquiry → active',
		payment({ payment: { refunded: false, disputes: ['warning_under_review'] } }),
		[['line0:0', 'active', null, null, 'days', 'app']],
	],
	['one-off not paid yet (async, or authorized and not captured) → paused', payment({ paid: false }), [['line0:0', 'paused', null, null, 'days', 'app']]],
	[
		'one-off priced by its price metadata',
		payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'lifetime' } }, quantity: 1 }] }),
		[['line0:0', 'active', null, null, 'lifetime', 'app']],
	],
	[
		'one-off whose session metadata names the plan, line items unknown',
		payment({ lines: [], metadata: { keycrate_duration_unit: 'months', keycrate_duration_value: '12' } }),
		[['line0:0', 'active', null, null, 'months', 'app']],
	],
	[
		'session metadata naming only the app keeps the price duration',
		payment({ metadata: { keycrate_app_id: OTHER_APP } }),
		[['line0:0', 'active', null, null, 'days', OTHER_APP]],
	],
	[
		'session metadata naming only a value keeps the price unit',
		payment({ metadata: { keycrate_duration_value: '90' } }),
		[['line0:0', 'active', null, null, 'days', 'app']],
	],
	['one-off of nothing licensed', payment({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 }] }), { skip: 'no_plan' }],
];

describe('desired', () => {
	// Every row with its overrides (a callback taking more arguments than a row gives is read as `done` by jest).
	test.each(cases.map(([name, state, expected, overrides]) => [name, state, expected, overrides ?? {}] as const))('%s', (_name, state, expected, overrides) => {
		expect(seats(desired(state, { ...options, ...overrides }))).toEqual(expected);
	});

	test('session metadata overrides the value it names, key by key', () => {
		const result = desired(payment({ metadata: { keycrate_duration_value: '90' } }), options);
		expect(result.kind === 'seats' && result.seats[0].plan).toEqual({ durationUnit: 'days', durationValue: 90 });
	});

	test('the entitlement says why', () => {
		const result = desired(subscription({ invoices: renewed({}, { disputes: ['lost'] }) }), { ...options, ...afterRenewal });
		expect(result.kind === 'seats' && result.entitlement).toEqual({
			status: 'paused',
			reason: 'a payment of sub_1 (pi_in_0) is disputed: lost',
			paidThrough: RENEWED_END,
		});
	});

	test('the skip reason tells the seller what to set', () => {
		const result = desired(payment({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 }] }), options);
		expect(result).toMatchObject({
			kind: 'skip',
			detail: expect.stringContaining('no Keycrate plan for price_tshirt: set keycrate_duration_unit and keycrate_duration_value'),
		});
	});

	test('an unlicensed line beside licensed ones is a warning', () => {
		const result = desired(
			subscription({
				lines: [
					{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 },
					{ price: tierPrice, quantity: 1 },
				],
			}),
			options,
		);
		expect(result.kind === 'seats' && result.warnings).toEqual([expect.stringContaining('price_tshirt')]);
	});
});

describe('desired with a paid-through time no Date can hold', () => {
	// Found by fuzz-core: the reason's toISOString() threw a RangeError, which retried the job until a dead letter.
	test('a period end past year 275760 is active to that end, its reason in Unix seconds', () => {
		const end = 8_640_000_000_001;
		const result = desired(subscription({ invoices: [paid('in_far', START, end)] }), options);
		expect(result).toMatchObject({
			kind: 'seats',
			entitlement: { status: 'active', paidThrough: end, reason: `sub_1 is active and paid through ${end} (Unix seconds)` },
		});
		expect(seats(result)).toEqual([active(0, TIER, end + GRACE)]);
	});
});

describe('the seat bound holds whatever the quantities', () => {
	// Found by fuzz-core: one NaN quantity made the seat count NaN, which passed the bound; the next line's
	// 1e12 seats were then built one by one until the heap ran out.
	test('a NaN quantity counts no seat, and the bound still refuses the other line', () => {
		const lines = [
			{ key: 'si_nan', price: tierPrice, quantity: Number.NaN },
			{ key: 'si_many', price: tierPrice, quantity: 1e12 },
		];
		expect(() => desired(subscription({ lines }), options)).toThrow(PermanentError);
		expect(seats(desired(subscription({ lines: [lines[0], { key: 'si_one', price: tierPrice, quantity: 1 }] }), options))).toEqual([active('si_one:0')]);
	});
});

describe('appsOf: every app a root can hold licenses in', () => {
	test('KEYCRATE_APP_ID, PLANS_FILE apps, and valid ids the metadata names', () => {
		const plans = { p1: { appId: OTHER_APP }, p2: { durationUnit: 'lifetime' as const } };
		const state = subscription({
			metadata: { keycrate_app_id: 'not-a-uuid' },
			lines: [{ price: { id: 'p', metadata: { keycrate_app_id: '55555555-5555-4555-8555-555555555555' } }, quantity: 1 }],
		});
		expect(appsOf(state, { plans, defaultAppId: APP })).toEqual([APP, OTHER_APP, '55555555-5555-4555-8555-555555555555']);
	});
});

describe('desired refuses what no retry can fix (a dead letter naming the field)', () => {
	const refusals: [string, SubscriptionState | PaymentState, string][] = [
		[
			'a million seats',
			subscription({ lines: [{ price: tierPrice, quantity: 1_000_000 }] }),
			'sub_1 asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT (100): none were created and what it holds is paused. If the quantity is right, raise MAX_SEATS_PER_ROOT and run: keycrate-worker retry sub_1',
		],
		[
			'101 one-off seats',
			payment({ lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 101 }] }),
			'pi_1 asks for 101 licenses, more than MAX_SEATS_PER_ROOT (100)',
		],
		[
			'duration in hex',
			payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '0x10' } }, quantity: 1 }] }),
			'price p metadata.keycrate_duration_value: must be a whole decimal number from 1 to 100000 (got "0x10")',
		],
		[
			'duration in exponent form',
			payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '1e3' } }, quantity: 1 }] }),
			'price p metadata.keycrate_duration_value: must be a whole decimal number from 1 to 100000 (got "1e3")',
		],
		[
			'unknown duration unit',
			payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'weeks', keycrate_duration_value: '2' } }, quantity: 1 }] }),
			'price p metadata.keycrate_duration_unit: must be one of minutes, hours, days, months, years, lifetime (got "weeks")',
		],
		[
			'tier that is not a uuid',
			subscription({ metadata: { keycrate_subscription_id: 'gold' } }),
			'subscription sub_1 metadata.keycrate_subscription_id: must be a Keycrate id (uuid) (got "gold")',
		],
		[
			'a one-off whose plan names no duration',
			payment({ lines: [{ price: tierPrice, quantity: 1 }] }),
			'pi_1: the plan of price_tier names no duration, which a one-off purchase needs',
		],
	];
	test.each(refusals)('%s', (_name, state, message) => {
		let thrown: unknown;
		try {
			desired(state, options);
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(PermanentError);
		expect((thrown as Error).message).toContain(message);
	});
});
