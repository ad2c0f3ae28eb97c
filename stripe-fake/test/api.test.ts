/** The read API through the real `stripe` client: every endpoint the worker calls, its filters, pagination and expand. */
import type Stripe from 'stripe';
import type { StripeFake } from '../src';
import { fakeWithClient } from './support';

let fake: StripeFake;
let stripe: Stripe;
let customer: Stripe.Customer;
let monthly: Stripe.Price;
let oneTime: Stripe.Price;
let purchase: ReturnType<StripeFake['checkoutPayment']>;
let free: ReturnType<StripeFake['checkoutPayment']>;
let subscription: ReturnType<StripeFake['createSubscription']>;
let renewal: ReturnType<StripeFake['renewSubscription']>;
let viaCheckout: ReturnType<StripeFake['checkoutSubscription']>;
let refund: Stripe.Refund;
let dispute: Stripe.Dispute;

beforeAll(async () => {
	({ fake, stripe } = await fakeWithClient());
	customer = fake.createCustomer({ email: 'ada@example.com', name: 'Ada' });
	monthly = fake.createPrice({
		unit_amount: 1500,
		recurring: { interval: 'month' },
		lookup_key: 'pro_monthly',
		metadata: { keycrate_subscription_id: 'tier-pro' },
		product_metadata: { app: 'a' },
	});
	oneTime = fake.createPrice({ id: 'price_lifetime', unit_amount: 4900, currency: 'eur' });
	purchase = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id, quantity: 2 }], metadata: { order: '42' } });
	free = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id, quantity: 1 }], payment_status: 'no_payment_required' });
	subscription = fake.createSubscription({
		customer: customer.id,
		items: [{ price: monthly.id, quantity: 3 }],
		metadata: { keycrate_subscription_id: 'tier-pro' },
	});
	renewal = fake.renewSubscription(subscription.subscription.id);
	viaCheckout = fake.checkoutSubscription({
		customer: customer.id,
		items: [{ price: monthly.id, quantity: 1 }],
		subscription_data: { metadata: { seat: 'x' } },
	});
	fake.cancelSubscription(viaCheckout.subscription.id);
	refund = fake.refund({ payment_intent: renewal.payment_intent!.id, amount: 500 });
	dispute = fake.dispute({ payment_intent: purchase.payment_intent!.id });
});

afterAll(() => fake.stop());

test('customers, prices and products retrieve as stored', async () => {
	expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ id: customer.id, object: 'customer', email: 'ada@example.com', name: 'Ada' });
	const price = await stripe.prices.retrieve(monthly.id, { expand: ['product'] });
	expect(price).toMatchObject({
		id: monthly.id,
		unit_amount: 1500,
		currency: 'usd',
		type: 'recurring',
		recurring: { interval: 'month', interval_count: 1 },
		lookup_key: 'pro_monthly',
	});
	expect((price.product as Stripe.Product).metadata).toEqual({ app: 'a' });
	expect(await stripe.prices.retrieve('price_lifetime')).toMatchObject({ type: 'one_time', recurring: null, currency: 'eur' });
	expect(await stripe.products.retrieve(monthly.product as string)).toMatchObject({ object: 'product', default_price: monthly.id });
	expect((await stripe.prices.list({ lookup_keys: ['pro_monthly'] })).data.map((p) => p.id)).toEqual([monthly.id]);
});

test('a Checkout session: line items only when asked, through expand or their own list', async () => {
	const plain = await stripe.checkout.sessions.retrieve(purchase.session.id);
	expect(plain).toMatchObject({
		object: 'checkout.session',
		mode: 'payment',
		payment_status: 'paid',
		status: 'complete',
		amount_total: 9800,
		currency: 'eur',
		metadata: { order: '42' },
	});
	expect(plain.line_items).toBeUndefined();
	const expanded = await stripe.checkout.sessions.retrieve(purchase.session.id, {
		expand: ['line_items', 'line_items.data.price.product', 'payment_intent.latest_charge'],
	});
	expect(expanded.line_items!.data).toHaveLength(1);
	expect(expanded.line_items!.data[0]).toMatchObject({ object: 'item', quantity: 2, amount_total: 9800, price: { id: oneTime.id } });
	expect((expanded.line_items!.data[0].price!.product as Stripe.Product).object).toBe('product');
	const intent = expanded.payment_intent as Stripe.PaymentIntent;
	expect(intent).toMatchObject({ id: purchase.payment_intent!.id, status: 'succeeded', amount: 9800 });
	expect((intent.latest_charge as Stripe.Charge).id).toBe(purchase.charge!.id);
	const items = await stripe.checkout.sessions.listLineItems(purchase.session.id, { expand: ['data.price'] });
	expect(items).toMatchObject({ object: 'list', has_more: false, url: `/v1/checkout/sessions/${purchase.session.id}/line_items` });
	expect(items.data[0].quantity).toBe(2);
});

test('a fully discounted session has no payment intent', async () => {
	const session = await stripe.checkout.sessions.retrieve(free.session.id, { expand: ['line_items'] });
	expect(session).toMatchObject({ payment_status: 'no_payment_required', payment_intent: null, amount_total: 0, amount_subtotal: 4900 });
	expect(session.line_items!.data[0].amount_total).toBe(0);
});

test('sessions are found by payment intent, subscription and customer', async () => {
	const byIntent = await stripe.checkout.sessions.list({ payment_intent: purchase.payment_intent!.id });
	expect(byIntent.data.map((s) => s.id)).toEqual([purchase.session.id]);
	const bySubscription = await stripe.checkout.sessions.list({ subscription: viaCheckout.subscription.id, expand: ['data.line_items'] });
	expect(bySubscription.data).toHaveLength(1);
	expect(bySubscription.data[0]).toMatchObject({ mode: 'subscription', payment_intent: null, invoice: viaCheckout.invoice.id });
	expect(bySubscription.data[0].line_items!.data[0].price!.id).toBe(monthly.id);
	expect((await stripe.checkout.sessions.list({ customer: customer.id })).data).toHaveLength(3);
});

test('payment intents, charges, refunds and disputes', async () => {
	const intent = await stripe.paymentIntents.retrieve(renewal.payment_intent!.id, { expand: ['latest_charge'] });
	const charge = intent.latest_charge as Stripe.Charge;
	expect(charge).toMatchObject({ amount: 1500 * 3, amount_refunded: 500, refunded: false, disputed: false, payment_intent: intent.id });
	expect((await stripe.charges.retrieve(charge.id, { expand: ['refunds'] })).refunds!.data.map((r) => r.id)).toEqual([refund.id]);
	expect((await stripe.charges.list({ payment_intent: intent.id })).data.map((c) => c.id)).toEqual([charge.id]);
	expect((await stripe.refunds.list({ payment_intent: intent.id })).data.map((r) => r.id)).toEqual([refund.id]);
	expect((await stripe.refunds.list({ charge: charge.id })).data.map((r) => r.id)).toEqual([refund.id]);
	expect(await stripe.refunds.retrieve(refund.id)).toMatchObject({ amount: 500, status: 'succeeded', charge: charge.id });
	const disputes = await stripe.disputes.list({ payment_intent: purchase.payment_intent!.id, expand: ['data.charge'] });
	expect(disputes.data.map((d) => d.id)).toEqual([dispute.id]);
	expect((disputes.data[0].charge as Stripe.Charge).disputed).toBe(true);
	expect((await stripe.disputes.list({ charge: purchase.charge!.id })).data).toHaveLength(1);
	expect(await stripe.disputes.retrieve(dispute.id)).toMatchObject({ status: 'needs_response', amount: 9800 });
});

test('a subscription: the period on each item, the invoice through parent, its payment through invoice payments', async () => {
	const sub = await stripe.subscriptions.retrieve(subscription.subscription.id, { expand: ['items.data.price', 'latest_invoice.payments', 'customer'] });
	expect(sub).toMatchObject({ status: 'active', metadata: { keycrate_subscription_id: 'tier-pro' } });
	expect((sub.customer as Stripe.Customer).email).toBe('ada@example.com');
	const [item] = sub.items.data;
	expect(item).toMatchObject({ quantity: 3, price: { id: monthly.id, metadata: { keycrate_subscription_id: 'tier-pro' } } });
	expect(item.current_period_start).toBe(subscription.subscription.items.data[0].current_period_end);
	expect(item.current_period_end).toBeGreaterThan(item.current_period_start);
	expect(sub).not.toHaveProperty('current_period_end');
	const invoice = sub.latest_invoice as Stripe.Invoice;
	expect(invoice).toMatchObject({ id: renewal.invoice.id, status: 'paid', billing_reason: 'subscription_cycle', amount_paid: 4500 });
	expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
	expect(invoice).not.toHaveProperty('payment_intent');
	expect(invoice.payments!.data[0].payment).toEqual({ type: 'payment_intent', payment_intent: renewal.payment_intent!.id });
	const [payment] = (await stripe.invoices.retrieve(invoice.id, { expand: ['payments.data.payment.payment_intent'] })).payments!.data;
	expect((payment.payment.payment_intent as Stripe.PaymentIntent).latest_charge).toBe(renewal.charge!.id);
	// Stripe counts every segment of a path, four at most: the fake is no laxer than Stripe.
	await expect(stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payments.data.payment.payment_intent'] })).rejects.toMatchObject({
		type: 'StripeInvalidRequestError',
		param: 'expand',
	});
});

test('subscriptions list by customer and status (canceled only when asked)', async () => {
	const active = await stripe.subscriptions.list({ customer: customer.id });
	expect(active.data.map((s) => s.id)).toEqual([subscription.subscription.id]);
	const all = await stripe.subscriptions.list({ customer: customer.id, status: 'all' });
	expect(all.data.map((s) => s.id)).toEqual([viaCheckout.subscription.id, subscription.subscription.id]);
	expect((await stripe.subscriptions.list({ status: 'canceled' })).data.map((s) => s.id)).toEqual([viaCheckout.subscription.id]);
	expect((await stripe.subscriptions.list({ price: monthly.id, status: 'all' })).data).toHaveLength(2);
});

test('invoices by subscription (newest first), their lines, and invoice payments by invoice or payment intent', async () => {
	const invoices = await stripe.invoices.list({ subscription: subscription.subscription.id });
	expect(invoices.data.map((i) => i.id)).toEqual([renewal.invoice.id, subscription.invoice.id]);
	expect(invoices.data[1]).toMatchObject({ billing_reason: 'subscription_create', status: 'paid' });
	const lines = await stripe.invoices.listLineItems(renewal.invoice.id);
	expect(lines.data[0]).toMatchObject({ quantity: 3, amount: 4500, parent: { subscription_item_details: { subscription: subscription.subscription.id } } });
	const byInvoice = await stripe.invoicePayments.list({ invoice: subscription.invoice.id });
	expect(byInvoice.data.map((p) => p.id)).toEqual([subscription.invoice_payment!.id]);
	const byIntent = await stripe.invoicePayments.list({
		payment: { type: 'payment_intent', payment_intent: renewal.payment_intent!.id },
		expand: ['data.invoice', 'data.payment.payment_intent'],
	});
	expect(byIntent.data).toHaveLength(1);
	expect(byIntent.data[0]).toMatchObject({ status: 'paid', amount_paid: 4500, is_default: true });
	expect((byIntent.data[0].invoice as Stripe.Invoice).id).toBe(renewal.invoice.id);
	expect((byIntent.data[0].payment.payment_intent as Stripe.PaymentIntent).object).toBe('payment_intent');
	expect(await stripe.invoicePayments.retrieve(byIntent.data[0].id)).toMatchObject({ invoice: renewal.invoice.id });
});

test('events: retrieve, filter by type, types and created, newest first, auto-paging over everything', async () => {
	const recorded = fake.events();
	const first = recorded[0];
	expect(await stripe.events.retrieve(first.id)).toMatchObject({ id: first.id, type: 'customer.created', api_version: '2026-02-25.clover' });
	const all = await stripe.events.list({ limit: 7 }).autoPagingToArray({ limit: 10_000 });
	expect(all.map((e) => e.id)).toEqual(recorded.map((e) => e.id).reverse());
	const deleted = await stripe.events.list({ type: 'customer.subscription.deleted' });
	expect(deleted.data.map((e) => (e.data.object as Stripe.Subscription).id)).toEqual([viaCheckout.subscription.id]);
	const some = await stripe.events.list({ types: ['charge.refunded', 'charge.dispute.created'] });
	expect(some.data.map((e) => e.type)).toEqual(['charge.dispute.created', 'charge.refunded']);
	const wildcard = await stripe.events.list({ type: 'customer.subscription.*', limit: 100 });
	expect(new Set(wildcard.data.map((e) => e.type))).toEqual(
		new Set(['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted']),
	);
	const now = fake.now();
	expect((await stripe.events.list({ created: { gte: now + 1 } })).data).toEqual([]);
	expect((await stripe.events.list({ created: { lte: now }, limit: 100 })).data).toHaveLength(Math.min(100, recorded.length));
});

test('pagination: limit, starting_after, ending_before, has_more', async () => {
	const ids = fake
		.events()
		.map((e) => e.id)
		.reverse();
	const page1 = await stripe.events.list({ limit: 3 });
	expect(page1.data.map((e) => e.id)).toEqual(ids.slice(0, 3));
	expect(page1.has_more).toBe(true);
	const page2 = await stripe.events.list({ limit: 3, starting_after: ids[2] });
	expect(page2.data.map((e) => e.id)).toEqual(ids.slice(3, 6));
	const back = await stripe.events.list({ limit: 2, ending_before: ids[3] });
	expect(back.data.map((e) => e.id)).toEqual(ids.slice(1, 3));
	expect(back.has_more).toBe(true);
	const last = await stripe.events.list({ limit: 100, starting_after: ids[ids.length - 2] });
	expect(last).toMatchObject({ has_more: false, data: [{ id: ids[ids.length - 1] }] });
});

test('events older than 30 days (on the fake clock) are gone from the Events API, as on Stripe', async () => {
	const { fake: aging, stripe: client } = await fakeWithClient({ now: () => Date.UTC(2026, 0, 1) });
	try {
		const old = aging.createCustomer({ email: 'old@example.com' });
		aging.advanceClock(29 * 86400);
		aging.createCustomer({ email: 'new@example.com' });
		const [oldEvent, newEvent] = aging.events();
		expect((await client.events.list()).data.map((e) => e.id)).toEqual([newEvent.id, oldEvent.id]);
		aging.advanceClock(86400);
		expect((await client.events.list()).data.map((e) => e.id)).toEqual([newEvent.id]);
		await expect(client.events.retrieve(oldEvent.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
		expect(await client.customers.retrieve(old.id)).toMatchObject({ id: old.id });
		expect(aging.events()).toHaveLength(2);
	} finally {
		await aging.stop();
	}
});
