import { checkoutSessionNeedingLineItems, handleEvent, PermanentEventError, SESSION_METADATA_LINE, type HandlerContext } from '../src/handlers/index.js';
import type { PlanMap } from '../src/config.js';
import type { HandlerResult, RootFacts } from '../src/model.js';
import type { LineItem, StripeEvent } from '../src/stripe/types.js';
import {
	checkoutAsyncPaymentSucceeded,
	checkoutLineItem,
	checkoutSessionCompleted,
	chargeRefunded,
	disputeCreated,
	invoicePaid,
	otherEvent,
	stripePrice,
	subscriptionEvent,
	type ApiShape,
} from '../src/stripe/example-events.js';

const GRACE = 86400;
const TIER = '7d1f3c52-9a2b-4c1e-8f00-1a2b3c4d5e6f';
const monthly = { keycrate_duration_unit: 'months', keycrate_duration_value: '1' };

function context(overrides: Partial<HandlerContext> = {}): HandlerContext {
	return { plans: {}, graceSeconds: GRACE, pastDueStatus: 'active', ...overrides };
}

function onlyFacts(result: HandlerResult): RootFacts {
	expect(result.ignored).toBeUndefined();
	expect(result.facts).toHaveLength(1);
	return result.facts[0];
}

function objectOf(event: StripeEvent): Record<string, any> {
	return event.data.object as Record<string, any>;
}

function thrown(run: () => unknown): PermanentEventError {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(PermanentEventError);
		return error as PermanentEventError;
	}
	throw new Error('expected a PermanentEventError');
}

describe('checkout.session.completed, mode payment', () => {
	it('licenses each line item of a paid session, rooted at its payment intent', () => {
		const price = stripePrice({ metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '30', keycrate_subscription_id: TIER } });
		const event = checkoutSessionCompleted({ lineItems: [{ price, quantity: 2 }], email: 'ada@example.com', livemode: true, created: 1760000000 });
		const session = objectOf(event);
		const facts = onlyFacts(handleEvent(event, context()));
		expect(facts).toEqual({
			root: `pay:${session.payment_intent}`,
			kind: 'payment',
			entitled: true,
			linkage: {
				customerId: session.customer,
				email: 'ada@example.com',
				checkoutSessionId: session.id,
				paymentIntentId: session.payment_intent,
				livemode: true,
			},
			lines: {
				value: [{ lineKey: price.id, priceId: price.id, plan: { durationUnit: 'days', durationValue: 30, subscriptionId: TIER }, count: 2 }],
				asOf: 1760000000,
				rank: 0,
			},
			paymentIntentIds: [session.payment_intent],
		});
	});

	it('maps a price through PLANS_FILE by id, else by lookup_key', () => {
		const byId = stripePrice();
		const byLookup = stripePrice({ lookupKey: 'pro_lifetime' });
		const plans: PlanMap = { [byId.id]: { durationUnit: 'years', durationValue: 1 }, pro_lifetime: { durationUnit: 'lifetime' } };
		const event = checkoutSessionCompleted({ lineItems: [{ price: byId }, { price: byLookup, quantity: 3 }] });
		const facts = onlyFacts(handleEvent(event, context({ plans })));
		expect(facts.lines?.value.map((line) => [line.lineKey, line.plan.durationUnit, line.count])).toEqual([
			[byId.id, 'years', 1],
			[byLookup.id, 'lifetime', 3],
		]);
	});

	it("prefers the session's metadata to the price's metadata and to PLANS_FILE", () => {
		const price = stripePrice({ metadata: monthly });
		const event = checkoutSessionCompleted({
			lineItems: [{ price }],
			metadata: { keycrate_duration_unit: 'lifetime', order: '42' },
		});
		const facts = onlyFacts(handleEvent(event, context({ plans: { [price.id]: { durationUnit: 'days', durationValue: 7 } } })));
		expect(facts.lines?.value[0].plan).toEqual({ durationUnit: 'lifetime' });
	});

	it('prefers the price metadata to PLANS_FILE', () => {
		const price = stripePrice({ metadata: monthly });
		const event = checkoutSessionCompleted({ lineItems: [{ price }] });
		const facts = onlyFacts(handleEvent(event, context({ plans: { [price.id]: { durationUnit: 'days', durationValue: 7 } } })));
		expect(facts.lines?.value[0].plan).toEqual({ durationUnit: 'months', durationValue: 1 });
	});

	it('adds up line items of the same price', () => {
		const price = stripePrice({ metadata: monthly });
		const event = checkoutSessionCompleted({ lineItems: [{ price, quantity: 1 }, { price, quantity: 2 }] });
		expect(onlyFacts(handleEvent(event, context())).lines?.value).toEqual([
			{ lineKey: price.id, priceId: price.id, plan: { durationUnit: 'months', durationValue: 1 }, count: 3 },
		]);
	});

	it('uses the line items the caller fetched when the event has none', () => {
		const price = stripePrice({ metadata: monthly });
		const lineItems: LineItem[] = [checkoutLineItem({ price, quantity: 4 })];
		const event = checkoutSessionCompleted();
		expect(objectOf(event).line_items).toBeUndefined();
		const facts = onlyFacts(handleEvent(event, context({ lineItems })));
		expect(facts.lines?.value).toEqual([{ lineKey: price.id, priceId: price.id, plan: { durationUnit: 'months', durationValue: 1 }, count: 4 }]);
	});

	it("sells one seat of the session metadata's plan when no line items are known", () => {
		const event = checkoutSessionCompleted({ metadata: monthly });
		expect(onlyFacts(handleEvent(event, context())).lines?.value).toEqual([
			{ lineKey: SESSION_METADATA_LINE, plan: { durationUnit: 'months', durationValue: 1 }, count: 1 },
		]);
	});

	it('says what to configure when nothing tells what was bought', () => {
		const result = handleEvent(checkoutSessionCompleted(), context());
		expect(result.facts).toEqual([]);
		expect(result.ignored).toEqual({
			reason: 'unmapped_purchase',
			priceIds: [],
			detail: expect.stringContaining('set STRIPE_API_KEY so the worker can read them'),
		});
	});

	it('ignores an unpaid (async pending) session and licenses it on async_payment_succeeded', () => {
		const price = stripePrice({ metadata: monthly });
		const pending = checkoutSessionCompleted({ paymentStatus: 'unpaid', lineItems: [{ price }] });
		const session = objectOf(pending);
		expect(handleEvent(pending, context())).toEqual({
			facts: [],
			revocations: [],
			ignored: { reason: 'not_paid', detail: `checkout session ${session.id} is unpaid; licenses follow its checkout.session.async_payment_succeeded` },
		});
		const succeeded = checkoutAsyncPaymentSucceeded({ id: session.id, paymentIntent: session.payment_intent, lineItems: [{ price }] });
		const facts = onlyFacts(handleEvent(succeeded, context()));
		expect(facts.root).toBe(`pay:${session.payment_intent}`);
		expect(facts.entitled).toBe(true);
	});

	it('roots a free session without a payment intent at the session', () => {
		const event = checkoutSessionCompleted({ paymentStatus: 'no_payment_required', paymentIntent: null, metadata: monthly });
		const facts = onlyFacts(handleEvent(event, context()));
		expect(facts.root).toBe(`pay:${objectOf(event).id}`);
		expect(facts.paymentIntentIds).toBeUndefined();
		expect(facts.linkage?.paymentIntentId).toBeUndefined();
	});

	it('takes the pre-filled customer_email when customer_details has none', () => {
		const event = checkoutSessionCompleted({ email: null, prefilledEmail: 'pre@example.com', metadata: monthly });
		expect(onlyFacts(handleEvent(event, context())).linkage?.email).toBe('pre@example.com');
	});

	it('reports a purchase of unmapped prices, with the price ids and what to configure', () => {
		const first = stripePrice();
		const second = stripePrice();
		const result = handleEvent(checkoutSessionCompleted({ lineItems: [{ price: first }, { price: second }] }), context());
		expect(result.facts).toEqual([]);
		expect(result.ignored).toEqual({
			reason: 'unmapped_purchase',
			priceIds: [first.id, second.id],
			detail:
				`no Keycrate plan for ${first.id}, ${second.id}: set keycrate_duration_unit and keycrate_duration_value ` +
				"(and optionally keycrate_subscription_id) in the price's or the checkout session's metadata, " +
				'or add the price id or its lookup_key to PLANS_FILE',
		});
	});

	it('licenses the mapped lines of a partly mapped purchase and warns about the rest', () => {
		const mapped = stripePrice({ metadata: monthly });
		const unmapped = stripePrice();
		const result = handleEvent(checkoutSessionCompleted({ lineItems: [{ price: mapped }, { price: unmapped }] }), context());
		expect(onlyFacts(result).lines?.value.map((line) => line.lineKey)).toEqual([mapped.id]);
		expect(result.warnings).toEqual([expect.stringMatching(new RegExp(`^some lines were not licensed: no Keycrate plan for ${unmapped.id}:`))]);
	});

	it('reports a session whose line item list is empty', () => {
		expect(handleEvent(checkoutSessionCompleted({ lineItems: [] }), context()).ignored).toEqual({
			reason: 'unmapped_purchase',
			priceIds: [],
			detail: 'the checkout session lists nothing that was bought',
		});
	});

	it('ignores a setup-mode session', () => {
		expect(handleEvent(checkoutSessionCompleted({ mode: 'setup' }), context()).ignored).toEqual({
			reason: 'event_type_not_handled',
			type: 'checkout.session.completed (mode setup)',
		});
	});
});

describe('keycrate_* metadata is validated, and a bad value is a permanent error naming the key', () => {
	const cases: Array<[string, Record<string, string>, string]> = [
		['an unknown unit', { keycrate_duration_unit: 'weeks', keycrate_duration_value: '2' }, 'metadata.keycrate_duration_unit: must be one of minutes, hours, days, months, years, lifetime (got "weeks")'],
		['a value that is not a number', { keycrate_duration_unit: 'days', keycrate_duration_value: 'thirty' }, 'metadata.keycrate_duration_value: must be a whole number ≥ 1 when duration_unit is days (got "thirty")'],
		['a missing value', { keycrate_duration_unit: 'days' }, 'metadata.keycrate_duration_value: must be a whole number ≥ 1 when duration_unit is days (got nothing)'],
		['a tier only', { keycrate_subscription_id: TIER }, 'metadata.keycrate_duration_unit: must be one of minutes, hours, days, months, years, lifetime (got nothing)'],
		['a tier that is no uuid', { keycrate_subscription_id: 'gold', keycrate_duration_unit: 'lifetime' }, 'metadata.keycrate_subscription_id: must be a Keycrate subscription id (uuid) (got "gold")'],
	];

	it.each(cases)('on a price: %s', (_name, metadata, message) => {
		const price = stripePrice({ metadata });
		const error = thrown(() => handleEvent(checkoutSessionCompleted({ lineItems: [{ price }] }), context()));
		expect(error.message).toBe(`price ${price.id} ${message}`);
		expect(error.field).toBe(message.slice('metadata.'.length, message.indexOf(':')));
	});

	it('on a checkout session', () => {
		const event = checkoutSessionCompleted({ metadata: { keycrate_duration_unit: 'fortnights' } });
		expect(thrown(() => handleEvent(event, context())).message).toBe(
			`checkout session ${objectOf(event).id} metadata.keycrate_duration_unit: must be one of minutes, hours, days, months, years, lifetime (got "fortnights")`,
		);
	});

	it('on a subscription', () => {
		const event = subscriptionEvent('created', { metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '0' } });
		expect(thrown(() => handleEvent(event, context())).message).toBe(
			`subscription ${objectOf(event).id} metadata.keycrate_duration_value: must be a whole number ≥ 1 when duration_unit is days (got "0")`,
		);
	});

	it("on an invoice's subscription snapshot", () => {
		const event = invoicePaid({ subscriptionMetadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '1.5' } }, { apiShape: 'current' });
		expect(thrown(() => handleEvent(event, context())).message).toBe(
			`invoice ${objectOf(event).id} subscription metadata.keycrate_duration_value: must be a whole number ≥ 1 when duration_unit is days (got "1.5")`,
		);
	});

	it('ignores metadata of other apps and blank keycrate_* values', () => {
		const price = stripePrice({ metadata: { ...monthly, keycrate_subscription_id: ' ', other: 'x' } });
		const facts = onlyFacts(handleEvent(checkoutSessionCompleted({ lineItems: [{ price }] }), context()));
		expect(facts.lines?.value[0].plan).toEqual({ durationUnit: 'months', durationValue: 1 });
	});
});

describe('checkout.session.completed, mode subscription', () => {
	it('links buyer and subscription, with the lines and entitlement of a paid session', () => {
		const price = stripePrice({ metadata: monthly, recurring: { interval: 'month' } });
		const event = checkoutSessionCompleted({ mode: 'subscription', lineItems: [{ price }], email: 'sub@example.com', created: 1760000100 });
		const session = objectOf(event);
		expect(onlyFacts(handleEvent(event, context()))).toEqual({
			root: `sub:${session.subscription}`,
			kind: 'subscription',
			entitled: true,
			linkage: { customerId: session.customer, email: 'sub@example.com', checkoutSessionId: session.id, subscriptionId: session.subscription, livemode: false },
			lines: { value: [{ lineKey: price.id, priceId: price.id, plan: { durationUnit: 'months', durationValue: 1 }, count: 1 }], asOf: 1760000100, rank: 0 },
		});
	});

	it('gives only the linkage when the line items are unknown', () => {
		const event = checkoutSessionCompleted({ mode: 'subscription' });
		const facts = onlyFacts(handleEvent(event, context()));
		expect(Object.keys(facts).sort()).toEqual(['kind', 'linkage', 'root']);
	});

	it('does not entitle an unpaid session', () => {
		const price = stripePrice({ metadata: monthly });
		const facts = onlyFacts(handleEvent(checkoutSessionCompleted({ mode: 'subscription', paymentStatus: 'unpaid', lineItems: [{ price }] }), context()));
		expect(facts.entitled).toBeUndefined();
		expect(facts.lines?.value).toHaveLength(1);
	});

	it('ignores a session without a subscription', () => {
		const event = checkoutSessionCompleted({ mode: 'subscription', subscription: null });
		expect(handleEvent(event, context()).ignored).toEqual({ reason: 'no_root', detail: `checkout session ${objectOf(event).id} (mode subscription) names no subscription` });
	});
});

describe.each<ApiShape>(['legacy', 'current'])('customer.subscription.* (%s shape)', (apiShape) => {
	const price = stripePrice({ metadata: monthly, recurring: { interval: 'month' } });

	it('turns items into seat lines, status into license status, period end into least expiry', () => {
		const seats = stripePrice({ recurring: { interval: 'month' } });
		const event = subscriptionEvent(
			'created',
			{ items: [{ price, quantity: 1 }, { price: seats, quantity: 5 }], periodEnd: 1762592000, created: 1760000000, livemode: true },
			{ apiShape },
		);
		const subscription = objectOf(event);
		const items = subscription.items.data;
		expect(onlyFacts(handleEvent(event, context({ plans: { [seats.id]: { durationUnit: 'months', durationValue: 1, subscriptionId: TIER } } })))).toEqual({
			root: `sub:${subscription.id}`,
			kind: 'subscription',
			linkage: { customerId: subscription.customer, subscriptionId: subscription.id, livemode: true },
			lines: {
				value: [
					{ lineKey: items[0].id, priceId: price.id, plan: { durationUnit: 'months', durationValue: 1 }, count: 1 },
					{ lineKey: items[1].id, priceId: seats.id, plan: { durationUnit: 'months', durationValue: 1, subscriptionId: TIER }, count: 5 },
				],
				asOf: 1760000000,
				rank: 0,
			},
			status: { value: 'active', asOf: 1760000000, rank: 0 },
			expiresAtLeast: 1762592000 + GRACE,
			entitled: true,
		});
	});

	it.each([
		['created', 0],
		['updated', 1],
		['resumed', 1],
		['paused', 1],
		['deleted', 2],
	] as const)('ranks %s as %i, so a same-second deletion beats an update', (kind, rank) => {
		const facts = onlyFacts(handleEvent(subscriptionEvent(kind, { items: [{ price }] }, { apiShape }), context()));
		expect(facts.status?.rank).toBe(rank);
		expect(facts.lines?.rank).toBe(rank);
	});

	it.each([
		['active', 'active', 'active', true],
		['trialing', 'active', 'active', true],
		['past_due', 'active', 'active', true],
		['past_due', 'paused', 'paused', false],
		['canceled', 'active', 'paused', false],
		['unpaid', 'active', 'paused', false],
		['paused', 'active', 'paused', false],
		['incomplete', 'active', 'paused', false],
		['incomplete_expired', 'active', 'paused', false],
	] as const)('maps status %s (past_due → %s) to %s, entitled %s', (status, pastDueStatus, expected, entitled) => {
		const facts = onlyFacts(handleEvent(subscriptionEvent('updated', { status, items: [{ price }] }, { apiShape }), context({ pastDueStatus })));
		expect(facts.status?.value).toBe(expected);
		expect(facts.entitled).toBe(entitled);
	});

	it('counts an item without a quantity as one seat', () => {
		const event = subscriptionEvent('created', { items: [{ price }] }, { apiShape });
		delete objectOf(event).items.data[0].quantity;
		expect(onlyFacts(handleEvent(event, context())).lines?.value[0].count).toBe(1);
	});

	it("prefers the subscription's metadata to its prices'", () => {
		const event = subscriptionEvent('created', { items: [{ price }], metadata: { keycrate_duration_unit: 'years', keycrate_duration_value: '1' } }, { apiShape });
		expect(onlyFacts(handleEvent(event, context())).lines?.value[0].plan).toEqual({ durationUnit: 'years', durationValue: 1 });
	});

	it('ignores a subscription to unmapped prices, and warns about unmapped items of a mapped one', () => {
		const other = stripePrice({ recurring: { interval: 'month' } });
		const none = handleEvent(subscriptionEvent('created', { items: [{ price: other }] }, { apiShape }), context());
		expect(none.ignored).toEqual({ reason: 'unmapped_purchase', priceIds: [other.id], detail: expect.stringContaining("the price's or the subscription's metadata") });
		const some = handleEvent(subscriptionEvent('created', { items: [{ price }, { price: other }] }, { apiShape }), context());
		expect(onlyFacts(some).lines?.value).toHaveLength(1);
		expect(some.warnings).toEqual([expect.stringContaining(`no Keycrate plan for ${other.id}`)]);
	});

	it('refuses a status Stripe may add later, naming it', () => {
		const event = subscriptionEvent('updated', { items: [{ price }] }, { apiShape });
		objectOf(event).status = 'suspended';
		expect(thrown(() => handleEvent(event, context())).message).toBe(
			`subscription ${objectOf(event).id}.status: unknown status "suspended" (known: incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid, paused)`,
		);
	});
});

describe('customer.subscription.* shape differences', () => {
	it('reads the period end from the subscription (legacy) or the latest item (current)', () => {
		const price = stripePrice({ metadata: monthly });
		const legacy = subscriptionEvent('updated', { items: [{ price }], periodEnd: 1762000000 }, { apiShape: 'legacy' });
		expect(objectOf(legacy).current_period_end).toBe(1762000000);
		expect(onlyFacts(handleEvent(legacy, context())).expiresAtLeast).toBe(1762000000 + GRACE);

		const current = subscriptionEvent('updated', { items: [{ price }, { price }], periodEnd: 1762000000 }, { apiShape: 'current' });
		expect(objectOf(current).current_period_end).toBeUndefined();
		objectOf(current).items.data[1].current_period_end = 1765000000;
		expect(onlyFacts(handleEvent(current, context())).expiresAtLeast).toBe(1765000000 + GRACE);
	});

	it('gives no least expiry when no period end is present', () => {
		const event = subscriptionEvent('updated', { items: [{ price: stripePrice({ metadata: monthly }) }] }, { apiShape: 'current' });
		delete objectOf(event).items.data[0].current_period_end;
		expect(onlyFacts(handleEvent(event, context())).expiresAtLeast).toBeUndefined();
	});
});

describe.each<ApiShape>(['legacy', 'current'])('invoice.paid (%s shape)', (apiShape) => {
	const price = stripePrice({ recurring: { interval: 'month' } });
	const plans: PlanMap = { [price.id]: { durationUnit: 'months', durationValue: 1 } };

	it('entitles the subscription through the latest line period end, with seat lines when all map', () => {
		const event = invoicePaid(
			{
				lines: [
					{ price, quantity: 2, subscriptionItem: 'si_Seats', periodStart: 1760000000, periodEnd: 1762592000 },
				],
				email: 'payer@example.com',
				includePayments: true,
				created: 1760000050,
				livemode: true,
			},
			{ apiShape },
		);
		const invoice = objectOf(event);
		const subscriptionId = apiShape === 'legacy' ? invoice.subscription : invoice.parent.subscription_details.subscription;
		const paymentIntentId = apiShape === 'legacy' ? invoice.payment_intent : invoice.payments.data[0].payment.payment_intent;
		expect(onlyFacts(handleEvent(event, context({ plans })))).toEqual({
			root: `sub:${subscriptionId}`,
			kind: 'subscription',
			entitled: true,
			expiresAtLeast: 1762592000 + GRACE,
			linkage: { customerId: invoice.customer, email: 'payer@example.com', invoiceId: invoice.id, subscriptionId, livemode: true },
			lines: { value: [{ lineKey: 'si_Seats', priceId: price.id, plan: plans[price.id], count: 2 }], asOf: 1760000050, rank: 0 },
			paymentIntentIds: [paymentIntentId],
		});
	});

	it('leaves the lines out when a line maps to no plan, a line is a proration, or the list is cut', () => {
		const other = stripePrice({ recurring: { interval: 'month' } });
		const cases = [
			invoicePaid({ lines: [{ price }, { price: other }] }, { apiShape }),
			invoicePaid({ lines: [{ price, proration: true }, { price }] }, { apiShape }),
			invoicePaid({ lines: [{ price }], hasMore: true }, { apiShape }),
			invoicePaid({ lines: [{ price }, { price, subscriptionItem: null }] }, { apiShape }),
		];
		for (const event of cases) {
			const facts = onlyFacts(handleEvent(event, context({ plans })));
			expect(facts.lines).toBeUndefined();
			expect(facts.entitled).toBe(true);
			expect(facts.expiresAtLeast).toBeGreaterThan(0);
		}
	});

	it("maps lines through the subscription's metadata snapshot", () => {
		const event = invoicePaid({ lines: [{ price }], subscriptionMetadata: monthly }, { apiShape });
		expect(onlyFacts(handleEvent(event, context())).lines?.value[0].plan).toEqual({ durationUnit: 'months', durationValue: 1 });
	});

	it('takes the latest period end of all lines', () => {
		const event = invoicePaid({ lines: [{ price, periodEnd: 1770000000 }, { price, periodEnd: 1771000000 }] }, { apiShape });
		expect(onlyFacts(handleEvent(event, context())).expiresAtLeast).toBe(1771000000 + GRACE);
	});

	it('ignores an invoice that is not for a subscription', () => {
		const event = invoicePaid({ subscription: null, lines: [{ price, subscriptionItem: null }] }, { apiShape });
		expect(handleEvent(event, context({ plans }))).toEqual({
			facts: [],
			revocations: [],
			ignored: { reason: 'no_root', detail: `invoice ${objectOf(event).id} is not for a subscription; one-off invoices are not licensed` },
		});
	});

	it('names no payment intent when the invoice has none', () => {
		const event = invoicePaid({ paymentIntent: null, includePayments: true }, { apiShape });
		expect(onlyFacts(handleEvent(event, context())).paymentIntentIds).toBeUndefined();
	});
});

describe('invoice.paid shape differences', () => {
	it('finds no payment intent in a current-shape invoice whose payments were not expanded', () => {
		const event = invoicePaid({}, { apiShape: 'current' });
		expect(objectOf(event).payments).toBeUndefined();
		expect(onlyFacts(handleEvent(event, context())).paymentIntentIds).toBeUndefined();
	});

	it("uses a legacy line's price metadata (current lines carry only the price id)", () => {
		const price = stripePrice({ metadata: monthly });
		expect(onlyFacts(handleEvent(invoicePaid({ lines: [{ price }] }, { apiShape: 'legacy' }), context())).lines).toBeDefined();
		expect(onlyFacts(handleEvent(invoicePaid({ lines: [{ price }] }, { apiShape: 'current' }), context())).lines).toBeUndefined();
	});
});

describe.each<ApiShape>(['legacy', 'current'])('charge.refunded and charge.dispute.created (%s shape)', (apiShape) => {
	it('revokes the payment of a fully refunded charge', () => {
		const event = chargeRefunded({ paymentIntent: 'pi_Refunded', created: 1760000200 }, { apiShape });
		expect(handleEvent(event, context())).toEqual({ facts: [], revocations: [{ paymentIntentId: 'pi_Refunded', asOf: 1760000200, reason: 'refund' }] });
	});

	it('counts amount_refunded ≥ amount as a full refund even without the refunded flag', () => {
		const event = chargeRefunded({ paymentIntent: 'pi_Full', amount: 1000, amountRefunded: 1000, refunded: false }, { apiShape });
		expect(handleEvent(event, context()).revocations).toEqual([{ paymentIntentId: 'pi_Full', asOf: event.created, reason: 'refund' }]);
	});

	it('ignores a partial refund', () => {
		const event = chargeRefunded({ amount: 2900, amountRefunded: 900 }, { apiShape });
		expect(handleEvent(event, context())).toEqual({
			facts: [],
			revocations: [],
			ignored: { reason: 'partial_refund', detail: `charge ${objectOf(event).id} refunded 900 of 2900; licenses stay until it is fully refunded` },
		});
	});

	it('ignores a refunded charge without a payment intent', () => {
		const event = chargeRefunded({ paymentIntent: null }, { apiShape });
		expect(handleEvent(event, context()).ignored).toEqual({ reason: 'no_root', detail: `charge ${objectOf(event).id} has no payment intent, so no purchase of ours` });
	});

	it("revokes a disputed charge's payment", () => {
		const event = disputeCreated({ paymentIntent: 'pi_Disputed', created: 1760000300 }, { apiShape });
		expect(handleEvent(event, context())).toEqual({ facts: [], revocations: [{ paymentIntentId: 'pi_Disputed', asOf: 1760000300, reason: 'dispute' }] });
	});

	it('ignores a dispute without a payment intent', () => {
		const event = disputeCreated({ paymentIntent: null }, { apiShape });
		expect(handleEvent(event, context()).ignored).toEqual({ reason: 'no_root', detail: `dispute ${objectOf(event).id} has no payment intent, so no purchase of ours` });
	});
});

describe('any other event', () => {
	it.each(['customer.created', 'invoice.payment_failed', 'constructor', '__proto__'])('ignores %s as not handled', (type) => {
		expect(handleEvent(otherEvent(type, { id: 'x_1', object: 'thing' }), context())).toEqual({
			facts: [],
			revocations: [],
			ignored: { reason: 'event_type_not_handled', type },
		});
	});

	it('refuses a handled event whose object is not what its type promises', () => {
		const event = otherEvent('invoice.paid', { id: 'ch_1', object: 'charge' });
		const error = thrown(() => handleEvent(event, context()));
		expect(error.message).toBe(`event ${event.id} (invoice.paid): data.object must be a Stripe "invoice" object with an id`);
		expect(error.field).toBe('data.object');
	});
});

describe('checkoutSessionNeedingLineItems', () => {
	it('names the session of a checkout event without line items, and nothing else', () => {
		const bare = checkoutSessionCompleted();
		expect(checkoutSessionNeedingLineItems(bare)).toBe(objectOf(bare).id);
		expect(checkoutSessionNeedingLineItems(checkoutAsyncPaymentSucceeded({ id: 'cs_test_a1X' }))).toBe('cs_test_a1X');
		expect(checkoutSessionNeedingLineItems(checkoutSessionCompleted({ lineItems: [] }))).toBeUndefined();
		expect(checkoutSessionNeedingLineItems(checkoutSessionCompleted({ mode: 'setup' }))).toBeUndefined();
		expect(checkoutSessionNeedingLineItems(invoicePaid())).toBeUndefined();
	});
});
