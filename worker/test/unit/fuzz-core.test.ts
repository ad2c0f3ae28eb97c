// Fuzz of the pure core with objects no story would build: any JSON as an event's data.object into rootOfEvent();
// any JSON as a Keycrate reply into readLicense() and then plan(); Stripe states with values at the edges of
// their types (NaN and fractional quantities, unknown statuses, seller metadata of any text) into desired() and
// then plan(). No crash: the only error allowed is the PermanentError a job turns into a dead letter.

import fc from 'fast-check';
import { PermanentError } from '../../src/errors.js';
import { plan, planPauseAll } from '../../src/keycrate/plan.js';
import { readLicense, ROOT_METADATA, SEAT_METADATA, HANDOFF_MARKER } from '../../src/keycrate/record.js';
import type { FoundLicense, InvoiceFacts, Line, PaymentFacts, PaymentState, SubscriptionState } from '../../src/model.js';
import { appsOf, desired } from '../../src/stripe/desired.js';
import { METADATA_KEYS } from '../../src/stripe/plans.js';
import { HANDLED_EVENT_TYPES, isRootId, rootOfEvent } from '../../src/stripe/roots.js';
import { APPS, LINES, NOW, SEATS, TIERS, desiredOptions, input, licensesArb, licensesOf, seatsArb } from '../support/arbitraries.js';

/** Keys the code reads, keys that shadow Object.prototype, and any other. */
const keyArb = (known: string[]) =>
	fc.oneof(fc.constantFrom(...known), fc.constantFrom('toString', 'valueOf', 'constructor', '__proto__', 'length'), fc.string({ maxLength: 6 }));

function jsonWith(known: string[], leaves: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
	const { value } = fc.letrec<{ value: unknown }>((tie) => ({
		value: fc.oneof({ depthSize: 'small' }, leaves, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(keyArb(known), tie('value'), { maxKeys: 5 })),
	}));
	return value;
}

const leafArb = fc.oneof(
	fc.constant(null),
	fc.boolean(),
	fc.double(),
	fc.integer(),
	fc.string({ maxLength: 12 }),
	fc.constantFrom('', 'sub_1', 'pi_1', 'cs_1', 'sub_', 'pi_\n', 'payment', 'subscription', 'setup'),
);

describe('fuzz: rootOfEvent() with any JSON as the event object', () => {
	const objectArb = jsonWith(['id', 'object', 'mode', 'subscription', 'payment_intent', 'parent', 'subscription_details', 'payment', 'charge'], leafArb);
	const typeArb = fc.oneof(
		fc.constantFrom(...HANDLED_EVENT_TYPES, 'invoice_payment.paid', 'checkout.session.', 'invoice', 'charge'),
		fc.string({ maxLength: 10 }),
	);

	test("5,000 events: a root with Stripe's id alphabet, or a skip with a reason; never a throw", () => {
		fc.assert(
			fc.property(typeArb, fc.oneof(objectArb, fc.dictionary(keyArb(['object']), objectArb)), (type, data) => {
				const result = rootOfEvent({ id: 'evt_1', type, data: data as { object?: unknown } });
				if ('root' in result) expect(isRootId(result.root)).toBe(true);
				else expect(typeof result.detail).toBe('string');
			}),
			{ numRuns: 5000 },
		);
	});
});

describe('fuzz: Keycrate replies of any shape into readLicense(), then plan()', () => {
	const replyArb = jsonWith(
		['license_key', 'app_id', 'status', 'expires_at', 'subscription_id', 'created_at', 'metadata', 'tags', SEAT_METADATA, ROOT_METADATA, HANDOFF_MARKER],
		fc.oneof(leafArb, fc.constantFrom(...SEATS, ...APPS, ...TIERS, 'active', 'paused', '2026-01-01T00:00:00Z', 'kcseat:si_A:0', 'kcsync:sub_1')),
	);

	test('2,000 sets of replies: what is read is planned without a throw, and only licenses read are touched', () => {
		fc.assert(
			fc.property(
				fc.array(replyArb, { maxLength: 6 }),
				seatsArb,
				fc.constantFrom<'subscription' | 'payment'>('subscription', 'payment'),
				(replies, seats, kind) => {
					const read = replies.map((reply) => readLicense(reply, APPS[0])).filter((license): license is FoundLicense => license !== undefined);
					const keys = new Set(read.map((license) => license.licenseKey));
					for (const action of [...plan(input(seats, read, kind)), ...planPauseAll(read)]) {
						if ('licenseKey' in action && action.licenseKey !== undefined) expect(keys.has(action.licenseKey)).toBe(true);
					}
				},
			),
			{ numRuns: 2000 },
		);
	});
});

describe('fuzz: Stripe states at the edges of their types into desired(), then plan()', () => {
	const number = fc.oneof(fc.integer({ min: -3, max: 8 }), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 2.5, 1e12));
	const time = fc.oneof(fc.integer({ min: NOW - 200 * 86400, max: NOW + 200 * 86400 }), fc.double(), fc.constantFrom(Number.NaN, 0, -1));
	/** Seller metadata: our keys with any text (Stripe's metadata values are strings), and other keys. */
	const metadataArb = fc.dictionary(
		fc.oneof(fc.constantFrom(...Object.values(METADATA_KEYS)), fc.string({ maxLength: 6 })),
		fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...APPS, ...TIERS, 'days', 'lifetime', 'years', '30', ' 7 ', '0', '100001', 'true', 'false', '*-*')),
		{ maxKeys: 4 },
	);
	const paymentArb: fc.Arbitrary<PaymentFacts> = fc.record(
		{ paymentIntentId: fc.string({ maxLength: 6 }), created: time, refunded: fc.boolean(), disputes: fc.array(fc.string({ maxLength: 24 }), { maxLength: 3 }) },
		{ requiredKeys: ['refunded', 'disputes'] },
	);
	const lineArb: fc.Arbitrary<Line> = fc.record(
		{
			key: fc.oneof(fc.constantFrom(...LINES), fc.string({ maxLength: 80 })),
			price: fc.record(
				{ id: fc.string({ maxLength: 10 }), metadata: metadataArb, lookupKey: fc.string({ maxLength: 6 }) },
				{ requiredKeys: ['id', 'metadata'] },
			),
			quantity: number,
			metered: fc.boolean(),
		},
		{ requiredKeys: ['quantity'] },
	);
	const invoiceArb: fc.Arbitrary<InvoiceFacts> = fc.record(
		{
			id: fc.string({ maxLength: 6 }),
			// Cast as fetch.ts casts Stripe's value: a status Stripe adds later arrives as it is.
			status: fc.constantFrom('paid', 'open', 'draft', 'void', 'uncollectible', 'unknown_new_status') as fc.Arbitrary<InvoiceFacts['status']>,
			created: time,
			covers: fc.record({ start: time, end: time }),
			payments: fc.array(paymentArb, { maxLength: 3 }),
		},
		{ requiredKeys: ['id', 'status', 'created', 'payments'] },
	);
	const subscriptionArb: fc.Arbitrary<SubscriptionState> = fc.record({
		kind: fc.constant('subscription' as const),
		root: fc.constant('sub_1'),
		status: fc.oneof(
			fc.constantFrom('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'),
			fc.string({ maxLength: 8 }),
		) as fc.Arbitrary<SubscriptionState['status']>,
		metadata: metadataArb,
		lines: fc.array(lineArb, { maxLength: 4 }),
		invoices: fc.array(invoiceArb, { maxLength: 5 }),
		linkage: fc.constant({ subscriptionId: 'sub_1' }),
	});
	const paymentStateArb: fc.Arbitrary<PaymentState> = fc.record({
		kind: fc.constant('payment' as const),
		root: fc.constant('pi_1'),
		paid: fc.boolean(),
		payment: paymentArb,
		metadata: metadataArb,
		lines: fc.array(lineArb, { maxLength: 4 }),
		linkage: fc.constant({ paymentIntentId: 'pi_1' }),
	});

	test('3,000 states: seats within the bound or a PermanentError, never another throw; the plan of those seats never throws', () => {
		const options = desiredOptions({ maxSeatsPerRoot: 20 });
		fc.assert(
			fc.property(fc.oneof(subscriptionArb, paymentStateArb), licensesArb, (state, drawn) => {
				expect(() => appsOf(state, options)).not.toThrow();
				let want;
				try {
					want = desired(state, options);
				} catch (error) {
					expect(error).toBeInstanceOf(PermanentError);
					return;
				}
				if (want.kind === 'skip') return;
				expect(want.seats.length).toBeLessThanOrEqual(options.maxSeatsPerRoot);
				for (const seat of want.seats) expect(['active', 'paused']).toContain(seat.status);
				const actions = plan(input(want.seats, licensesOf(drawn), want.rootKind, state.root));
				expect(actions.filter((action) => action.type === 'create').length).toBeLessThanOrEqual(want.seats.length);
			}),
			{ numRuns: 3000 },
		);
	});
});
