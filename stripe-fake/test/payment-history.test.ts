/**
 * The payment history a worker decides a license from: draft renewals, proration invoices, failed and canceled
 * refunds, disputes through their statuses, manual capture, trial ends; and the reads that see them.
 */
import type Stripe from 'stripe';
import { FakeUsageError, addInterval, type StripeFake } from '../src';
import { eventsDuring, fakeWithClient, types } from './support';

let fake: StripeFake;
let stripe: Stripe;
let customer: Stripe.Customer;
let monthly: Stripe.Price;
let pro: Stripe.Price;
let oneTime: Stripe.Price;
const START = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOW = START / 1000;
const DAY = 86400;

beforeAll(async () => {
	({ fake, stripe } = await fakeWithClient({ now: () => START }));
});
afterAll(() => fake.stop());
beforeEach(() => {
	fake.reset();
	customer = fake.createCustomer({ email: 'ada@example.com', name: 'Ada' });
	monthly = fake.createPrice({ unit_amount: 3100, recurring: { interval: 'month' }, product_name: 'Basic' });
	pro = fake.createPrice({ unit_amount: 6200, recurring: { interval: 'month' }, product_name: 'Pro' });
	oneTime = fake.createPrice({ unit_amount: 2500 });
});

const eventsOf = (act: () => unknown): Stripe.Event[] => eventsDuring(fake, act);
/** A subscription invoice issued and paid by card, in Stripe's order. */
const INVOICED_AND_PAID = [
	'invoice.created',
	'invoice.finalized',
	'charge.succeeded',
	'payment_intent.succeeded',
	'invoice_payment.paid',
	'invoice.paid',
	'invoice.payment_succeeded',
];
const subscribe = (): Stripe.Subscription => fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] }).subscription;
const pay = (): Stripe.PaymentIntent => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] }).payment_intent!;

describe('a draft renewal at the period boundary', () => {
	test('the period moves on and the renewal invoice is a draft, unpaid; the status stays', () => {
		const subscription = subscribe();
		const item = subscription.items.data[0];
		let result!: ReturnType<StripeFake['renewSubscription']>;
		const events = eventsOf(() => (result = fake.renewSubscription(subscription.id, { collect: 'draft' })));
		expect(types(events)).toEqual(['customer.subscription.updated', 'invoice.created']);
		expect(events[0].data.object).toMatchObject({
			status: 'active',
			latest_invoice: result.invoice.id,
			items: { data: [{ current_period_start: item.current_period_end }] },
		});
		expect(events[0].data.previous_attributes).toMatchObject({
			latest_invoice: subscription.latest_invoice,
			items: { data: [{ current_period_end: item.current_period_end }] },
		});
		expect(events[0].data.previous_attributes).not.toHaveProperty('status');
		expect(result.invoice).toMatchObject({
			status: 'draft',
			number: null,
			billing_reason: 'subscription_cycle',
			amount_paid: 0,
			amount_due: 3100,
			automatically_finalizes_at: NOW + 3600,
		});
		expect(result.invoice.lines.data[0].period).toEqual({ start: item.current_period_end, end: addInterval(item.current_period_end, 'month', 1) });
		expect(result).toMatchObject({ payment_intent: null, charge: null, invoice_payment: null });
		expect(fake.get<Stripe.Subscription>(subscription.id)?.status).toBe('active');
	});

	test('finalizeInvoice collects it: paid (active again) or failed (past_due)', () => {
		const subscription = subscribe();
		const draft = fake.renewSubscription(subscription.id, { collect: 'draft' }).invoice;
		let paid!: ReturnType<StripeFake['finalizeInvoice']>;
		const events = eventsOf(() => (paid = fake.finalizeInvoice(draft.id)));
		expect(types(events)).toEqual([
			'invoice.finalized',
			'charge.succeeded',
			'payment_intent.succeeded',
			'invoice_payment.paid',
			'invoice.paid',
			'invoice.payment_succeeded',
		]);
		expect(events[0].data.object).toMatchObject({ status: 'open', number: expect.stringMatching(/-0002$/) });
		expect(paid.invoice).toMatchObject({ status: 'paid', amount_paid: 3100 });
		expect(paid.invoice_payment).toMatchObject({ status: 'paid', payment: { payment_intent: paid.payment_intent!.id } });
		expect(() => fake.finalizeInvoice(draft.id)).toThrow(/^invoice: .* is paid, not draft/);

		const next = fake.renewSubscription(subscription.id, { collect: 'draft' }).invoice;
		const failed = eventsOf(() => fake.finalizeInvoice(next.id, { collect: 'failed' }));
		expect(types(failed)).toEqual(['invoice.finalized', 'payment_intent.created', 'invoice.payment_failed', 'customer.subscription.updated']);
		expect(failed[3].data).toMatchObject({ object: { status: 'past_due' }, previous_attributes: { status: 'active' } });
		expect(fake.get<Stripe.Invoice>(next.id)).toMatchObject({ status: 'open', amount_paid: 0 });
		// An open invoice is paid as before.
		expect(types(eventsOf(() => fake.payInvoice(next.id))).at(-1)).toBe('customer.subscription.updated');
		expect(fake.get<Stripe.Subscription>(subscription.id)?.status).toBe('active');
	});

	test('paid: false is still collect: failed; the two cannot disagree; a bad collect is refused', () => {
		const subscription = subscribe();
		expect(fake.renewSubscription(subscription.id, { paid: false }).subscription.status).toBe('past_due');
		expect(fake.renewSubscription(subscription.id, { paid: true, collect: 'paid' }).subscription.status).toBe('active');
		expect(() => fake.renewSubscription(subscription.id, { paid: true, collect: 'failed' })).toThrow(/^paid: paid: true contradicts collect: failed/);
		expect(() => fake.renewSubscription(subscription.id, { collect: 'later' as 'draft' })).toThrow(/^collect: must be one of paid, failed, draft/);
		const draft = fake.renewSubscription(subscription.id, { collect: 'draft' }).invoice;
		expect(() => fake.renewSubscription(subscription.id)).toThrow(/^subscription: .* renewal invoice in_\w+ is still a draft: finalizeInvoice it first/);
		expect(() => fake.finalizeInvoice(draft.id, { collect: 'draft' as 'paid' })).toThrow(/^collect: must be one of paid, failed/);
		expect(() => fake.finalizeInvoice('in_missing')).toThrow(/^invoice: no invoice in_missing/);
	});
});

describe('proration invoices', () => {
	test('always_invoice: an upgrade mid-period is invoiced at once with proration lines, and paid', () => {
		const { subscription, invoice: first } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
		const item = subscription.items.data[0];
		// March has 31 days: 10 days in, 21 of 31 are left.
		fake.advanceClock(10 * DAY);
		const now = NOW + 10 * DAY;
		let updated!: Stripe.Subscription;
		const events = eventsOf(
			() => (updated = fake.updateSubscription(subscription.id, { items: [{ id: item.id, price: pro.id }], proration_behavior: 'always_invoice' })),
		);
		expect(types(events)).toEqual(['customer.subscription.updated', ...INVOICED_AND_PAID]);
		const invoice = fake.get<Stripe.Invoice>(updated.latest_invoice as string)!;
		expect(events[0].data.previous_attributes).toMatchObject({ latest_invoice: first.id, items: { data: [{ price: { id: monthly.id } }] } });
		expect(invoice).toMatchObject({ billing_reason: 'subscription_update', status: 'paid', amount_paid: 2100, total: 2100 });
		const [credit, charge] = invoice.lines.data;
		expect(credit).toMatchObject({
			amount: -2100,
			period: { start: now, end: item.current_period_end },
			description: 'Unused time on 1 × Basic after 11 Mar 2026',
			pricing: { price_details: { price: monthly.id } },
			parent: {
				subscription_item_details: {
					proration: true,
					subscription_item: item.id,
					proration_details: { credited_items: { invoice: first.id, invoice_line_items: [first.lines.data[0].id] } },
				},
			},
		});
		expect(charge).toMatchObject({
			amount: 4200,
			period: { start: now, end: item.current_period_end },
			description: 'Remaining time on 1 × Pro after 11 Mar 2026',
			parent: { subscription_item_details: { proration: true, subscription_item: item.id, proration_details: { credited_items: null } } },
		});
		const payments = fake.list('invoice_payment').filter((payment) => payment.invoice === invoice.id);
		expect(payments).toMatchObject([{ status: 'paid', amount_paid: 2100 }]);
	});

	test('a replaced item and a quantity change are prorated; the default makes no invoice', () => {
		const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 2 }] });
		const old = subscription.items.data[0];
		expect(types(eventsOf(() => fake.updateSubscription(subscription.id, { items: [{ id: old.id, quantity: 3 }] })))).toEqual([
			'customer.subscription.updated',
		]);
		expect(types(eventsOf(() => fake.updateSubscription(subscription.id, { items: [{ id: old.id, quantity: 4 }], proration_behavior: 'none' })))).toEqual([
			'customer.subscription.updated',
		]);
		expect(fake.list('invoice')).toHaveLength(1);
		const updated = fake.updateSubscription(subscription.id, {
			items: [
				{ id: old.id, deleted: true },
				{ price: pro.id, quantity: 1 },
			],
			proration_behavior: 'always_invoice',
		});
		const lines = fake.get<Stripe.Invoice>(updated.latest_invoice as string)!.lines.data;
		// At the very start of the period the whole period is prorated.
		expect(
			lines.map((line) => [line.amount, line.parent?.subscription_item_details?.subscription_item, line.parent?.subscription_item_details?.proration]),
		).toEqual([
			[-3100 * 4, old.id, true],
			[6200, updated.items.data[0].id, true],
		]);
		expect(() => fake.updateSubscription(subscription.id, { metadata: { a: '1' }, proration_behavior: 'sometimes' as 'none' })).toThrow(
			/^proration_behavior: must be one of always_invoice, create_prorations, none/,
		);
		const trial = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'trialing' }).subscription;
		expect(() => fake.updateSubscription(trial.id, { items: [{ price: pro.id }], proration_behavior: 'always_invoice' })).toThrow(
			/^proration_behavior: .* is trialing/,
		);
	});

	test('a renewal or first invoice line carries its period and proration: false', () => {
		const { subscription, invoice } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
		const item = subscription.items.data[0];
		expect(invoice.lines.data[0]).toMatchObject({
			period: { start: item.current_period_start, end: item.current_period_end },
			parent: { type: 'subscription_item_details', subscription_item_details: { proration: false, subscription_item: item.id } },
		});
		const renewal = fake.renewSubscription(subscription.id).invoice;
		expect(renewal.lines.data[0]).toMatchObject({ period: { start: item.current_period_end }, parent: { subscription_item_details: { proration: false } } });
	});
});

test('a replaced item: the new item has its own si_ id; the event has the old item in previous_attributes', () => {
	const subscription = subscribe();
	const old = subscription.items.data[0];
	let updated!: Stripe.Subscription;
	const events = eventsOf(
		() =>
			(updated = fake.updateSubscription(subscription.id, {
				items: [
					{ id: old.id, deleted: true },
					{ price: pro.id, quantity: 2 },
				],
			})),
	);
	expect(types(events)).toEqual(['customer.subscription.updated']);
	const added = updated.items.data;
	expect(added).toHaveLength(1);
	expect(added[0].id).toMatch(/^si_/);
	expect(added[0].id).not.toBe(old.id);
	expect(added[0]).toMatchObject({ price: { id: pro.id }, quantity: 2, current_period_end: old.current_period_end });
	expect((events[0].data.object as Stripe.Subscription).items.data.map((item) => item.id)).toEqual([added[0].id]);
	expect((events[0].data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> }).items.data.map((item) => [item.id, item.price.id])).toEqual(
		[[old.id, monthly.id]],
	);
});

describe('refunds that fail or are canceled', () => {
	test('a failed refund puts the money back on the charge: amount_refunded down, refunded false again', () => {
		const intent = pay();
		const refund = fake.refund({ payment_intent: intent.id });
		expect(fake.get<Stripe.Charge>(intent.latest_charge as string)).toMatchObject({ refunded: true, amount_refunded: 2500 });
		let failed!: Stripe.Refund;
		const events = eventsOf(() => (failed = fake.failRefund(refund.id, 'failed')));
		expect(types(events)).toEqual(['charge.refund.updated', 'refund.updated', 'refund.failed']);
		for (const event of events)
			expect(event.data.object).toMatchObject({ id: refund.id, object: 'refund', status: 'failed', failure_reason: 'expired_or_canceled_card' });
		expect(events[0].data.previous_attributes).toEqual({ status: 'succeeded' });
		expect(failed.status).toBe('failed');
		expect(fake.get<Stripe.Charge>(intent.latest_charge as string)).toMatchObject({ refunded: false, amount_refunded: 0 });
		// The money can be refunded again.
		expect(fake.refund({ payment_intent: intent.id, amount: 500 }).amount).toBe(500);
		expect(() => fake.failRefund(refund.id, 'failed')).toThrow(/^refund: .* is failed already/);
	});

	test('a pending card refund (Stripe holds it while the balance is short) can be canceled', () => {
		const intent = pay();
		const pending = fake.refund({ payment_intent: intent.id, amount: 1000, status: 'pending' });
		expect(pending).toMatchObject({ status: 'pending', pending_reason: 'insufficient_funds' });
		expect(fake.get<Stripe.Charge>(intent.latest_charge as string)?.amount_refunded).toBe(1000);
		const events = eventsOf(() => fake.failRefund(pending.id, 'canceled'));
		expect(types(events)).toEqual(['charge.refund.updated', 'refund.updated']);
		expect(events[1].data.object).toMatchObject({ status: 'canceled' });
		expect(events[1].data.object).not.toHaveProperty('failure_reason');
		expect(events[1].data.object).not.toHaveProperty('pending_reason');
		expect(fake.get<Stripe.Charge>(intent.latest_charge as string)?.amount_refunded).toBe(0);
		const done = fake.refund({ payment_intent: intent.id, amount: 100 });
		expect(() => fake.failRefund(done.id, 'canceled')).toThrow(/^outcome: .* is succeeded: only a pending refund can be canceled/);
		expect(() => fake.failRefund(done.id, 'lost' as 'failed')).toThrow(/^outcome: must be failed or canceled/);
		expect(() => fake.failRefund(done.id, 'failed', 'bad_luck')).toThrow(/^failure_reason: must be one of/);
		expect(() => fake.refund({ payment_intent: intent.id, status: 'requires_action' as 'pending' })).toThrow(/^status: must be one of succeeded, pending/);
		expect(() => fake.failRefund('re_missing', 'failed')).toThrow(/^refund: no refund re_missing/);
	});
});

describe('disputes through their statuses', () => {
	test('a chargeback: funds withdrawn at once, under review, won (funds reinstated)', () => {
		const intent = pay();
		let dispute!: Stripe.Dispute;
		expect(types(eventsOf(() => (dispute = fake.dispute({ payment_intent: intent.id, reason: 'product_not_received' }))))).toEqual([
			'charge.dispute.created',
			'charge.dispute.funds_withdrawn',
		]);
		expect(dispute).toMatchObject({ status: 'needs_response', is_charge_refundable: false, reason: 'product_not_received' });
		const review = eventsOf(() => fake.updateDispute(dispute.id, 'under_review'));
		expect(types(review)).toEqual(['charge.dispute.updated']);
		expect(review[0].data).toMatchObject({
			object: { status: 'under_review', evidence_details: { has_evidence: true, submission_count: 1 } },
			previous_attributes: { status: 'needs_response' },
		});
		expect(() => fake.updateDispute(dispute.id, 'warning_under_review')).toThrow(
			/^status: .* is under_review: warning_under_review follows warning_needs_response/,
		);
		expect(() => fake.closeDispute(dispute.id, 'warning_closed')).toThrow(/^outcome: .* is a chargeback \(under_review\): it closes won or lost/);
		expect(types(eventsOf(() => fake.closeDispute(dispute.id, 'won')))).toEqual(['charge.dispute.closed', 'charge.dispute.funds_reinstated']);
	});

	test('an inquiry: no funds withdrawn, still refundable, closed as warning_closed', () => {
		const intent = pay();
		let inquiry!: Stripe.Dispute;
		expect(types(eventsOf(() => (inquiry = fake.dispute({ payment_intent: intent.id, inquiry: true }))))).toEqual(['charge.dispute.created']);
		expect(inquiry).toMatchObject({ status: 'warning_needs_response', is_charge_refundable: true });
		expect(fake.updateDispute(inquiry.id, 'warning_under_review').status).toBe('warning_under_review');
		expect(() => fake.closeDispute(inquiry.id, 'won')).toThrow(/^outcome: .* is an inquiry \(warning_under_review\): it closes as warning_closed/);
		const closed = eventsOf(() => fake.closeDispute(inquiry.id, 'warning_closed'));
		expect(types(closed)).toEqual(['charge.dispute.closed']);
		expect(closed[0].data).toMatchObject({ object: { status: 'warning_closed' }, previous_attributes: { status: 'warning_under_review' } });
		expect(() => fake.closeDispute(inquiry.id, 'warning_closed')).toThrow(/^dispute: .* is closed already \(warning_closed\)/);
		expect(() => fake.updateDispute(inquiry.id, 'needs_response')).toThrow(/^status: .* is warning_closed/);
	});

	test('an inquiry escalated into a chargeback on the same dispute: funds withdrawn then, closed lost', () => {
		const intent = pay();
		const inquiry = fake.dispute({ payment_intent: intent.id, inquiry: true });
		const escalated = eventsOf(() => fake.updateDispute(inquiry.id, 'needs_response'));
		expect(types(escalated)).toEqual(['charge.dispute.updated', 'charge.dispute.funds_withdrawn']);
		expect(escalated[0].data).toMatchObject({
			object: { id: inquiry.id, status: 'needs_response', is_charge_refundable: false },
			previous_attributes: { status: 'warning_needs_response', is_charge_refundable: true },
		});
		expect(types(eventsOf(() => fake.closeDispute(inquiry.id, 'lost')))).toEqual(['charge.dispute.closed']);
		expect(fake.list('dispute')).toHaveLength(1);
		expect(() => fake.updateDispute(inquiry.id, 'won' as 'under_review')).toThrow(/^status: must be warning_under_review, under_review or needs_response/);
		expect(() => fake.dispute({ payment_intent: pay().id, inquiry: 'yes' as unknown as boolean })).toThrow(/^inquiry: must be true or false/);
	});
});

describe('manual capture', () => {
	test('authorized: requires_capture, an uncaptured charge, the session unpaid; captured: succeeded and paid', () => {
		let result!: ReturnType<StripeFake['checkoutPayment']>;
		const events = eventsOf(() => (result = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'manual' })));
		expect(types(events)).toEqual(['charge.succeeded', 'payment_intent.amount_capturable_updated', 'checkout.session.completed']);
		expect(result.payment_intent).toMatchObject({ status: 'requires_capture', capture_method: 'manual', amount_capturable: 2500, amount_received: 0 });
		expect(result.charge).toMatchObject({ status: 'succeeded', paid: true, captured: false, amount_captured: 0 });
		expect(result.session.payment_status).toBe('unpaid');
		expect(() => fake.refund({ payment_intent: result.payment_intent!.id })).toThrow(/^payment_intent: .* is authorized, not captured/);
		let captured!: ReturnType<StripeFake['capturePayment']>;
		const capture = eventsOf(() => (captured = fake.capturePayment(result.payment_intent!.id)));
		expect(types(capture)).toEqual(['charge.captured', 'payment_intent.succeeded']);
		expect(capture[0].data).toMatchObject({ object: { captured: true, amount_captured: 2500 }, previous_attributes: { captured: false, amount_captured: 0 } });
		expect(captured.payment_intent).toMatchObject({ status: 'succeeded', amount_received: 2500, amount_capturable: 0 });
		expect(captured.session).toMatchObject({ id: result.session.id, payment_status: 'paid' });
		expect(fake.get<Stripe.Checkout.Session>(result.session.id)?.payment_status).toBe('paid');
		expect(() => fake.capturePayment(result.payment_intent!.id)).toThrow(/^payment_intent: .* is succeeded, not requires_capture/);
		expect(() => fake.cancelPaymentIntent(result.payment_intent!.id)).toThrow(/^payment_intent: .* is succeeded: only/);
	});

	test('an authorization canceled: payment_intent.canceled, the hold released', () => {
		const { payment_intent: intent, session } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'manual' });
		let canceled!: ReturnType<StripeFake['cancelPaymentIntent']>;
		expect(types(eventsOf(() => (canceled = fake.cancelPaymentIntent(intent!.id))))).toEqual(['payment_intent.canceled']);
		expect(canceled.payment_intent).toMatchObject({ status: 'canceled', canceled_at: NOW, amount_capturable: 0 });
		expect(canceled.charge).toMatchObject({ captured: false, refunded: true, amount_refunded: 2500 });
		expect(fake.get<Stripe.Checkout.Session>(session.id)?.payment_status).toBe('unpaid');
		expect(() => fake.capturePayment(intent!.id)).toThrow(/is canceled, not requires_capture/);
		expect(() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'manual', payment_status: 'unpaid' })).toThrow(
			/^capture_method: manual capture is a card authorization/,
		);
		expect(() => fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'later' as 'manual' })).toThrow(
			/^capture_method: must be one of automatic, manual/,
		);
		const invoiceIntent = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'incomplete' }).payment_intent!;
		expect(() => fake.cancelPaymentIntent(invoiceIntent.id)).toThrow(/^payment_intent: .* was created by an invoice/);
	});
});

describe('the end of a trial', () => {
	const trialing = (settings?: Stripe.Subscription.TrialSettings): ReturnType<StripeFake['createSubscription']> =>
		fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'trialing', trial_period_days: 7, trial_settings: settings });

	test('a trial starts with a paid $0 invoice whose line period is the trial', () => {
		const { subscription, invoice } = trialing();
		expect(subscription.trial_settings).toEqual({ end_behavior: { missing_payment_method: 'create_invoice' } });
		expect(invoice).toMatchObject({ status: 'paid', total: 0, amount_paid: 0, billing_reason: 'subscription_create' });
		expect(invoice.lines.data[0]).toMatchObject({
			amount: 0,
			period: { start: NOW, end: NOW + 7 * DAY },
			parent: { subscription_item_details: { proration: false } },
		});
	});

	test('with a payment method: the first period is invoiced and paid, active', () => {
		const { subscription } = trialing();
		let ended!: ReturnType<StripeFake['endTrial']>;
		const events = eventsOf(() => (ended = fake.endTrial(subscription.id, { payment_method: true })));
		expect(types(events)).toEqual(['customer.subscription.updated', ...INVOICED_AND_PAID]);
		expect(events[0].data).toMatchObject({ object: { status: 'active', trial_end: NOW + 7 * DAY }, previous_attributes: { status: 'trialing' } });
		expect(ended.invoice).toMatchObject({ status: 'paid', amount_paid: 3100, billing_reason: 'subscription_cycle' });
		expect(ended.invoice!.lines.data[0].period).toEqual({ start: NOW + 7 * DAY, end: addInterval(NOW + 7 * DAY, 'month', 1) });
		expect(() => fake.endTrial(subscription.id, { payment_method: true })).toThrow(/^subscription: .* is active, not trialing/);
	});

	test('without one, create_invoice (the default): an open unpaid invoice and past_due', () => {
		const { subscription } = trialing();
		let ended!: ReturnType<StripeFake['endTrial']>;
		const events = eventsOf(() => (ended = fake.endTrial(subscription.id, { payment_method: false })));
		expect(types(events)).toEqual([
			'customer.subscription.updated',
			'invoice.created',
			'invoice.finalized',
			'payment_intent.created',
			'invoice.payment_failed',
			'customer.subscription.updated',
		]);
		expect(events.at(-1)?.data).toMatchObject({ object: { status: 'past_due' }, previous_attributes: { status: 'active' } });
		expect(ended.invoice).toMatchObject({ status: 'open', amount_paid: 0, amount_due: 3100 });
		expect(ended.payment_intent?.status).toBe('requires_payment_method');
	});

	test('without one, cancel: canceled, customer.subscription.deleted; pause: paused, customer.subscription.paused', () => {
		const a = trialing({ end_behavior: { missing_payment_method: 'cancel' } }).subscription;
		expect(a.trial_settings).toEqual({ end_behavior: { missing_payment_method: 'cancel' } });
		let ended!: ReturnType<StripeFake['endTrial']>;
		expect(types(eventsOf(() => (ended = fake.endTrial(a.id, { payment_method: false }))))).toEqual(['customer.subscription.deleted']);
		expect(ended).toMatchObject({ invoice: null, subscription: { status: 'canceled', ended_at: NOW } });
		const b = trialing().subscription;
		const paused = eventsOf(() => (ended = fake.endTrial(b.id, { payment_method: false, missing_payment_method: 'pause' })));
		expect(types(paused)).toEqual(['customer.subscription.updated', 'customer.subscription.paused']);
		expect(paused[0].data).toMatchObject({
			object: { status: 'paused', trial_settings: { end_behavior: { missing_payment_method: 'pause' } } },
			previous_attributes: { status: 'trialing' },
		});
		expect(fake.list('invoice').filter((invoice) => invoice.parent?.subscription_details?.subscription === b.id)).toHaveLength(1);
		expect(() => fake.endTrial(trialing().subscription.id, { payment_method: 'no' as unknown as boolean })).toThrow(/^payment_method: must be true or false/);
		expect(() => fake.endTrial(trialing().subscription.id, { payment_method: false, missing_payment_method: 'wait' as 'pause' })).toThrow(
			/^trial_settings\.end_behavior\.missing_payment_method: must be one of cancel, create_invoice, pause/,
		);
		expect(() => trialing({ end_behavior: { missing_payment_method: 'wait' as 'pause' } })).toThrow(/^trial_settings\.end_behavior\.missing_payment_method: /);
	});
});

test('the emails a worker can fall back to come from the customer', () => {
	const { session, charge } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }] });
	expect(session.customer_details?.email).toBe('ada@example.com');
	expect(charge?.billing_details.email).toBe('ada@example.com');
	const result = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }] });
	expect(result.invoice.customer_email).toBe('ada@example.com');
	expect(result.charge?.billing_details).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
	expect(fake.checkoutSubscription({ customer: customer.id, items: [{ price: monthly.id }] }).session.customer_details?.email).toBe('ada@example.com');
});

describe('the reads a worker makes', () => {
	test('invoices.list by subscription with their payments expanded', async () => {
		const subscription = subscribe();
		fake.renewSubscription(subscription.id);
		const draft = fake.renewSubscription(subscription.id, { collect: 'draft' }).invoice;
		const invoices = await stripe.invoices.list({ subscription: subscription.id, limit: 100, expand: ['data.payments'] });
		expect(invoices.data.map((invoice) => invoice.status)).toEqual(['draft', 'paid', 'paid']);
		expect(invoices.data[0].id).toBe(draft.id);
		expect(invoices.data[0].payments?.data).toEqual([]);
		for (const invoice of invoices.data.slice(1)) {
			const payments = invoice.payments!.data;
			expect(payments).toHaveLength(1);
			expect(payments[0]).toMatchObject({
				status: 'paid',
				invoice: invoice.id,
				payment: { type: 'payment_intent', payment_intent: expect.stringMatching(/^pi_/) },
			});
		}
	});

	test('charges.list by customer and created with refunds expanded', async () => {
		const first = pay();
		fake.advanceClock(DAY);
		const second = pay();
		const refund = fake.refund({ payment_intent: second.id, amount: 700 });
		const charges = await stripe.charges.list({ customer: customer.id, created: { gte: NOW + DAY }, limit: 100, expand: ['data.refunds'] });
		expect(charges.data.map((charge) => charge.payment_intent)).toEqual([second.id]);
		expect(charges.data[0]).toMatchObject({
			amount_refunded: 700,
			refunded: false,
			refunds: { object: 'list', data: [{ id: refund.id, amount: 700, status: 'succeeded' }] },
		});
		expect((await stripe.charges.list({ customer: customer.id, limit: 100 })).data.map((charge) => charge.payment_intent)).toEqual([second.id, first.id]);
	});

	test('disputes.list by payment intent, paymentIntents.retrieve with latest_charge, subscriptions.retrieve with price and customer', async () => {
		const intent = pay();
		const dispute = fake.dispute({ payment_intent: intent.id, inquiry: true });
		pay();
		expect((await stripe.disputes.list({ payment_intent: intent.id })).data.map((d) => [d.id, d.status])).toEqual([[dispute.id, 'warning_needs_response']]);
		const retrieved = await stripe.paymentIntents.retrieve(intent.id, { expand: ['latest_charge'] });
		expect(retrieved.latest_charge).toMatchObject({
			id: intent.latest_charge,
			object: 'charge',
			disputed: true,
			billing_details: { email: 'ada@example.com' },
		});
		const subscription = subscribe();
		const full = await stripe.subscriptions.retrieve(subscription.id, { expand: ['items.data.price', 'customer'] });
		expect(full.customer).toMatchObject({ id: customer.id, object: 'customer', email: 'ada@example.com' });
		expect(full.items.data[0].price).toMatchObject({ id: monthly.id, object: 'price', unit_amount: 3100 });
	});
});

test('the new calls over the admin routes', async () => {
	const admin = async <T>(name: string, body: unknown): Promise<{ status: number; body: T }> => {
		const response = await fetch(`${fake.url}/__fake/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		return { status: response.status, body: (await response.json()) as T };
	};
	const subscription = subscribe();
	const draft = await admin<{ invoice: Stripe.Invoice }>('renewSubscription', { subscription: subscription.id, collect: 'draft' });
	expect(draft.body.invoice.status).toBe('draft');
	expect((await admin<{ invoice: Stripe.Invoice }>('finalizeInvoice', { invoice: draft.body.invoice.id, collect: 'failed' })).body.invoice.status).toBe('open');
	const trial = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id }], status: 'trialing' }).subscription;
	expect(
		(await admin<{ subscription: Stripe.Subscription }>('endTrial', { subscription: trial.id, payment_method: false, missing_payment_method: 'pause' })).body
			.subscription.status,
	).toBe('paused');
	const intent = pay();
	const refund = await admin<Stripe.Refund>('refund', { payment_intent: intent.id, status: 'pending' });
	expect((await admin<Stripe.Refund>('failRefund', { refund: refund.body.id, outcome: 'failed', failure_reason: 'lost_or_stolen_card' })).body).toMatchObject({
		status: 'failed',
		failure_reason: 'lost_or_stolen_card',
	});
	const dispute = await admin<Stripe.Dispute>('dispute', { payment_intent: intent.id, inquiry: true });
	expect((await admin<Stripe.Dispute>('updateDispute', { dispute: dispute.body.id, status: 'needs_response' })).body.status).toBe('needs_response');
	expect((await admin<Stripe.Dispute>('closeDispute', { dispute: dispute.body.id, outcome: 'warning_closed' })).body).toMatchObject({
		error: { param: 'outcome' },
	});
	const held = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'manual' }).payment_intent!;
	expect((await admin<{ session: Stripe.Checkout.Session }>('capturePayment', { payment_intent: held.id })).body.session.payment_status).toBe('paid');
	const other = fake.checkoutPayment({ customer: customer.id, lines: [{ price: oneTime.id }], capture_method: 'manual' }).payment_intent!;
	expect((await admin<{ payment_intent: Stripe.PaymentIntent }>('cancelPaymentIntent', { payment_intent: other.id })).body.payment_intent.status).toBe(
		'canceled',
	);
	expect((await admin('failRefund', { outcome: 'failed' })).body).toMatchObject({ error: { param: 'refund' } });
});

test('refusals are FakeUsageErrors', () => {
	expect(() => fake.updateDispute('dp_missing', 'under_review')).toThrow(FakeUsageError);
	expect(() => fake.capturePayment('pi_missing')).toThrow(FakeUsageError);
	expect(() => fake.endTrial('sub_missing', { payment_method: true })).toThrow(FakeUsageError);
});
