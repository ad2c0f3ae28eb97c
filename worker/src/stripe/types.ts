// Narrow types for the Stripe fields the worker reads, in both payload shapes Stripe sends:
// "legacy" (API versions before 2025-03-31.basil) and "current" (basil and later, e.g. 2026-02-25.clover).
// Fields that moved are optional on both sides; stripe/accessors.ts reads whichever is present.
// Only fields we read are typed: a webhook payload carries many more, and we must not depend on them.

/** An expandable reference: Stripe sends an id unless the field was expanded into the object. */
export type Ref = string | { id: string };

export type StripeMetadata = Record<string, string>;

export interface StripePrice {
	id: string;
	lookup_key?: string | null;
	metadata?: StripeMetadata;
}

/** A price as an invoice line names it: a full object (legacy `line.price`) or an id (current `pricing`). */
export type PriceRef = string | StripePrice;

/** A Checkout Session line item (`session.line_items.data[]`, or `GET /v1/checkout/sessions/:id/line_items`). */
export interface LineItem {
	id: string;
	price: StripePrice | null;
	quantity: number | null;
}

export interface StripeList<T> {
	data: T[];
	has_more?: boolean;
}

export interface CheckoutSession {
	id: string;
	object: 'checkout.session';
	mode: 'payment' | 'subscription' | 'setup';
	payment_status: 'paid' | 'unpaid' | 'no_payment_required';
	payment_intent: Ref | null;
	subscription: Ref | null;
	customer: Ref | null;
	customer_email: string | null;
	customer_details?: { email: string | null } | null;
	metadata?: StripeMetadata | null;
	/** Present only when the session was expanded; webhooks normally omit it. */
	line_items?: StripeList<LineItem>;
	livemode: boolean;
}

export type SubscriptionStatus =
	| 'incomplete'
	| 'incomplete_expired'
	| 'trialing'
	| 'active'
	| 'past_due'
	| 'canceled'
	| 'unpaid'
	| 'paused';

export interface SubscriptionItem {
	id: string;
	price: StripePrice;
	quantity?: number;
	/** Current shape: the period lives on each item. */
	current_period_end?: number;
}

export interface Subscription {
	id: string;
	object: 'subscription';
	customer: Ref;
	status: SubscriptionStatus;
	metadata?: StripeMetadata | null;
	/** Legacy shape: one period for the whole subscription. */
	current_period_end?: number;
	items: StripeList<SubscriptionItem>;
	livemode: boolean;
}

export interface InvoiceLine {
	id: string;
	period: { start: number; end: number };
	quantity?: number | null;
	/** Legacy shape. */
	price?: StripePrice | null;
	subscription_item?: string | null;
	proration?: boolean;
	/** Current shape. */
	pricing?: { price_details?: { price: PriceRef } | null } | null;
	parent?: {
		subscription_item_details?: { subscription_item?: string | null; subscription?: string | null; proration?: boolean } | null;
	} | null;
}

export interface Invoice {
	id: string;
	object: 'invoice';
	customer: Ref | null;
	customer_email: string | null;
	livemode: boolean;
	lines: StripeList<InvoiceLine>;
	/** Legacy shape. */
	subscription?: Ref | null;
	subscription_details?: { metadata?: StripeMetadata | null } | null;
	payment_intent?: Ref | null;
	/** Current shape. */
	parent?: {
		subscription_details?: { subscription: Ref; metadata?: StripeMetadata | null } | null;
	} | null;
	payments?: StripeList<{ payment: { payment_intent?: Ref | null } }>;
}

export interface Charge {
	id: string;
	object: 'charge';
	amount: number;
	amount_refunded: number;
	refunded: boolean;
	payment_intent: Ref | null;
}

export interface Dispute {
	id: string;
	object: 'dispute';
	charge: Ref;
	payment_intent: Ref | null;
}

/** The envelope of every webhook event; `data.object` is checked by the handler for its event type. */
export interface StripeEvent {
	id: string;
	object?: 'event';
	type: string;
	created: number;
	livemode: boolean;
	api_version?: string | null;
	data: { object: unknown; previous_attributes?: Record<string, unknown> };
}
