// checkout.session.completed and checkout.session.async_payment_succeeded.
// Mode payment: the session is a one-off purchase, rooted at its payment intent (else the session itself).
// Mode subscription: the session links buyer and subscription; the subscription events carry the rest.

import type { HandlerResult, Linkage, RootFacts, SeatLine } from '../model.js';
import { idOf } from '../stripe/accessors.js';
import type { CheckoutSession, LineItem, StripeEvent } from '../stripe/types.js';
import { eventObject, ignoredResult, type HandlerContext } from './context.js';
import { mapLines, planFromMetadata, unmappedDetail, withUnmappedWarning, type LineCandidate } from './plans.js';

const ASYNC_PAYMENT_SUCCEEDED = 'checkout.session.async_payment_succeeded';
/** The line key of the single seat a session's own metadata buys when its line items are unknown. */
export const SESSION_METADATA_LINE = 'session-metadata';

/** The session id when the handler would need line items that the event does not carry. */
export function checkoutSessionNeedingLineItems(event: StripeEvent): string | undefined {
	if (event.type !== 'checkout.session.completed' && event.type !== ASYNC_PAYMENT_SUCCEEDED) return undefined;
	const session = event.data?.object as Partial<CheckoutSession> | null | undefined;
	if (typeof session?.id !== 'string' || session.mode === 'setup') return undefined;
	return session.line_items === undefined ? session.id : undefined;
}

function sessionLinkage(session: CheckoutSession): Linkage {
	const linkage: Linkage = { checkoutSessionId: session.id, livemode: session.livemode };
	const customerId = idOf(session.customer);
	const email = session.customer_details?.email ?? session.customer_email ?? undefined;
	if (customerId !== undefined) linkage.customerId = customerId;
	if (email !== undefined) linkage.email = email;
	return linkage;
}

interface SessionLines {
	lines: SeatLine[];
	unmapped: string[];
	/** False when neither the event, the caller nor the session's metadata says what was bought. */
	known: boolean;
}

function sessionLines(session: CheckoutSession, ctx: HandlerContext): SessionLines {
	const ownPlan = planFromMetadata(session.metadata, `checkout session ${session.id} metadata`);
	const items: LineItem[] | undefined = session.line_items?.data ?? ctx.lineItems;
	if (items === undefined) {
		if (ownPlan === undefined) return { lines: [], unmapped: [], known: false };
		return { lines: [{ lineKey: SESSION_METADATA_LINE, plan: ownPlan, count: 1 }], unmapped: [], known: true };
	}
	const candidates: LineCandidate[] = items.map((item) => ({
		lineKey: item.price?.id ?? item.id,
		...(item.price === null ? {} : { price: item.price }),
		count: item.quantity ?? 1,
	}));
	return { ...mapLines(candidates, ownPlan, ctx.plans), known: true };
}

const LINES_UNKNOWN =
	'line items are not in the event: set STRIPE_API_KEY so the worker can read them, ' +
	'or set keycrate_duration_unit and keycrate_duration_value in the session metadata';

export function handleCheckoutSession(event: StripeEvent, ctx: HandlerContext): HandlerResult {
	const session = eventObject<CheckoutSession>(event, 'checkout.session');
	if (session.mode !== 'payment' && session.mode !== 'subscription') {
		return ignoredResult({ reason: 'event_type_not_handled', type: `${event.type} (mode ${session.mode})` });
	}
	const paid =
		event.type === ASYNC_PAYMENT_SUCCEEDED ||
		session.payment_status === 'paid' ||
		session.payment_status === 'no_payment_required';
	return session.mode === 'payment' ? paymentSession(event, session, paid, ctx) : subscriptionSession(event, session, paid, ctx);
}

function paymentSession(event: StripeEvent, session: CheckoutSession, paid: boolean, ctx: HandlerContext): HandlerResult {
	if (!paid) {
		return ignoredResult({
			reason: 'not_paid',
			detail: `checkout session ${session.id} is ${session.payment_status}; licenses follow its ${ASYNC_PAYMENT_SUCCEEDED}`,
		});
	}
	const { lines, unmapped, known } = sessionLines(session, ctx);
	if (!known) return ignoredResult({ reason: 'unmapped_purchase', detail: `checkout session ${session.id}: ${LINES_UNKNOWN}`, priceIds: [] });
	if (lines.length === 0) {
		return ignoredResult({ reason: 'unmapped_purchase', detail: unmappedDetail(unmapped, 'checkout session'), priceIds: unmapped });
	}
	const paymentIntentId = idOf(session.payment_intent);
	const linkage = sessionLinkage(session);
	if (paymentIntentId !== undefined) linkage.paymentIntentId = paymentIntentId;
	const facts: RootFacts = {
		root: `pay:${paymentIntentId ?? session.id}`,
		kind: 'payment',
		entitled: true,
		linkage,
		lines: { value: lines, asOf: event.created, rank: 0 },
		...(paymentIntentId === undefined ? {} : { paymentIntentIds: [paymentIntentId] }),
	};
	return withUnmappedWarning({ facts: [facts], revocations: [] }, unmapped, 'checkout session');
}

function subscriptionSession(event: StripeEvent, session: CheckoutSession, paid: boolean, ctx: HandlerContext): HandlerResult {
	const subscriptionId = idOf(session.subscription);
	if (subscriptionId === undefined) {
		return ignoredResult({ reason: 'no_root', detail: `checkout session ${session.id} (mode subscription) names no subscription` });
	}
	const { lines, unmapped, known } = sessionLines(session, ctx);
	if (known && lines.length === 0) {
		return ignoredResult({ reason: 'unmapped_purchase', detail: unmappedDetail(unmapped, 'checkout session'), priceIds: unmapped });
	}
	const facts: RootFacts = {
		root: `sub:${subscriptionId}`,
		kind: 'subscription',
		linkage: { ...sessionLinkage(session), subscriptionId },
	};
	if (known) {
		facts.lines = { value: lines, asOf: event.created, rank: 0 };
		if (paid) facts.entitled = true;
	}
	return withUnmappedWarning({ facts: [facts], revocations: [] }, unmapped, 'checkout session');
}
