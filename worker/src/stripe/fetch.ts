// Reads a root's CURRENT state from Stripe (pinned API version, expanded in as few calls as Stripe allows) and
// narrows it to the worker's model. No decisions here: desired.ts makes them.
//
//   sub_…  1  subscriptions.retrieve (items + prices, customer)
//          1  invoices.list of the subscription, newest 100, with their payments (each one's payment intent)
//          1+ charges.list of the customer since the oldest invoice that still matters, with their refunds
//             (a page per 100 charges); a payment not among them costs a paymentIntents.retrieve
//          +1 per disputed charge: disputes.list by charge (open, lost or won is only on the dispute)
//          (+1 per invoice with more payments than the list embeds: invoicePayments.list)
//   pi_…   checkout.sessions.list by payment intent (line items) + paymentIntents.retrieve (latest charge +
//          refunds), +1 if disputed; no session → invoicePayments.list by payment intent: a subscription
//          invoice's payment redirects (2 calls)
//   cs_…   checkout.sessions.retrieve (line items): a session that charged nothing

import Stripe from 'stripe';
import type { InvoiceFacts, InvoiceStatus, Line, Linkage, PaymentFacts, PriceInfo, RootState, SubscriptionStatus, UnixSeconds } from '../model.js';
import { isStripeRateLimit } from './client.js';
import { idOf } from './roots.js';

/** Lists beyond their first page are read on (line items, items, charges, payments); this bounds a runaway one. */
const MAX_LISTED = 1000;

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
export async function read<T>(access: StripeAccess, call: (stripe: Stripe) => Promise<T>): Promise<T> {
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
	const email =
		typeof customer === 'object' && customer !== null && !('deleted' in customer && customer.deleted) ? (customer as Stripe.Customer).email : undefined;
	return { ...(customerId ? { customerId } : {}), ...(email ? { email } : {}) };
}

/** The refunds that still hold money back: a failed or canceled refund put it back. */
const REFUND_GONE = new Set(['failed', 'canceled']);

/** A charge's facts; disputes.list only when it is disputed (the dispute's status says open, won or lost). */
async function chargeFacts(access: StripeAccess, charge: Stripe.Charge | undefined, paymentIntentId: string): Promise<PaymentFacts> {
	if (charge === undefined) return { paymentIntentId, refunded: false, disputes: [] };
	const refunds = charge.refunds;
	// The refunds, when Stripe listed them all; else the charge's own flag (true only when refunded in full).
	const refunded =
		refunds !== undefined && refunds !== null && !refunds.has_more
			? refunds.data.filter((refund) => !REFUND_GONE.has(refund.status ?? '')).reduce((sum, refund) => sum + refund.amount, 0) >=
				(charge.amount_captured || charge.amount)
			: charge.refunded === true;
	let disputes: string[] = [];
	if (charge.disputed) {
		const listed = await read(access, (stripe) => stripe.disputes.list({ charge: charge.id, limit: 100 }));
		disputes = listed.data.map((dispute) => dispute.status);
	}
	return { paymentIntentId, created: charge.created, refunded, disputes };
}

function expandedCharge(intent: Stripe.PaymentIntent): Stripe.Charge | undefined {
	return typeof intent.latest_charge === 'object' && intent.latest_charge !== null ? intent.latest_charge : undefined;
}

/** The period an invoice's non-proration lines bill; undefined when it bills none (a proration invoice). */
function coveredPeriod(invoice: Stripe.Invoice): InvoiceFacts['covers'] {
	const periods = (invoice.lines?.data ?? [])
		.filter((line) => {
			const parent = line.parent;
			const proration = parent?.subscription_item_details?.proration ?? parent?.invoice_item_details?.proration ?? (line as { proration?: boolean }).proration;
			return proration !== true && line.period !== undefined && line.period !== null;
		})
		.map((line) => line.period);
	if (periods.length === 0) return undefined;
	return { start: Math.max(...periods.map((period) => period.start)), end: Math.max(...periods.map((period) => period.end)) };
}

/** A payment that paid an invoice: a payment intent, or (older integrations) a bare charge. */
interface PaidBy {
	intent?: string;
	charge?: string;
}

/** The paid payments of an invoice: its `payments` (expanded on the list), paged on when Stripe cut the list short. */
async function paymentsOf(access: StripeAccess, invoice: Stripe.Invoice): Promise<PaidBy[]> {
	let payments = invoice.payments?.data ?? [];
	if (invoice.payments?.has_more) {
		payments = await read(access, (stripe) =>
			stripe.invoicePayments.list({ invoice: invoice.id as string, limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }),
		);
	}
	return payments.flatMap((payment) => {
		if (payment.status !== 'paid') return [];
		const intent = idOf(payment.payment?.payment_intent);
		const charge = idOf(payment.payment?.charge);
		return intent !== undefined || charge !== undefined ? [{ ...(intent ? { intent } : {}), ...(charge ? { charge } : {}) }] : [];
	});
}

export interface ReadWindow {
	now: UnixSeconds;
	/** Payments older than this many seconds are not read for disputes (DISPUTE_WINDOW_DAYS). */
	disputeWindowSeconds: number;
}

/** The charges of the customer since `since` that succeeded, by payment intent and by charge id; with their refunds. */
async function chargesOf(access: StripeAccess, customer: string | undefined, since: UnixSeconds): Promise<Map<string, Stripe.Charge>> {
	const byIntent = new Map<string, Stripe.Charge>();
	if (customer === undefined) return byIntent;
	const charges = await read(access, (stripe) =>
		stripe.charges.list({ customer, created: { gte: since }, limit: 100, expand: ['data.refunds'] }).autoPagingToArray({ limit: MAX_LISTED }),
	);
	for (const charge of charges) {
		const intent = idOf(charge.payment_intent);
		// A payment intent retried after a failure has several charges: the one that succeeded paid.
		if (charge.status !== 'succeeded') continue;
		byIntent.set(charge.id, charge);
		if (intent !== undefined) byIntent.set(intent, charge);
	}
	return byIntent;
}

async function subscriptionState(access: StripeAccess, id: string, window: ReadWindow): Promise<RootState> {
	const subscription = await read(access, (stripe) => stripe.subscriptions.retrieve(id, { expand: ['items.data.price', 'customer'] }));
	// A subscription lists its first items; a long one is read to the end.
	const items = subscription.items.has_more
		? await read(access, (stripe) =>
				stripe.subscriptionItems.list({ subscription: id, limit: 100, expand: ['data.price'] }).autoPagingToArray({ limit: MAX_LISTED }),
			)
		: subscription.items.data;
	const lines: Line[] = items.map((item) => ({
		key: item.id,
		...(priceInfo(item.price) ? { price: priceInfo(item.price) } : {}),
		quantity: item.quantity ?? 1,
		...(typeof item.price === 'object' && item.price?.recurring?.usage_type === 'metered' ? { metered: true } : {}),
	}));
	// Newest first; 100 invoices are years of renewals, far past any dispute window or paid period that matters.
	const listed = await read(access, (stripe) => stripe.invoices.list({ subscription: id, limit: 100, expand: ['data.payments'] }));
	const oldest = window.now - window.disputeWindowSeconds;
	// Payments whose charge is read: those of the dispute window, and of any invoice whose period reaches into it.
	const matters = (invoice: Stripe.Invoice) => invoice.status === 'paid' && (invoice.created >= oldest || (coveredPeriod(invoice)?.end ?? 0) >= oldest);
	const paidBy = new Map<string, PaidBy[]>();
	for (const invoice of listed.data) if (invoice.status === 'paid') paidBy.set(invoice.id as string, await paymentsOf(access, invoice));
	const relevant = listed.data.filter((invoice) => matters(invoice) && (paidBy.get(invoice.id as string) ?? []).length > 0);
	const since = Math.min(...relevant.map((invoice) => invoice.created), window.now) - 86400;
	const charges = relevant.length > 0 ? await chargesOf(access, idOf(subscription.customer), since) : new Map<string, Stripe.Charge>();
	const invoices: InvoiceFacts[] = [];
	for (const invoice of listed.data) {
		const payments: PaymentFacts[] = [];
		for (const { intent, charge: chargeId } of paidBy.get(invoice.id as string) ?? []) {
			const paymentIntentId = intent ?? chargeId ?? '';
			if (!matters(invoice)) {
				payments.push({ paymentIntentId, refunded: false, disputes: [] });
				continue;
			}
			let charge = charges.get(paymentIntentId);
			if (charge === undefined && intent !== undefined) {
				const retrieved = await read(access, (stripe) => stripe.paymentIntents.retrieve(intent, { expand: ['latest_charge.refunds'] }));
				charge = expandedCharge(retrieved);
			} else if (charge === undefined && chargeId !== undefined) {
				charge = await read(access, (stripe) => stripe.charges.retrieve(chargeId, { expand: ['refunds'] }));
			}
			payments.push(await chargeFacts(access, charge, paymentIntentId));
		}
		const covers = coveredPeriod(invoice);
		invoices.push({
			id: invoice.id as string,
			status: (invoice.status ?? 'draft') as InvoiceStatus,
			created: invoice.created,
			...(covers ? { covers } : {}),
			payments,
		});
	}
	const customer = customerLinkage(subscription.customer);
	const email =
		customer.email ??
		listed.data.find((invoice) => invoice.customer_email)?.customer_email ??
		[...charges.values()].find((charge) => charge.billing_details?.email)?.billing_details.email ??
		undefined;
	return {
		kind: 'subscription',
		root: subscription.id,
		status: subscription.status as SubscriptionStatus,
		metadata: { ...(subscription.metadata ?? {}) },
		lines,
		invoices,
		linkage: { ...customer, ...(email ? { email } : {}), subscriptionId: subscription.id, livemode: subscription.livemode },
	};
}

async function sessionLines(access: StripeAccess, session: Stripe.Checkout.Session): Promise<Line[]> {
	let items = session.line_items?.data;
	if (items === undefined || session.line_items?.has_more) {
		items = await read(access, (stripe) => stripe.checkout.sessions.listLineItems(session.id, { limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }));
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
	// The session first: a subscription invoice's payment (most payment intents a sync sees) needs no retrieve.
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
		// Unknown to Stripe (a 404 here says so), or sold outside Checkout and subscriptions.
		await read(access, (stripe) => stripe.paymentIntents.retrieve(id));
		return { kind: 'none', root: id, reason: `${id} was paid neither through Checkout nor for a subscription invoice: nothing to license` };
	}
	const intent = await read(access, (stripe) => stripe.paymentIntents.retrieve(id, { expand: ['latest_charge.refunds'] }));
	const charge = expandedCharge(intent);
	const linkage: Linkage = { ...customerLinkage(intent.customer), ...sessionLinkage(session), paymentIntentId: id };
	// The session knows the buyer's email even for a guest checkout; else the card's billing email.
	const billingEmail = charge?.billing_details?.email;
	return {
		kind: 'payment',
		root: id,
		// Succeeded only: an authorization not yet captured (requires_capture) or canceled has paid nothing.
		paid: intent.status === 'succeeded',
		payment: await chargeFacts(access, charge, id),
		metadata: { ...(session.metadata ?? {}) },
		lines: await sessionLines(access, session),
		linkage: linkage.email === undefined && billingEmail ? { ...linkage, email: billingEmail } : linkage,
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
		payment: { refunded: false, disputes: [] },
		metadata: { ...(session.metadata ?? {}) },
		lines: await sessionLines(access, session),
		linkage: sessionLinkage(session),
	};
}

/** The root's state as Stripe has it now. */
export async function fetchRoot(access: StripeAccess, root: string, window: ReadWindow): Promise<RootState> {
	try {
		if (root.startsWith('sub_')) return await subscriptionState(access, root, window);
		if (root.startsWith('pi_')) return await paymentIntentState(access, root);
		if (root.startsWith('cs_')) return await sessionState(access, root);
	} catch (error) {
		if (isMissing(error)) return { kind: 'none', root, reason: `Stripe does not know ${root} (with this STRIPE_API_KEY and mode)` };
		throw error;
	}
	return { kind: 'none', root, reason: `${root} is not a subscription, payment intent or checkout session id` };
}
