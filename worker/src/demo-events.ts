// Stripe webhook events for the demo, in the shapes a current API version (2025-03-31.basil and later) sends:
// the envelope, a Checkout Session, a Subscription (period on its items), an Invoice (subscription under
// `parent.subscription_details`, price under `pricing.price_details`) and a Charge. Modelled on the example
// objects Stripe publishes (stripe/openapi fixtures3.json), trimmed to the fields a reader would recognise.

import { randomBytes } from 'node:crypto';

export const DEMO_API_VERSION = '2025-03-31.basil';
export const DAY = 86400;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Stripe-looking id, e.g. `sub_1Qx…`. */
export function stripeId(prefix: string, length = 24): string {
	const bytes = randomBytes(length);
	return `${prefix}_1${Array.from(bytes.subarray(1), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('')}`;
}

export interface DemoEvent {
	id: string;
	object: 'event';
	api_version: string;
	created: number;
	data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
	livemode: boolean;
	pending_webhooks: number;
	request: { id: string | null; idempotency_key: string | null };
	type: string;
}

function event(type: string, object: Record<string, unknown>, created: number, previous?: Record<string, unknown>): DemoEvent {
	return {
		id: stripeId('evt'),
		object: 'event',
		api_version: DEMO_API_VERSION,
		created,
		data: previous === undefined ? { object } : { object, previous_attributes: previous },
		livemode: false,
		pending_webhooks: 1,
		request: { id: stripeId('req', 14), idempotency_key: randomBytes(16).toString('hex') },
		type,
	};
}

export interface Buyer {
	customer: string;
	email: string;
	name: string;
}

export interface OneOffPurchase {
	buyer: Buyer;
	session: string;
	paymentIntent: string;
	charge: string;
	amount: number;
	/** keycrate_* metadata the seller put on the Checkout Session: what one purchase buys. */
	metadata: Record<string, string>;
}

/** checkout.session.completed, mode payment, paid. Webhooks carry no line items: the session metadata says what was bought. */
export function oneOffCheckoutCompleted(purchase: OneOffPurchase, created: number): DemoEvent {
	return event(
		'checkout.session.completed',
		{
			id: purchase.session,
			object: 'checkout.session',
			amount_subtotal: purchase.amount,
			amount_total: purchase.amount,
			created: created - 40,
			currency: 'usd',
			customer: purchase.buyer.customer,
			customer_details: { email: purchase.buyer.email, name: purchase.buyer.name, phone: null, tax_exempt: 'none' },
			customer_email: null,
			expires_at: created - 40 + DAY,
			livemode: false,
			metadata: purchase.metadata,
			mode: 'payment',
			payment_intent: purchase.paymentIntent,
			payment_status: 'paid',
			status: 'complete',
			subscription: null,
			success_url: 'https://shop.example.com/thanks',
		},
		created,
	);
}

/** charge.refunded for the whole amount of a one-off purchase. */
export function chargeRefunded(purchase: OneOffPurchase, created: number): DemoEvent {
	return event(
		'charge.refunded',
		{
			id: purchase.charge,
			object: 'charge',
			amount: purchase.amount,
			amount_captured: purchase.amount,
			amount_refunded: purchase.amount,
			captured: true,
			created: created - 3600,
			currency: 'usd',
			customer: purchase.buyer.customer,
			livemode: false,
			paid: true,
			payment_intent: purchase.paymentIntent,
			receipt_email: purchase.buyer.email,
			refunded: true,
			status: 'succeeded',
		},
		created,
		{ amount_refunded: 0, refunded: false },
	);
}

export interface SubscriptionPurchase {
	buyer: Buyer;
	session: string;
	subscription: string;
	item: string;
	price: { id: string; product: string; unitAmount: number };
}

/** checkout.session.completed, mode subscription: links the buyer to the new subscription. */
export function subscriptionCheckoutCompleted(purchase: SubscriptionPurchase, created: number): DemoEvent {
	return event(
		'checkout.session.completed',
		{
			id: purchase.session,
			object: 'checkout.session',
			amount_subtotal: purchase.price.unitAmount,
			amount_total: purchase.price.unitAmount,
			created: created - 40,
			currency: 'usd',
			customer: purchase.buyer.customer,
			customer_details: { email: purchase.buyer.email, name: purchase.buyer.name, phone: null, tax_exempt: 'none' },
			customer_email: null,
			expires_at: created - 40 + DAY,
			invoice: stripeId('in'),
			livemode: false,
			metadata: {},
			mode: 'subscription',
			payment_intent: null,
			payment_status: 'paid',
			status: 'complete',
			subscription: purchase.subscription,
			success_url: 'https://shop.example.com/thanks',
		},
		created,
	);
}

export type SubscriptionStatus = 'active' | 'past_due' | 'canceled';

/** customer.subscription.created|updated|deleted; the current period sits on the item (current API shape). */
export function subscriptionEvent(
	kind: 'created' | 'updated' | 'deleted',
	purchase: SubscriptionPurchase,
	period: { start: number; end: number },
	status: SubscriptionStatus,
	created: number,
	previous?: Record<string, unknown>,
): DemoEvent {
	const { subscription, price } = purchase;
	return event(
		`customer.subscription.${kind}`,
		{
			id: subscription,
			object: 'subscription',
			billing_cycle_anchor: period.start,
			cancel_at_period_end: false,
			canceled_at: status === 'canceled' ? created : null,
			collection_method: 'charge_automatically',
			created: period.start,
			currency: 'usd',
			customer: purchase.buyer.customer,
			ended_at: status === 'canceled' ? created : null,
			items: {
				object: 'list',
				data: [
					{
						id: purchase.item,
						object: 'subscription_item',
						current_period_end: period.end,
						current_period_start: period.start,
						metadata: {},
						price: {
							id: price.id,
							object: 'price',
							active: true,
							currency: 'usd',
							lookup_key: null,
							metadata: {},
							product: price.product,
							recurring: { interval: 'month', interval_count: 1 },
							type: 'recurring',
							unit_amount: price.unitAmount,
						},
						quantity: 1,
						subscription,
					},
				],
				has_more: false,
				total_count: 1,
				url: `/v1/subscription_items?subscription=${subscription}`,
			},
			livemode: false,
			metadata: {},
			start_date: period.start,
			status,
		},
		created,
		previous,
	);
}

/** invoice.paid for one period of a subscription (the first one, or a renewal). */
export function invoicePaid(
	purchase: SubscriptionPurchase,
	period: { start: number; end: number },
	billingReason: 'subscription_create' | 'subscription_cycle',
	created: number,
): DemoEvent {
	const id = stripeId('in');
	const amount = purchase.price.unitAmount;
	return event(
		'invoice.paid',
		{
			id,
			object: 'invoice',
			amount_due: amount,
			amount_paid: amount,
			amount_remaining: 0,
			billing_reason: billingReason,
			collection_method: 'charge_automatically',
			created: created - 5,
			currency: 'usd',
			customer: purchase.buyer.customer,
			customer_email: purchase.buyer.email,
			lines: {
				object: 'list',
				data: [
					{
						id: stripeId('il'),
						object: 'line_item',
						amount,
						currency: 'usd',
						description: '1 × Keycrate Pro (at $19.00 / month)',
						metadata: {},
						parent: {
							type: 'subscription_item_details',
							invoice_item_details: null,
							subscription_item_details: {
								invoice_item: null,
								proration: false,
								proration_details: { credited_items: null },
								subscription: purchase.subscription,
								subscription_item: purchase.item,
							},
						},
						period,
						pricing: {
							type: 'price_details',
							price_details: { price: purchase.price.id, product: purchase.price.product },
							unit_amount_decimal: String(amount),
						},
						quantity: 1,
					},
				],
				has_more: false,
				total_count: 1,
				url: `/v1/invoices/${id}/lines`,
			},
			livemode: false,
			parent: {
				type: 'subscription_details',
				quote_details: null,
				subscription_details: { metadata: {}, subscription: purchase.subscription },
			},
			period_end: period.start,
			period_start: period.start,
			status: 'paid',
			total: amount,
		},
		created,
	);
}
