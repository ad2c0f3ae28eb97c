// Pure: which root a Stripe event is about. An event is only a notification — its payload is a snapshot in the
// sender's API version — so only the ids are read here, in every shape Stripe has sent them; the sync job
// reads the root's current state itself.
//
//   checkout.session.*            mode payment → its payment intent (else the session: nothing was charged)
//                                 mode subscription → its subscription
//   customer.subscription.*       the subscription
//   invoice.*                     its subscription (parent.subscription_details, or `subscription` before 2025-03)
//   invoice_payment.*, charge.*, charge.dispute.*, refund.*, payment_intent.*
//                                 the payment intent (a sync of it finds a subscription invoice it paid)

import type { RootId, SkipReason } from '../model.js';

/**
 * The event types a Stripe endpoint should send (README; resync asks the Events API for these, which takes at
 * most 20 types). Each one only names a root; what it changed is read from Stripe by the sync.
 */
export const HANDLED_EVENT_TYPES = [
	// Purchases
	'checkout.session.completed',
	'checkout.session.async_payment_succeeded',
	'payment_intent.succeeded', // a payment made without Checkout's events, or captured later
	'charge.captured', // a manual-capture authorization captured
	'payment_intent.canceled', // an authorization released
	// Subscriptions
	'customer.subscription.created',
	'customer.subscription.updated',
	'customer.subscription.deleted',
	'customer.subscription.paused',
	'customer.subscription.resumed',
	'invoice.paid',
	'invoice.payment_failed',
	// Money back
	'charge.refunded',
	'charge.refund.updated', // a refund that failed or was canceled (some payment methods)
	'refund.updated', // the same, for every payment method
	'charge.dispute.created',
	'charge.dispute.updated',
	'charge.dispute.closed',
] as const;

export type RootOfEvent = { root: RootId } | { skip: SkipReason; detail: string };

/** The fields of an event this module reads; anything else in the payload is ignored. */
export interface EventLike {
	id: string;
	type: string;
	data?: { object?: unknown };
}

type Fields = Record<string, unknown>;

/** An expandable reference: an id, or the expanded object's id. */
export function idOf(value: unknown): string | undefined {
	if (typeof value === 'string' && value !== '') return value;
	if (typeof value === 'object' && value !== null && typeof (value as Fields).id === 'string') return (value as Fields).id as string;
	return undefined;
}

/** Root ids end up in Redis keys, Keycrate tags and log lines: Stripe's own id alphabet only. */
const ROOT_ID = /^(sub|pi|cs)_[A-Za-z0-9_]{1,250}$/;

export function isRootId(value: string): boolean {
	return ROOT_ID.test(value);
}

/** A field for a log line. Not String(): a signed payload's {"toString": 1} would throw there (and answer 503). */
function describe(value: unknown): string {
	if (typeof value === 'string') return value;
	return value === null || typeof value !== 'object' ? String(value) : Array.isArray(value) ? 'an array' : 'an object';
}

function rooted(id: string | undefined, what: string, event: EventLike): RootOfEvent {
	if (id !== undefined && isRootId(id)) return { root: id };
	return { skip: 'no_root', detail: `${event.type} ${event.id}: ${what}` };
}

export function rootOfEvent(event: EventLike): RootOfEvent {
	const object = event.data?.object;
	if (typeof object !== 'object' || object === null) return { skip: 'no_root', detail: `${event.type} ${event.id}: no data.object` };
	const o = object as Fields;
	const [family] = event.type.split('.');

	if (event.type.startsWith('checkout.session.')) {
		if (o.mode === 'subscription') return rooted(idOf(o.subscription), 'the session names no subscription', event);
		if (o.mode === 'payment') return rooted(idOf(o.payment_intent) ?? idOf(o), 'the session has no id', event);
		return { skip: 'not_a_purchase', detail: `${event.type} ${event.id}: checkout session mode ${describe(o.mode)} sells nothing` };
	}
	if (event.type.startsWith('customer.subscription.')) return rooted(idOf(o), 'the subscription has no id', event);
	if (family === 'invoice') {
		const parent = o.parent as Fields | null | undefined;
		const details = parent?.subscription_details as Fields | null | undefined;
		const subscription = idOf(details?.subscription) ?? idOf(o.subscription);
		if (subscription !== undefined) return rooted(subscription, 'bad subscription id', event);
		return { skip: 'not_a_purchase', detail: `${event.type} ${event.id}: the invoice belongs to no subscription` };
	}
	if (family === 'invoice_payment') {
		const payment = o.payment as Fields | null | undefined;
		return rooted(idOf(payment?.payment_intent), 'the invoice payment names no payment intent', event);
	}
	if (family === 'payment_intent') return rooted(idOf(o), 'the payment intent has no id', event);
	if (family === 'charge' || family === 'refund') {
		return rooted(idOf(o.payment_intent), 'names no payment intent (a charge without one sells nothing we license)', event);
	}
	return { skip: 'not_handled', detail: `${event.type} ${event.id}: not an event type the worker uses` };
}
