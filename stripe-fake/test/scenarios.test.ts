/** World building: what each call changes, the events it records (in Stripe's order and shapes), and what it refuses. */
import type Stripe from 'stripe';
import { FakeUsageError, addInterval, type StripeFake } from '../src';
import { eventsDuring, fakeWithClient, types } from './support';

let fake: StripeFake;
let stripe: Stripe;
let customer: Stripe.Customer;
let monthly: Stripe.Price;
let yearly: Stripe.Price;
let oneTime: Stripe.Price;
const START = Date.UTC(2026, 0, 31, 12, 0, 0);

beforeAll(async () => {
	({ fake, stripe } = await fakeWithClient({ now: () => START }));
});
afterAll(() => fake.stop());
beforeEach(() => {
	fake.reset();
	customer = fake.createCustomer({ email: 'grace@example.com' });
	monthly = fake.createPrice({ unit_amount: 1000, recurring: { interval: 'month' } });
	yearly = fake.createPrice({ unit_amount: 9000, recurring: { interval: 'year' } });
	oneTime = fake.createPrice({ unit_amount: 2500 });
});

const eventsOf = (act: () => unknown): Stripe.Event[] => eventsDuring(fake, act);

test('a card Checkout purchase: charge, payment intent, then the session; the payment intent has its own metadata', () => {
	let result!: ReturnType<StripeFake['checkoutPayment']>;
	const events = eventsOf(
		() => (result = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id, quantity: 3 }], metadata: { order: '7' } })),
	);
	expect(types(events)).toEqual(['charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed']);
	expect(result.session).toMatchObject({
		mode: 'payment',
		payment_status: 'paid',
		amount_total: 7500,
		metadata: { order: '7' },
		payment_intent: result.payment_intent!.id,
	});
	expect(result.payment_intent).toMatchObject({ status: 'succeeded', amount: 7500, amount_received: 7500, metadata: {}, latest_charge: result.charge!.id });
	expect(events[2].data.object).not.toHaveProperty('line_items');
	expect(events[2].created).toBe(START / 1000);
	expect(new Set(fake.events().map((event) => event.id)).size).toBe(fake.events().length);
});

test('an async payment: unpaid and processing, then paid (or failed)', () => {
	const { session } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], payment_status: 'unpaid' });
	expect(fake.get<Stripe.PaymentIntent>(session.payment_intent as string)?.status).toBe('processing');
	expect(types(eventsOf(() => fake.completeAsyncPayment(session.id)))).toEqual([
		'charge.succeeded',
		'payment_intent.succeeded',
		'checkout.session.async_payment_succeeded',
	]);
	expect(fake.get<Stripe.Checkout.Session>(session.id)?.payment_status).toBe('paid');
	expect(() => fake.completeAsyncPayment(session.id)).toThrow(/is paid, not unpaid/);
	const other = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], payment_status: 'unpaid' });
	expect(types(eventsOf(() => fake.failAsyncPayment(other.session.id)))).toEqual([
		'charge.failed',
		'payment_intent.payment_failed',
		'checkout.session.async_payment_failed',
	]);
	expect(fake.get<Stripe.Checkout.Session>(other.session.id)?.payment_status).toBe('unpaid');
});

test('a subscription: active with its first invoice paid, the period on its items', () => {
	let result!: ReturnType<StripeFake['createSubscription']>;
	const events = eventsOf(
		() => (result = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 2 }], metadata: { tier: 'pro' } })),
	);
	expect(types(events)).toEqual([
		'customer.subscription.created',
		'invoice.created',
		'invoice.finalized',
		'charge.succeeded',
		'payment_intent.succeeded',
		'invoice_payment.paid',
		'invoice.paid',
		'invoice.payment_succeeded',
	]);
	const now = START / 1000;
	expect(result.subscription.items.data[0]).toMatchObject({ quantity: 2, current_period_start: now, current_period_end: addInterval(now, 'month', 1) });
	// Jan 31 + 1 month is the last day of February.
	expect(new Date(result.subscription.items.data[0].current_period_end * 1000).toISOString()).toBe('2026-02-28T12:00:00.000Z');
	expect(events[0].data.object).toMatchObject({ status: 'active', latest_invoice: result.invoice.id });
	expect((events[1].data.object as Stripe.Invoice).status).toBe('draft');
	expect((events[2].data.object as Stripe.Invoice).status).toBe('open');
	expect(result.invoice).toMatchObject({
		status: 'paid',
		amount_paid: 2000,
		billing_reason: 'subscription_create',
		parent: { subscription_details: { subscription: result.subscription.id, metadata: { tier: 'pro' } } },
	});
	expect(result.invoice_payment).toMatchObject({
		status: 'paid',
		invoice: result.invoice.id,
		payment: { type: 'payment_intent', payment_intent: result.payment_intent!.id },
	});
	expect(result.charge).not.toHaveProperty('invoice');
});

test('through Checkout: created incomplete, active once paid, the session last; metadata stays where Stripe puts it', () => {
	let result!: ReturnType<StripeFake['checkoutSubscription']>;
	const events = eventsOf(
		() =>
			(result = fake.checkoutSubscription({
				customer: customer.id,
				items: [{ price: monthly.id }],
				metadata: { on: 'session' },
				subscription_data: { metadata: { on: 'subscription' } },
			})),
	);
	expect(types(events)[0]).toBe('customer.subscription.created');
	expect(events[0].data.object).toMatchObject({ status: 'incomplete' });
	const updated = events.find((event) => event.type === 'customer.subscription.updated')!;
	expect(updated.data).toMatchObject({ object: { status: 'active' }, previous_attributes: { status: 'incomplete' } });
	expect(types(events).at(-1)).toBe('checkout.session.completed');
	expect(result.session).toMatchObject({ mode: 'subscription', subscription: result.subscription.id, metadata: { on: 'session' }, payment_intent: null });
	expect(result.subscription.metadata).toEqual({ on: 'subscription' });
});

test('trialing: a free first period and invoice without a payment; renewing ends the trial', () => {
	const result = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'trialing', trial_period_days: 7 });
	expect(result.subscription).toMatchObject({ status: 'trialing', trial_start: START / 1000, trial_end: START / 1000 + 7 * 86400 });
	expect(result.invoice).toMatchObject({ total: 0, status: 'paid' });
	expect(result.payment_intent).toBeNull();
	const renewed = fake.renewSubscription(result.subscription.id);
	expect(renewed.subscription.status).toBe('active');
	expect(renewed.subscription.items.data[0].current_period_start).toBe(START / 1000 + 7 * 86400);
	expect(renewed.invoice.amount_paid).toBe(1000);
});

test('incomplete: an open invoice and a payment intent awaiting a method; payInvoice makes it active', () => {
	const result = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'incomplete' });
	expect(result.subscription.status).toBe('incomplete');
	expect(result.invoice.status).toBe('open');
	expect(result.payment_intent?.status).toBe('requires_payment_method');
	expect(result.charge).toBeNull();
	expect(() => fake.renewSubscription(result.subscription.id)).toThrow(FakeUsageError);
	const events = eventsOf(() => fake.payInvoice(result.invoice.id));
	expect(types(events)).toEqual([
		'charge.succeeded',
		'payment_intent.succeeded',
		'invoice_payment.paid',
		'invoice.paid',
		'invoice.payment_succeeded',
		'customer.subscription.updated',
	]);
	expect(fake.get<Stripe.Subscription>(result.subscription.id)?.status).toBe('active');
	expect(() => fake.payInvoice(result.invoice.id)).toThrow(/is paid, not open/);
});

test('renewal: the next period on every item, a new paid invoice, previous_attributes', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 1 }] });
	const before = subscription.items.data[0];
	let renewed!: ReturnType<StripeFake['renewSubscription']>;
	const events = eventsOf(() => (renewed = fake.renewSubscription(subscription.id)));
	expect(types(events)).toContain('invoice.paid');
	const updated = events.at(-1)!;
	expect(updated.type).toBe('customer.subscription.updated');
	const previous = updated.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem>; latest_invoice: string };
	expect(previous.items.data[0].current_period_end).toBe(before.current_period_end);
	expect(previous.latest_invoice).toBe(subscription.latest_invoice);
	expect(renewed.subscription.items.data[0]).toMatchObject({ id: before.id, current_period_start: before.current_period_end });
	expect(renewed.invoice).toMatchObject({ billing_reason: 'subscription_cycle', status: 'paid' });
	expect(renewed.subscription.latest_invoice).toBe(renewed.invoice.id);
});

test('a failed renewal leaves the invoice open and the subscription past_due; paying it makes it active', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	const failed = fake.renewSubscription(subscription.id, { paid: false });
	expect(failed.subscription.status).toBe('past_due');
	expect(failed.invoice.status).toBe('open');
	expect(fake.events().at(-1)?.data.previous_attributes).toMatchObject({ status: 'active' });
	fake.payInvoice(failed.invoice.id);
	expect(fake.get<Stripe.Subscription>(subscription.id)?.status).toBe('active');
});

test('updates: quantity by price, a price change by item id, an added and a deleted item, metadata merged', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 5 }], metadata: { a: '1', b: '2' } });
	const other = fake.createPrice({ unit_amount: 2000, recurring: { interval: 'month' } });
	const itemId = subscription.items.data[0].id;
	let updated = fake.updateSubscription(subscription.id, { items: [{ price: monthly.id, quantity: 2 }] });
	expect(updated.items.data).toMatchObject([{ id: itemId, quantity: 2 }]);
	expect(fake.events().at(-1)?.data.previous_attributes).toMatchObject({ items: { data: [{ quantity: 5 }] } });
	updated = fake.updateSubscription(subscription.id, { items: [{ id: itemId, price: other.id }] });
	expect(updated.items.data[0]).toMatchObject({ id: itemId, price: { id: other.id }, plan: { id: other.id, amount: 2000 }, quantity: 2 });
	updated = fake.updateSubscription(subscription.id, {
		items: [
			{ price: monthly.id, quantity: 1 },
			{ id: itemId, deleted: true },
		],
	});
	expect(updated.items.data.map((item) => [item.price.id, item.quantity])).toEqual([[monthly.id, 1]]);
	updated = fake.updateSubscription(subscription.id, { metadata: { a: '', c: '3' } });
	expect(updated.metadata).toEqual({ b: '2', c: '3' });
	expect(fake.events().at(-1)?.data.previous_attributes).toEqual({ metadata: { a: '1', b: '2' } });
	expect(() => fake.updateSubscription(subscription.id, { items: [{ price: yearly.id }] })).toThrow(/items\[0\]\.price: .* different interval/);
	expect(() => fake.updateSubscription(subscription.id, { items: [{ id: 'si_nope', quantity: 1 }] })).toThrow(/items\[0\]\.id/);
	expect(() => fake.updateSubscription(subscription.id, { items: [{ price: monthly.id, quantity: 0 }] })).toThrow(
		/items\[0\]\.quantity: must be a positive integer/,
	);
	expect(() => fake.updateSubscription(subscription.id, { items: [{ price: monthly.id, deleted: true }] })).toThrow(/without items/);
	expect(() => fake.updateSubscription(subscription.id, {})).toThrow(/give items, metadata or a new cancel_at_period_end/);
});

test('status changes, pause and resume, cancel', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	expect(types(eventsOf(() => fake.setSubscriptionStatus(subscription.id, 'past_due')))).toEqual(['customer.subscription.updated']);
	expect(fake.events().at(-1)?.data.previous_attributes).toEqual({ status: 'active' });
	fake.setSubscriptionStatus(subscription.id, 'active');
	expect(() => fake.setSubscriptionStatus(subscription.id, 'active')).toThrow(/active already/);
	expect(() => fake.setSubscriptionStatus(subscription.id, 'bogus' as Stripe.Subscription.Status)).toThrow(/status: must be one of/);
	expect(types(eventsOf(() => fake.pauseSubscription(subscription.id)))).toEqual(['customer.subscription.updated', 'customer.subscription.paused']);
	expect(() => fake.renewSubscription(subscription.id)).toThrow(/paused/);
	expect(types(eventsOf(() => fake.resumeSubscription(subscription.id)))).toEqual(['customer.subscription.updated', 'customer.subscription.resumed']);
	expect(() => fake.resumeSubscription(subscription.id)).toThrow(/not paused/);
	const events = eventsOf(() => fake.cancelSubscription(subscription.id));
	expect(types(events)).toEqual(['customer.subscription.deleted']);
	expect(events[0].data.object).toMatchObject({ status: 'canceled', canceled_at: START / 1000, cancellation_details: { reason: 'cancellation_requested' } });
	expect(() => fake.cancelSubscription(subscription.id)).toThrow(/canceled already/);
	expect(() => fake.setSubscriptionStatus(subscription.id, 'active')).toThrow(/stays canceled/);
});

test('cancel at period end: scheduled (updated), undone, then ended (deleted)', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	const periodEnd = subscription.items.data[0].current_period_end;
	const scheduled = eventsOf(() => fake.cancelSubscription(subscription.id, { at_period_end: true }));
	expect(types(scheduled)).toEqual(['customer.subscription.updated']);
	expect(scheduled[0].data).toMatchObject({
		object: { status: 'active', cancel_at_period_end: true, cancel_at: periodEnd },
		previous_attributes: { cancel_at_period_end: false, cancel_at: null },
	});
	expect(() => fake.renewSubscription(subscription.id)).toThrow(/cancels at the end of its period/);
	fake.updateSubscription(subscription.id, { cancel_at_period_end: false });
	expect(fake.get<Stripe.Subscription>(subscription.id)).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
	fake.renewSubscription(subscription.id);
	fake.cancelSubscription(subscription.id, { at_period_end: true });
	expect(types(eventsOf(() => fake.cancelSubscription(subscription.id)))).toEqual(['customer.subscription.deleted']);
	expect(() => fake.updateSubscription(subscription.id, { cancel_at_period_end: 'yes' as never })).toThrow(/canceled/);
});

test('a price or product changed later: price.updated, and every subscription item and line item shows the current price', async () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	const { session } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] });
	const events = eventsOf(() => fake.updatePrice(monthly.id, { metadata: { keycrate_subscription_id: 'gold' } }));
	expect(types(events)).toEqual(['price.updated']);
	expect(events[0].data.previous_attributes).toEqual({ metadata: {} });
	const item = (await stripe.subscriptions.retrieve(subscription.id)).items.data[0];
	expect(item.price.metadata).toEqual({ keycrate_subscription_id: 'gold' });
	expect(item.plan.metadata).toEqual({ keycrate_subscription_id: 'gold' });
	fake.updatePrice(oneTime.id, { nickname: 'Lifetime', active: false });
	expect((await stripe.checkout.sessions.listLineItems(session.id)).data[0].price).toMatchObject({ nickname: 'Lifetime', active: false });
	const product = fake.updateProduct(monthly.product as string, { metadata: { app: 'x' }, name: 'Pro' });
	expect(product).toMatchObject({ name: 'Pro', metadata: { app: 'x' } });
	expect(fake.events().at(-1)?.type).toBe('product.updated');
	expect(() => fake.updatePrice(monthly.id, {})).toThrow(/^params: /);
	expect(() => fake.updatePrice('price_missing', { active: true })).toThrow(/^price: no price/);
	expect(() => fake.updateProduct(monthly.product as string, { name: '' })).toThrow(/^name: /);
});

test('refunds: partial then the rest, never more than was paid', () => {
	const { payment_intent: intent, charge } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id, quantity: 2 }] });
	const events = eventsOf(() => fake.refund({ payment_intent: intent!.id, amount: 1000 }));
	expect(types(events)).toEqual(['charge.refunded', 'refund.created']);
	expect(events[0].data).toMatchObject({ object: { amount_refunded: 1000, refunded: false }, previous_attributes: { amount_refunded: 0 } });
	expect(() => fake.refund({ payment_intent: intent!.id, amount: 5000 })).toThrow(/amount: 5000 is more than the 4000 left/);
	const rest = fake.refund({ payment_intent: intent!.id });
	expect(rest.amount).toBe(4000);
	expect(fake.get<Stripe.Charge>(charge!.id)).toMatchObject({ refunded: true, amount_refunded: 5000 });
	expect(fake.events().at(-2)?.data.previous_attributes).toEqual({ amount_refunded: 1000, refunded: false });
	expect(() => fake.refund({ payment_intent: intent!.id })).toThrow(/refunded in full already/);
	expect(() => fake.refund({ payment_intent: 'pi_missing' })).toThrow(/payment_intent: no payment_intent pi_missing/);
});

test('disputes: created, then closed won or lost', () => {
	const a = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] });
	let dispute!: Stripe.Dispute;
	expect(types(eventsOf(() => (dispute = fake.dispute({ payment_intent: a.payment_intent!.id }))))).toEqual([
		'charge.dispute.created',
		'charge.dispute.funds_withdrawn',
	]);
	expect(fake.get<Stripe.Charge>(a.charge!.id)?.disputed).toBe(true);
	expect(dispute).toMatchObject({ status: 'needs_response', payment_intent: a.payment_intent!.id, charge: a.charge!.id });
	expect(() => fake.dispute({ payment_intent: a.payment_intent!.id })).toThrow(/disputed already/);
	const closed = eventsOf(() => fake.closeDispute(dispute.id, 'won'));
	expect(types(closed)).toEqual(['charge.dispute.closed', 'charge.dispute.funds_reinstated']);
	expect(closed[0].data).toMatchObject({ object: { status: 'won' }, previous_attributes: { status: 'needs_response' } });
	expect(() => fake.closeDispute(dispute.id, 'lost')).toThrow(/closed already/);
	const b = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] });
	const lost = fake.dispute({ payment_intent: b.payment_intent!.id });
	expect(types(eventsOf(() => fake.closeDispute(lost.id, 'lost')))).toEqual(['charge.dispute.closed']);
	expect(() => fake.closeDispute(lost.id, 'draw' as 'won')).toThrow(FakeUsageError);
});

test('a refund of a subscription invoice is found from its payment intent through invoice payments to the subscription', async () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	const renewal = fake.renewSubscription(subscription.id);
	const refund = fake.refund({ payment_intent: renewal.payment_intent!.id });
	// What a worker gets from charge.refunded, and how it walks back to the root.
	const event = fake.events().find((e) => e.type === 'charge.refunded')!;
	const charge = event.data.object as Stripe.Charge;
	expect(charge).not.toHaveProperty('invoice');
	const intentId = charge.payment_intent as string;
	const payments = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: intentId }, expand: ['data.invoice'] });
	expect(payments.data).toHaveLength(1);
	const invoice = payments.data[0].invoice as Stripe.Invoice;
	expect(invoice.id).toBe(renewal.invoice.id);
	expect(invoice).not.toHaveProperty('payment_intent');
	expect(invoice.parent?.subscription_details?.subscription).toBe(subscription.id);
	const refunds = await stripe.refunds.list({ payment_intent: intentId });
	expect(refunds.data.map((r) => r.id)).toEqual([refund.id]);
});

test('events hold frozen snapshots: later changes do not reach earlier events; what the fake returns cannot change it', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	fake.cancelSubscription(subscription.id);
	const created = fake.events().find((event) => event.type === 'customer.subscription.created')!;
	expect((created.data.object as Stripe.Subscription).status).toBe('active');
	const returned = fake.get<Stripe.Subscription>(subscription.id)!;
	returned.status = 'active';
	expect(() => {
		fake.events()[0].type = 'tampered' as Stripe.Event.Type;
	}).toThrow(TypeError);
	const edited = structuredClone(fake.events()[0]);
	edited.type = 'customer.updated';
	expect(fake.get<Stripe.Subscription>(subscription.id)?.status).toBe('canceled');
	expect(fake.events()[0].type).toBe('customer.created');
});

test('legacyEvent: the same event in the shape an endpoint on an older API version gets', () => {
	const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], metadata: { tier: 'gold' } });
	const renewal = fake.renewSubscription(subscription.id);
	fake.refund({ payment_intent: renewal.payment_intent!.id });
	const paid = fake
		.events()
		.filter((event) => event.type === 'invoice.paid')
		.at(-1)!;
	const legacyInvoice = fake.legacyEvent(paid);
	expect(legacyInvoice).toMatchObject({ id: paid.id, type: 'invoice.paid', api_version: '2024-06-20' });
	expect(legacyInvoice.data.object).toMatchObject({
		subscription: subscription.id,
		payment_intent: renewal.payment_intent!.id,
		charge: renewal.charge!.id,
		subscription_details: { metadata: { tier: 'gold' } },
	});
	expect(legacyInvoice.data.object).not.toHaveProperty('parent');
	const refunded = fake.events().find((event) => event.type === 'charge.refunded')!;
	expect(fake.legacyEvent(refunded.id).data.object).toMatchObject({ id: renewal.charge!.id, invoice: renewal.invoice.id });
	const updated = fake
		.events()
		.filter((event) => event.type === 'customer.subscription.updated')
		.at(-1)!;
	const item = renewal.subscription.items.data[0];
	expect(fake.legacyEvent(updated, '2025-01-27.acacia')).toMatchObject({
		api_version: '2025-01-27.acacia',
		data: { object: { current_period_start: item.current_period_start, current_period_end: item.current_period_end } },
	});
	expect(paid.data.object).toHaveProperty('parent');
	expect(() => fake.legacyEvent('evt_missing')).toThrow(/^event: no event evt_missing/);
});

test('the clock: advanceClock moves created times forward, never back', () => {
	expect(fake.now()).toBe(START / 1000);
	expect(fake.advanceClock(3600)).toBe(START / 1000 + 3600);
	const later = fake.createCustomer({ email: 'later@example.com' });
	expect(later.created).toBe(START / 1000 + 3600);
	expect(() => fake.advanceClock(-1)).toThrow(/seconds: must be a whole number of seconds, 0 or more/);
	fake.reset();
	expect(fake.now()).toBe(START / 1000);
});

test('objects() counts what is stored; reset empties it', () => {
	fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	expect(fake.objects()).toMatchObject({ customer: 1, price: 3, product: 3, subscription: 1, invoice: 1, invoice_payment: 1, payment_intent: 1, charge: 1 });
	fake.reset();
	expect(Object.values(fake.objects()).every((count) => count === 0)).toBe(true);
});

test.each([
	['createCustomer without an email', () => fake.createCustomer({} as never), /^email: /],
	['a negative amount', () => fake.createPrice({ unit_amount: -1 }), /^unit_amount: /],
	['a currency that is not ISO', () => fake.createPrice({ unit_amount: 1, currency: 'dollars' }), /^currency: /],
	['an unknown interval', () => fake.createPrice({ unit_amount: 1, recurring: { interval: 'fortnight' as 'week' } }), /^recurring\.interval: /],
	['a price id taken', () => fake.createPrice({ id: monthly.id, unit_amount: 1 }), /^id: .* exists already/],
	['a lookup key taken', () => (fake.createPrice({ unit_amount: 1, lookup_key: 'k' }), fake.createPrice({ unit_amount: 1, lookup_key: 'k' })), /^lookup_key: /],
	['metadata that is not a string', () => fake.createPrice({ unit_amount: 1, metadata: { a: true } as never }), /^metadata\.a: must be a string/],
	['a metadata key over 40 characters', () => fake.createCustomer({ email: 'a@b.c', metadata: { ['k'.repeat(41)]: 'v' } }), /^metadata\.k+: keys are 1 to 40/],
	['a metadata value over 500 characters', () => fake.createCustomer({ email: 'a@b.c', metadata: { k: 'v'.repeat(501) } }), /^metadata\.k: is longer than 500/],
	[
		'51 metadata keys',
		() => fake.createCustomer({ email: 'a@b.c', metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }),
		/^metadata: has more than 50 keys/,
	],
	['an unknown customer', () => fake.checkoutPayment({ customer: 'cus_missing', lines: [{ price: oneTime.id }] }), /^customer: no customer cus_missing/],
	['no lines', () => fake.checkoutPayment({ customer: customer.id, lines: [] }), /^lines: must be a non-empty list/],
	[
		'a recurring price in payment mode',
		() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: monthly.id }] }),
		/^lines\[0\]\.price: .* is recurring/,
	],
	[
		'a quantity of 0',
		() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id, quantity: 0 }] }),
		/^lines\[0\]\.quantity: must be a positive integer/,
	],
	['a fractional quantity', () => fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 1.5 }] }), /^items\[0\]\.quantity: /],
	[
		'an unknown payment status',
		() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], payment_status: 'maybe' as 'paid' }),
		/^payment_status: /,
	],
	[
		'a one-time price in a subscription',
		() => fake.createSubscription({ customer: customer.id, items: [{ price: oneTime.id }] }),
		/^items\[0\]\.price: .* one-time/,
	],
	[
		'mixed intervals',
		() => fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }, { price: yearly.id }] }),
		/^items: prices with different billing intervals/,
	],
	[
		'mixed currencies',
		() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }, { price: fake.createPrice({ unit_amount: 1, currency: 'eur' }).id }] }),
		/^lines: mixes currencies/,
	],
	[
		'an inactive price',
		() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: fake.updatePrice(oneTime.id, { active: false }).id }] }),
		/^lines\[0\]\.price: .* is inactive/,
	],
	[
		'an unknown refund reason',
		() =>
			fake.refund({
				payment_intent: fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] }).payment_intent!.id,
				reason: 'changed_mind' as 'duplicate',
			}),
		/^reason: must be one of duplicate/,
	],
	[
		'an unknown dispute reason',
		() => fake.dispute({ payment_intent: fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] }).payment_intent!.id, reason: 'angry' }),
		/^reason: must be one of Stripe's dispute reasons/,
	],
	[
		'a later status at creation',
		() => fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'past_due' as 'active' }),
		/^status: /,
	],
	['an unknown subscription', () => fake.renewSubscription('sub_missing'), /^subscription: no subscription sub_missing/],
	['an unknown session', () => fake.completeAsyncPayment('cs_missing'), /^session: /],
	[
		'a refund of an unpaid charge',
		() =>
			fake.refund({
				payment_intent: fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], payment_status: 'unpaid' }).payment_intent!.id,
			}),
		/^payment_intent: .* pending, not succeeded/,
	],
])('refuses %s with an error naming the field', (_name, act, message) => {
	expect(act).toThrow(FakeUsageError);
	expect(act).toThrow(message);
});
