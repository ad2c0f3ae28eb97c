// Reads a root's CURRENT state from Stripe (pinned API version, expanded in as few calls as Stripe allows) and
// narrows it to the worker's model. No decisions here: desired.ts makes them.
//
//   sub_…  subscriptions.retrieve (items + prices, customer, latest invoice)
//          + invoicePayments.list of the latest invoice (payment intent + latest charge): refunded, disputed
//   pi_…   paymentIntents.retrieve (latest charge) + checkout.sessions.list by payment intent (line items);
//          no session → invoicePayments.list by payment intent: a subscription invoice's payment redirects
//   cs_…   checkout.sessions.retrieve (line items): a session that charged nothing
// A disputed charge costs one more call (disputes.list) to tell open or lost from won.

import Stripe from 'stripe';
import type { Line, Linkage, PaymentFacts, PriceInfo, RootState, SubscriptionStatus } from '../model.js';
import { isStripeRateLimit } from './client.js';
import { idOf } from './roots.js';

/** Dispute statuses under which the money is held or gone; won, prevented and closed inquiries are not. */
const DISPUTE_REVOKES = new Set(['needs_response', 'under_review', 'lost', 'warning_needs_response', 'warning_under_review']);
/** Line items beyond the first expanded page are listed; this bounds a runaway list all the same. */
const MAX_LINE_ITEMS = 1000;

export interface StripeAccess {
	stripe: Stripe;
	/** Called before every request (the shared request budget). */
	beforeRequest?: () => Promise<void>;
}

/** Times one read is tried again after a 429 before the job gives way (the queue then pauses for everyone). */
const RATE_LIMIT_RETRIES = 4;

/**
 * One Stripe read, within the shared budget. A 429 is waited out here, briefly and with jitter, so that a job
 * keeps the reads it already made and waiting jobs do not all come back at once; after RATE_LIMIT_RETRIES the
 * error goes up and the processor pauses the queue.
 */
async function read<T>(access: StripeAccess, call: (stripe: Stripe) => Promise<T>): Promise<T> {
	for (let attempt = 0; ; attempt++) {
		await access.beforeRequest?.();
		try {
			return await call(access.stripe);
		} catch (error) {
			if (!isStripeRateLimit(error) || attempt >= RATE_LIMIT_RETRIES) throw error;
			await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 750));
		}
	}
}

function isMissing(error: unknown): boolean {
	return error instanceof Stripe.errors.StripeInvalidRequestError && (error.code === 'resource_missing' || error.statusCode === 404);
}

function priceInfo(price: Stripe.Price | string | null | undefined): PriceInfo | undefined {
	if (price === null || price === undefined) return undefined;
	if (typeof price === 'string') return { id: price, metadata: {} };
	return { id: price.id, ...(price.lookup_key ? { lookupKey: price.lookup_key } : {}), metadata: { ...(price.metadata ?? {}) } };
}

function customerLinkage(customer: Stripe.Subscription['customer'] | Stripe.Checkout.Session['customer']): Pick<Linkage, 'customerId' | 'email'> {
	const customerId = idOf(customer);
	const email = typeof customer === 'object' && customer !== null && !('deleted' in customer && customer.deleted) ? (customer as Stripe.Customer).email : undefined;
	return { ...(customerId ? { customerId } : {}), ...(email ? { email } : {}) };
}

async function paymentFacts(access: StripeAccess, paymentIntent: Stripe.PaymentIntent): Promise<PaymentFacts> {
	const charge = typeof paymentIntent.latest_charge === 'object' && paymentIntent.latest_charge !== null ? paymentIntent.latest_charge : undefined;
	if (charge === undefined) return { refunded: false, disputed: false };
	let disputed = false;
	if (charge.disputed) {
		const disputes = await read(access, (stripe) => stripe.disputes.list({ payment_intent: paymentIntent.id, limit: 100 }));
		disputed = disputes.data.some((dispute) => DISPUTE_REVOKES.has(dispute.status));
	}
	return { refunded: charge.refunded === true, disputed };
}

async function subscriptionState(access: StripeAccess, id: string): Promise<RootState> {
	const subscription = await read(access, (stripe) =>
		stripe.subscriptions.retrieve(id, { expand: ['items.data.price', 'customer', 'latest_invoice'] }),
	);
	// A subscription lists its first items; a long one is read to the end.
	const items = subscription.items.has_more
		? await read(access, (stripe) => stripe.subscriptionItems.list({ subscription: id, limit: 100, expand: ['data.price'] }).autoPagingToArray({ limit: MAX_LINE_ITEMS }))
		: subscription.items.data;
	const lines: Line[] = items.map((item) => ({
		key: item.id,
		...(priceInfo(item.price) ? { price: priceInfo(item.price) } : {}),
		quantity: item.quantity ?? 1,
		...(typeof item.current_period_end === 'number' ? { periodEnd: item.current_period_end } : {}),
	}));
	const invoice = typeof subscription.latest_invoice === 'object' ? subscription.latest_invoice : null;
	let latestPayment: PaymentFacts | undefined;
	if (invoice !== null && invoice.status === 'paid') {
		const payments = await read(access, (stripe) =>
			stripe.invoicePayments.list({ invoice: invoice.id as string, limit: 10, expand: ['data.payment.payment_intent.latest_charge'] }),
		);
		for (const payment of payments.data) {
			const intent = payment.payment?.payment_intent;
			if (payment.status !== 'paid' || typeof intent !== 'object' || intent === null) continue;
			const facts = await paymentFacts(access, intent);
			latestPayment = { refunded: (latestPayment?.refunded ?? true) && facts.refunded, disputed: (latestPayment?.disputed ?? false) || facts.disputed };
		}
	}
	return {
		kind: 'subscription',
		root: subscription.id,
		status: subscription.status as SubscriptionStatus,
		metadata: { ...(subscription.metadata ?? {}) },
		lines,
		...(latestPayment ? { latestPayment } : {}),
		linkage: { ...customerLinkage(subscription.customer), subscriptionId: subscription.id, livemode: subscription.livemode },
	};
}

async function sessionLines(access: StripeAccess, session: Stripe.Checkout.Session): Promise<Line[]> {
	let items = session.line_items?.data;
	if (items === undefined || session.line_items?.has_more) {
		items = await read(access, (stripe) => stripe.checkout.sessions.listLineItems(session.id, { limit: 100 }).autoPagingToArray({ limit: MAX_LINE_ITEMS }));
	}
	return items.map((item) => ({ key: item.id, ...(priceInfo(item.price) ? { price: priceInfo(item.price) } : {}), quantity: item.quantity ?? 1 }));
}

function sessionLinkage(session: Stripe.Checkout.Session): Linkage {
	const email = session.customer_details?.email ?? session.customer_email ?? undefined;
	const customerId = idOf(session.customer);
	const paymentIntentId = idOf(session.payment_intent);
	return {
		checkoutSessionId: session.id,
		livemode: session.livemode,
		...(customerId ? { customerId } : {}),
		...(email ? { email } : {}),
		...(paymentIntentId ? { paymentIntentId } : {}),
	};
}

async function paymentIntentState(access: StripeAccess, id: string): Promise<RootState> {
	const intent = await read(access, (stripe) => stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] }));
	const sessions = await read(access, (stripe) => stripe.checkout.sessions.list({ payment_intent: id, limit: 1, expand: ['data.line_items'] }));
	const session = sessions.data[0];
	if (session === undefined) {
		const payments = await read(access, (stripe) =>
			stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: id }, limit: 10, expand: ['data.invoice'] }),
		);
		for (const payment of payments.data) {
			const invoice = typeof payment.invoice === 'object' ? (payment.invoice as Stripe.Invoice) : undefined;
			const subscription = idOf(invoice?.parent?.subscription_details?.subscription);
			if (subscription !== undefined) return { kind: 'redirect', root: id, to: subscription };
		}
		return { kind: 'none', root: id, reason: `${id} was paid neither through Checkout nor for a subscription invoice: nothing to license` };
	}
	return {
		kind: 'payment',
		root: id,
		paid: intent.status === 'succeeded' || session.payment_status === 'paid',
		payment: await paymentFacts(access, intent),
		metadata: { ...(session.metadata ?? {}) },
		lines: await sessionLines(access, session),
		// The session knows the buyer's email even for a guest checkout; the intent may name the customer.
		linkage: { ...customerLinkage(intent.customer), ...sessionLinkage(session), paymentIntentId: id },
	};
}

async function sessionState(access: StripeAccess, id: string): Promise<RootState> {
	const session = await read(access, (stripe) => stripe.checkout.sessions.retrieve(id, { expand: ['line_items'] }));
	const paymentIntent = idOf(session.payment_intent);
	if (paymentIntent !== undefined) return { kind: 'redirect', root: id, to: paymentIntent };
	if (session.mode !== 'payment') return { kind: 'none', root: id, reason: `${id} is a ${session.mode} session: its subscription is the root` };
	return {
		kind: 'payment',
		root: id,
		paid: session.payment_status === 'paid' || session.payment_status === 'no_payment_required',
		payment: { refunded: false, disputed: false },
		metadata: { ...(session.metadata ?? {}) },
		lines: await sessionLines(access, session),
		linkage: sessionLinkage(session),
	};
}

/** The root's state as Stripe has it now. */
export async function fetchRoot(access: StripeAccess, root: string): Promise<RootState> {
	try {
		if (root.startsWith('sub_')) return await subscriptionState(access, root);
		if (root.startsWith('pi_')) return await paymentIntentState(access, root);
		if (root.startsWith('cs_')) return await sessionState(access, root);
	} catch (error) {
		if (isMissing(error)) return { kind: 'none', root, reason: `Stripe does not know ${root} (with this STRIPE_API_KEY and mode)` };
		throw error;
	}
	return { kind: 'none', root, reason: `${root} is not a subscription, payment intent or checkout session id` };
}
