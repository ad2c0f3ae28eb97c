// Example Stripe webhook events as Stripe sends them, in the legacy shape (API 2024-06-20) and the current
// one (2025-03-31.basil and later; here 2026-02-25.clover). Shapes follow Stripe's published fixtures
// (stripe/openapi fixtures3.json) and the stripe package's types; only realistic fields, realistic ids.
// In src, not test/, because both `npm run demo` and the tests build their events with it.
//
//   const price = stripePrice({ metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '30' } });
//   const event = checkoutSessionCompleted({ lineItems: [{ price, quantity: 2 }] });
//   const renewal = invoicePaid({ subscription: 'sub_…', lines: [{ price, periodEnd }] }, { apiShape: 'legacy' });
//   const { body, header } = signEvent(event, 'whsec_…');

import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { StripeEvent, StripeMetadata, StripePrice } from './types.js';

export type ApiShape = 'legacy' | 'current';
export interface ShapeOptions {
	apiShape?: ApiShape;
}

export const API_VERSIONS: Record<ApiShape, string> = { legacy: '2024-06-20', current: '2026-02-25.clover' };

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Stripe-looking id: `stripeId('sub')` → `sub_1Q…` (24 characters after the prefix). */
export function stripeId(prefix: string, length = 24): string {
	const bytes = randomBytes(length);
	let tail = '1';
	for (let index = 1; index < length; index++) tail += ALPHANUMERIC[bytes[index] % ALPHANUMERIC.length];
	return `${prefix}_${tail}`;
}

export function nowSeconds(): number {
	return Math.floor(Date.now() / 1000);
}

export const DAY = 86400;

interface Common {
	created?: number;
	livemode?: boolean;
	/** The event id; a fresh evt_… when omitted. Pass the same id to build a redelivery. */
	eventId?: string;
}

function envelope(type: string, object: object, common: Common, options: ShapeOptions, previous?: Record<string, unknown>): StripeEvent {
	const apiShape = options.apiShape ?? 'current';
	const event = {
		id: common.eventId ?? stripeId('evt'),
		object: 'event' as const,
		api_version: API_VERSIONS[apiShape],
		created: common.created ?? nowSeconds(),
		data: previous === undefined ? { object } : { object, previous_attributes: previous },
		livemode: common.livemode ?? false,
		pending_webhooks: 1,
		request: { id: stripeId('req', 14), idempotency_key: randomBytes(16).toString('hex') },
		type,
	};
	return event;
}

export interface PriceInput {
	id?: string;
	lookupKey?: string | null;
	metadata?: StripeMetadata;
	product?: string;
	unitAmount?: number;
	recurring?: { interval: 'day' | 'week' | 'month' | 'year'; interval_count?: number } | null;
}

export interface BuiltPrice extends StripePrice {
	object: 'price';
	product: string;
	unit_amount: number;
	currency: string;
	recurring: { interval: string; interval_count: number } | null;
	type: 'one_time' | 'recurring';
	active: boolean;
}

export function stripePrice(input: PriceInput = {}): BuiltPrice {
	const recurring = input.recurring === undefined || input.recurring === null ? null : { interval_count: 1, ...input.recurring };
	return {
		id: input.id ?? stripeId('price'),
		object: 'price',
		active: true,
		currency: 'usd',
		lookup_key: input.lookupKey ?? null,
		metadata: input.metadata ?? {},
		product: input.product ?? stripeId('prod', 14),
		recurring,
		type: recurring === null ? 'one_time' : 'recurring',
		unit_amount: input.unitAmount ?? 2900,
	};
}

export interface LineItemInput {
	price: BuiltPrice;
	quantity?: number;
	id?: string;
}

export function checkoutLineItem(input: LineItemInput): {
	id: string;
	object: 'item';
	price: BuiltPrice;
	quantity: number;
	amount_total: number;
	currency: string;
	description: string;
} {
	const quantity = input.quantity ?? 1;
	return {
		id: input.id ?? stripeId('li'),
		object: 'item',
		amount_total: input.price.unit_amount * quantity,
		currency: input.price.currency,
		description: 'Keycrate license',
		price: input.price,
		quantity,
	};
}

export interface CheckoutInput extends Common {
	id?: string;
	mode?: 'payment' | 'subscription' | 'setup';
	paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required';
	/** Mode payment: a fresh pi_… unless null (e.g. no_payment_required). */
	paymentIntent?: string | null;
	/** Mode subscription: a fresh sub_… when omitted. */
	subscription?: string | null;
	customer?: string | null;
	email?: string | null;
	/** The buyer's name in customer_details; 'Ada Buyer' when omitted. */
	name?: string;
	/** Put in customer_email (the pre-filled address) instead of customer_details. */
	prefilledEmail?: string | null;
	metadata?: StripeMetadata;
	/** Embedded as an expanded `line_items` list; webhooks normally leave it out (omit to model that). */
	lineItems?: LineItemInput[];
	amountTotal?: number;
}

function checkoutSession(input: CheckoutInput): Record<string, unknown> {
	const mode = input.mode ?? 'payment';
	const livemode = input.livemode ?? false;
	const created = (input.created ?? nowSeconds()) - 30;
	const email = input.email === undefined ? 'buyer@example.com' : input.email;
	const session: Record<string, unknown> = {
		id: input.id ?? stripeId(livemode ? 'cs_live_a1' : 'cs_test_a1', 56),
		object: 'checkout.session',
		amount_subtotal: input.amountTotal ?? 2900,
		amount_total: input.amountTotal ?? 2900,
		created,
		currency: 'usd',
		customer: input.customer === undefined ? stripeId('cus', 14) : input.customer,
		customer_creation: 'if_required',
		customer_details: email === null ? null : { email, name: input.name ?? 'Ada Buyer', phone: null, tax_exempt: 'none', address: { country: 'DE' } },
		customer_email: input.prefilledEmail ?? null,
		expires_at: created + DAY,
		invoice: null,
		livemode,
		metadata: input.metadata ?? {},
		mode,
		payment_intent: mode === 'payment' ? (input.paymentIntent === undefined ? stripeId('pi') : input.paymentIntent) : null,
		payment_status: input.paymentStatus ?? 'paid',
		status: 'complete',
		subscription: mode === 'subscription' ? (input.subscription === undefined ? stripeId('sub') : input.subscription) : null,
		success_url: 'https://shop.example.com/thanks',
		ui_mode: 'hosted',
		url: null,
	};
	if (input.lineItems !== undefined) {
		session.line_items = { object: 'list', data: input.lineItems.map(checkoutLineItem), has_more: false, url: `/v1/checkout/sessions/${String(session.id)}/line_items` };
	}
	return session;
}

export function checkoutSessionCompleted(input: CheckoutInput = {}, options: ShapeOptions = {}): StripeEvent {
	return envelope('checkout.session.completed', checkoutSession(input), input, options);
}

/** The follow-up of a session completed with payment_status unpaid (bank debits, vouchers). */
export function checkoutAsyncPaymentSucceeded(input: CheckoutInput = {}, options: ShapeOptions = {}): StripeEvent {
	return envelope('checkout.session.async_payment_succeeded', checkoutSession({ paymentStatus: 'paid', ...input }), input, options);
}

export interface SubscriptionItemInput {
	id?: string;
	price: BuiltPrice;
	quantity?: number;
}

export interface SubscriptionInput extends Common {
	id?: string;
	customer?: string;
	status?: 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';
	items?: SubscriptionItemInput[];
	periodStart?: number;
	periodEnd?: number;
	metadata?: StripeMetadata;
	previousAttributes?: Record<string, unknown>;
}

export type SubscriptionEventKind = 'created' | 'updated' | 'deleted' | 'paused' | 'resumed';

/** A `customer.subscription.<kind>` event. Legacy: the period is on the subscription; current: on each item. */
export function subscriptionEvent(kind: SubscriptionEventKind, input: SubscriptionInput = {}, options: ShapeOptions = {}): StripeEvent {
	const apiShape = options.apiShape ?? 'current';
	const id = input.id ?? stripeId('sub');
	const periodStart = input.periodStart ?? (input.created ?? nowSeconds()) - 60;
	const periodEnd = input.periodEnd ?? periodStart + 30 * DAY;
	const defaultStatus = kind === 'deleted' ? 'canceled' : kind === 'paused' ? 'paused' : 'active';
	const itemInputs = input.items ?? [{ price: stripePrice({ recurring: { interval: 'month' } }) }];
	const items = itemInputs.map((item) => {
		const built: Record<string, unknown> = {
			id: item.id ?? stripeId('si', 14),
			object: 'subscription_item',
			created: periodStart,
			metadata: {},
			price: item.price,
			quantity: item.quantity ?? 1,
			subscription: id,
		};
		if (apiShape === 'legacy') built.plan = { id: item.price.id, object: 'plan', interval: item.price.recurring?.interval ?? 'month' };
		else Object.assign(built, { current_period_start: periodStart, current_period_end: periodEnd });
		return built;
	});
	const subscription: Record<string, unknown> = {
		id,
		object: 'subscription',
		billing_cycle_anchor: periodStart,
		cancel_at_period_end: false,
		canceled_at: kind === 'deleted' ? (input.created ?? nowSeconds()) : null,
		collection_method: 'charge_automatically',
		created: periodStart,
		currency: 'usd',
		customer: input.customer ?? stripeId('cus', 14),
		items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
		latest_invoice: stripeId('in'),
		livemode: input.livemode ?? false,
		metadata: input.metadata ?? {},
		start_date: periodStart,
		status: input.status ?? defaultStatus,
	};
	if (apiShape === 'legacy') Object.assign(subscription, { current_period_start: periodStart, current_period_end: periodEnd });
	return envelope(`customer.subscription.${kind}`, subscription, input, options, input.previousAttributes);
}

export interface InvoiceLineInput {
	price: BuiltPrice;
	quantity?: number;
	/** The subscription item billed; a fresh si_… when omitted. null for a one-off invoice item line. */
	subscriptionItem?: string | null;
	periodStart?: number;
	periodEnd?: number;
	proration?: boolean;
}

export interface InvoiceInput extends Common {
	id?: string;
	/** null for a one-off invoice. A fresh sub_… when omitted. */
	subscription?: string | null;
	customer?: string;
	email?: string | null;
	/** A fresh pi_… when omitted; null for a zero-amount invoice. */
	paymentIntent?: string | null;
	lines?: InvoiceLineInput[];
	/** The subscription's metadata as snapshotted on the invoice. */
	subscriptionMetadata?: StripeMetadata;
	billingReason?: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'manual';
	/**
	 * Current shape only: include `invoice.payments`. Stripe leaves it out of webhook payloads unless expanded,
	 * so a current-shape invoice.paid usually names no payment intent at all.
	 */
	includePayments?: boolean;
	hasMore?: boolean;
}

function invoiceLine(line: InvoiceLineInput, subscription: string | null, apiShape: ApiShape): Record<string, unknown> {
	const periodStart = line.periodStart ?? nowSeconds();
	const periodEnd = line.periodEnd ?? periodStart + 30 * DAY;
	const quantity = line.quantity ?? 1;
	const item = line.subscriptionItem === undefined ? stripeId('si', 14) : line.subscriptionItem;
	const built: Record<string, unknown> = {
		id: stripeId('il'),
		object: 'line_item',
		amount: line.price.unit_amount * quantity,
		currency: 'usd',
		description: `${quantity} × Keycrate license`,
		metadata: {},
		period: { start: periodStart, end: periodEnd },
		quantity,
	};
	if (apiShape === 'legacy') {
		Object.assign(built, {
			type: item === null ? 'invoiceitem' : 'subscription',
			price: line.price,
			plan: item === null ? null : { id: line.price.id, object: 'plan' },
			proration: line.proration ?? false,
			subscription: item === null ? null : subscription,
			subscription_item: item,
		});
	} else {
		Object.assign(built, {
			parent:
				item === null
					? { type: 'invoice_item_details', invoice_item_details: { invoice_item: stripeId('ii'), proration: false, subscription }, subscription_item_details: null }
					: {
							type: 'subscription_item_details',
							invoice_item_details: null,
							subscription_item_details: { invoice_item: null, proration: line.proration ?? false, proration_details: { credited_items: null }, subscription, subscription_item: item },
						},
			pricing: { type: 'price_details', price_details: { price: line.price.id, product: line.price.product }, unit_amount_decimal: String(line.price.unit_amount) },
		});
	}
	return built;
}

export function invoicePaid(input: InvoiceInput = {}, options: ShapeOptions = {}): StripeEvent {
	const apiShape = options.apiShape ?? 'current';
	const subscription = input.subscription === undefined ? stripeId('sub') : input.subscription;
	const paymentIntent = input.paymentIntent === undefined ? stripeId('pi') : input.paymentIntent;
	const id = input.id ?? stripeId('in');
	const lineInputs = input.lines ?? [{ price: stripePrice({ recurring: { interval: 'month' } }) }];
	const lines = lineInputs.map((line) => invoiceLine(line, subscription, apiShape));
	const total = lineInputs.reduce((sum, line) => sum + line.price.unit_amount * (line.quantity ?? 1), 0);
	const metadata = input.subscriptionMetadata ?? {};
	const invoice: Record<string, unknown> = {
		id,
		object: 'invoice',
		amount_due: total,
		amount_paid: total,
		amount_remaining: 0,
		billing_reason: input.billingReason ?? (subscription === null ? 'manual' : 'subscription_cycle'),
		collection_method: 'charge_automatically',
		created: (input.created ?? nowSeconds()) - 5,
		currency: 'usd',
		customer: input.customer ?? stripeId('cus', 14),
		customer_email: input.email === undefined ? 'buyer@example.com' : input.email,
		hosted_invoice_url: `https://invoice.stripe.com/i/acct_1Test/${id}`,
		lines: { object: 'list', data: lines, has_more: input.hasMore ?? false, total_count: lines.length, url: `/v1/invoices/${id}/lines` },
		livemode: input.livemode ?? false,
		number: 'KC-0001',
		status: 'paid',
		total,
	};
	if (apiShape === 'legacy') {
		Object.assign(invoice, {
			// Removed in 2025-03-31.basil: `paid` (see status), `charge` and `payment_intent` (see payments).
			paid: true,
			charge: paymentIntent === null ? null : stripeId('ch'),
			payment_intent: paymentIntent,
			subscription,
			subscription_details: subscription === null ? null : { metadata },
		});
	} else {
		invoice.parent =
			subscription === null
				? null
				: { type: 'subscription_details', quote_details: null, subscription_details: { metadata, subscription } };
		if (input.includePayments === true) {
			invoice.payments = {
				object: 'list',
				data:
					paymentIntent === null
						? []
						: [{ id: stripeId('inpay'), object: 'invoice_payment', amount_paid: total, invoice: id, is_default: true, payment: { type: 'payment_intent', payment_intent: paymentIntent }, status: 'paid' }],
				has_more: false,
				url: `/v1/invoice_payments?invoice=${id}`,
			};
		}
	}
	return envelope('invoice.paid', invoice, input, options);
}

export interface ChargeInput extends Common {
	id?: string;
	/** null for a charge made without a payment intent (legacy Charges API). */
	paymentIntent?: string | null;
	amount?: number;
	/** A fresh cus_… when omitted. */
	customer?: string;
	/** Defaults to the whole amount. */
	amountRefunded?: number;
	/** Defaults to amountRefunded === amount. */
	refunded?: boolean;
}

export function chargeRefunded(input: ChargeInput = {}, options: ShapeOptions = {}): StripeEvent {
	const amount = input.amount ?? 2900;
	const amountRefunded = input.amountRefunded ?? amount;
	const charge = {
		id: input.id ?? stripeId('ch'),
		object: 'charge',
		amount,
		amount_captured: amount,
		amount_refunded: amountRefunded,
		captured: true,
		created: (input.created ?? nowSeconds()) - 3600,
		currency: 'usd',
		customer: input.customer ?? stripeId('cus', 14),
		livemode: input.livemode ?? false,
		paid: true,
		payment_intent: input.paymentIntent === undefined ? stripeId('pi') : input.paymentIntent,
		refunded: input.refunded ?? amountRefunded === amount,
		status: 'succeeded',
	};
	return envelope('charge.refunded', charge, input, options, { amount_refunded: 0, refunded: false });
}

export interface DisputeInput extends Common {
	id?: string;
	charge?: string;
	paymentIntent?: string | null;
	amount?: number;
	reason?: string;
}

export function disputeCreated(input: DisputeInput = {}, options: ShapeOptions = {}): StripeEvent {
	const dispute = {
		id: input.id ?? stripeId('du'),
		object: 'dispute',
		amount: input.amount ?? 2900,
		charge: input.charge ?? stripeId('ch'),
		created: input.created ?? nowSeconds(),
		currency: 'usd',
		is_charge_refundable: false,
		livemode: input.livemode ?? false,
		payment_intent: input.paymentIntent === undefined ? stripeId('pi') : input.paymentIntent,
		reason: input.reason ?? 'fraudulent',
		status: 'needs_response',
	};
	return envelope('charge.dispute.created', dispute, input, options);
}

/** Any other event type, e.g. `otherEvent('customer.created', { id: 'cus_…', object: 'customer' })`. */
export function otherEvent(type: string, object: Record<string, unknown>, input: Common = {}, options: ShapeOptions = {}): StripeEvent {
	return envelope(type, object, input, options);
}

const signer = new Stripe('sk_test_signing_only');

/** The raw body and Stripe-Signature header Stripe would send for `event`, signed with `secret`. */
export function signEvent(event: StripeEvent, secret: string, timestamp = nowSeconds()): { body: string; header: string } {
	const body = JSON.stringify(event, null, 2);
	return { body, header: signer.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }) };
}
