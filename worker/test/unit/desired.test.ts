// Table tests of desired(): Stripe's current state → the seats Keycrate should have.

import { PermanentError } from '../../src/errors.js';
import type { Desired, PaymentState, SubscriptionState } from '../../src/model.js';
import { desired, type DesiredOptions } from '../../src/stripe/desired.js';

const APP = '11111111-1111-4111-8111-111111111111';
const OTHER_APP = '22222222-2222-4222-8222-222222222222';
const TIER = '33333333-3333-4333-8333-333333333333';
const PRO = '44444444-4444-4444-8444-444444444444';
const END = 1_800_000_000;
const GRACE = 86400;

const options: DesiredOptions = {
	plans: {
		price_plans_file: { durationUnit: 'days', durationValue: 30 },
		lookup_yearly: { durationUnit: 'years', durationValue: 1, subscriptionId: PRO },
	},
	defaultAppId: APP,
	graceSeconds: GRACE,
	pastDueStatus: 'active',
	maxSeatsPerRoot: 100,
};

const tierPrice = { id: 'price_tier', metadata: { keycrate_subscription_id: TIER } };

function subscription(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
	return {
		kind: 'subscription',
		root: 'sub_1',
		status: 'active',
		metadata: {},
		lines: [{ price: tierPrice, quantity: 1, periodEnd: END }],
		linkage: { subscriptionId: 'sub_1', customerId: 'cus_1' },
		...overrides,
	};
}

function payment(overrides: Partial<PaymentState> = {}): PaymentState {
	return {
		kind: 'payment',
		root: 'pi_1',
		paid: true,
		payment: { refunded: false, disputed: false },
		metadata: {},
		lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 1 }],
		linkage: { paymentIntentId: 'pi_1', email: 'a@example.com' },
		...overrides,
	};
}

/** The seats of a result in a compact form: [seat, status, expiresAt, tier, duration]. */
function seats(result: Desired): unknown {
	if (result.kind === 'skip') return { skip: result.reason };
	return result.seats.map((seat) => [seat.seat, seat.status, seat.expiresAt ?? null, seat.plan.subscriptionId ?? null, seat.plan.durationUnit ?? null, seat.appId === APP ? 'app' : seat.appId]);
}

const active = (seat: number | string, tier: string | null = TIER) => [typeof seat === 'number' ? `line0:${seat}` : seat, 'active', END + GRACE, tier, null, 'app'];
const paused = (seat: number | string, tier: string | null = TIER) => [typeof seat === 'number' ? `line0:${seat}` : seat, 'paused', END + GRACE, tier, null, 'app'];

const cases: [string, SubscriptionState | PaymentState, unknown][] = [
	['tier-only subscription price: no duration needed, expiry = period end + grace', subscription(), [active(0)]],
	['trialing counts as paid', subscription({ status: 'trialing' }), [active(0)]],
	['quantity 3 → three seats', subscription({ lines: [{ price: tierPrice, quantity: 3, periodEnd: END }] }), [active(0), active(1), active(2)]],
	['quantity down to 1 → one seat (plan pauses the others)', subscription({ lines: [{ price: tierPrice, quantity: 1, periodEnd: END }] }), [active(0)]],
	['paused → paused', subscription({ status: 'paused' }), [paused(0)]],
	['resumed after a pause → active again', subscription({ status: 'active' }), [active(0)]],
	['canceled → paused', subscription({ status: 'canceled' }), [paused(0)]],
	['unpaid → paused', subscription({ status: 'unpaid' }), [paused(0)]],
	['past_due → PAST_DUE_STATUS (active)', subscription({ status: 'past_due' }), [active(0)]],
	['latest invoice refunded → paused', subscription({ latestPayment: { refunded: true, disputed: false } }), [paused(0)]],
	['latest invoice disputed → paused', subscription({ latestPayment: { refunded: false, disputed: true } }), [paused(0)]],
	['latest invoice paid and untouched → active', subscription({ latestPayment: { refunded: false, disputed: false } }), [active(0)]],
	['incomplete → nothing yet', subscription({ status: 'incomplete' }), { skip: 'not_paid' }],
	['incomplete_expired → nothing', subscription({ status: 'incomplete_expired' }), { skip: 'not_paid' }],
	['subscription metadata names the tier for every item', subscription({ metadata: { keycrate_subscription_id: PRO }, lines: [{ price: { id: 'price_x', metadata: {} }, quantity: 1, periodEnd: END }] }), [active(0, PRO)]],
	['PLANS_FILE by lookup_key (a duration there is ignored for subscriptions)', subscription({ lines: [{ price: { id: 'price_y', lookupKey: 'lookup_yearly', metadata: {} }, quantity: 1, periodEnd: END }] }), [['line0:0', 'active', END + GRACE, PRO, 'years', 'app']]],
	['an unlicensed item beside a licensed one', subscription({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 2, periodEnd: END }, { price: tierPrice, quantity: 1, periodEnd: END }] }), [active('line1:0')]],
	['seats are numbered within their item (si_…): one item changing never renumbers another', subscription({ lines: [{ key: 'si_A', price: tierPrice, quantity: 1, periodEnd: END }, { key: 'si_B', price: { id: 'price_pro', metadata: { keycrate_subscription_id: PRO } }, quantity: 2, periodEnd: END }] }), [active('si_A:0'), active('si_B:0', PRO), active('si_B:1', PRO)]],
	['no licensed item at all', subscription({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1, periodEnd: END }] }), { skip: 'no_plan' }],
	['a plan may name another Keycrate app', subscription({ lines: [{ price: { id: 'p', metadata: { keycrate_app_id: OTHER_APP, keycrate_subscription_id: TIER } }, quantity: 1, periodEnd: END }] }), [['line0:0', 'active', END + GRACE, TIER, null, OTHER_APP]]],
	['one-off Checkout purchase priced through PLANS_FILE', payment(), [['line0:0', 'active', null, null, 'days', 'app']]],
	['one-off, quantity 2', payment({ lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 2 }] }), [['line0:0', 'active', null, null, 'days', 'app'], ['line0:1', 'active', null, null, 'days', 'app']]],
	['one-off fully refunded → paused', payment({ payment: { refunded: true, disputed: false } }), [['line0:0', 'paused', null, null, 'days', 'app']]],
	['one-off disputed → paused', payment({ payment: { refunded: false, disputed: true } }), [['line0:0', 'paused', null, null, 'days', 'app']]],
	['one-off not paid yet (async payment) → nothing yet', payment({ paid: false }), { skip: 'not_paid' }],
	['one-off priced by its price metadata', payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'lifetime' } }, quantity: 1 }] }), [['line0:0', 'active', null, null, 'lifetime', 'app']]],
	['one-off whose session metadata names the plan, line items unknown', payment({ lines: [], metadata: { keycrate_duration_unit: 'months', keycrate_duration_value: '12' } }), [['line0:0', 'active', null, null, 'months', 'app']]],
	['one-off of nothing licensed', payment({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 }] }), { skip: 'no_plan' }],
];

describe('desired', () => {
	test.each(cases)('%s', (_name, state, expected) => {
		expect(seats(desired(state, options))).toEqual(expected);
	});

	test('the skip reason tells the seller what to set', () => {
		const result = desired(payment({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1 }] }), options);
		expect(result).toMatchObject({ kind: 'skip', detail: expect.stringContaining('no Keycrate plan for price_tshirt: set keycrate_duration_unit and keycrate_duration_value') });
	});

	test('an unlicensed line beside licensed ones is a warning', () => {
		const result = desired(subscription({ lines: [{ price: { id: 'price_tshirt', metadata: {} }, quantity: 1, periodEnd: END }, { price: tierPrice, quantity: 1, periodEnd: END }] }), options);
		expect(result.kind === 'seats' && result.warnings).toEqual([expect.stringContaining('price_tshirt')]);
	});
});

describe('desired refuses what no retry can fix (a dead letter naming the field)', () => {
	const refusals: [string, SubscriptionState | PaymentState, string][] = [
		['a million seats', subscription({ lines: [{ price: tierPrice, quantity: 1_000_000, periodEnd: END }] }), 'sub_1 asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT (100): none were created. If the quantity is right, raise MAX_SEATS_PER_ROOT and run: keycrate-worker retry sub_1'],
		['101 one-off seats', payment({ lines: [{ price: { id: 'price_plans_file', metadata: {} }, quantity: 101 }] }), 'pi_1 asks for 101 licenses, more than MAX_SEATS_PER_ROOT (100)'],
		['duration in hex', payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '0x10' } }, quantity: 1 }] }), 'price p metadata.keycrate_duration_value: must be a whole decimal number from 1 to 100000 (got "0x10")'],
		['duration in exponent form', payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '1e3' } }, quantity: 1 }] }), 'price p metadata.keycrate_duration_value: must be a whole decimal number from 1 to 100000 (got "1e3")'],
		['unknown duration unit', payment({ lines: [{ price: { id: 'p', metadata: { keycrate_duration_unit: 'weeks', keycrate_duration_value: '2' } }, quantity: 1 }] }), 'price p metadata.keycrate_duration_unit: must be one of minutes, hours, days, months, years, lifetime (got "weeks")'],
		['tier that is not a uuid', subscription({ metadata: { keycrate_subscription_id: 'gold' } }), 'subscription sub_1 metadata.keycrate_subscription_id: must be a Keycrate id (uuid) (got "gold")'],
		['a one-off whose plan names no duration', payment({ lines: [{ price: tierPrice, quantity: 1 }] }), 'pi_1: the plan of price_tier names no duration, which a one-off purchase needs'],
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
