// invoice.paid of a subscription invoice: the subscription was paid through max(line period end), so its
// licenses must last until then (+ grace). Lines become seats only when the invoice lists them cleanly.

import type { HandlerResult, Linkage, RootFacts, SeatLine } from '../model.js';
import {
	idOf,
	invoiceLineIsProration,
	invoiceLinePrice,
	invoiceLineSubscriptionItemId,
	invoicePaymentIntentId,
	invoiceSubscriptionId,
	invoiceSubscriptionMetadata,
} from '../stripe/accessors.js';
import type { Invoice, StripeEvent } from '../stripe/types.js';
import { eventObject, ignoredResult, type HandlerContext } from './context.js';
import { mapLines, planFromMetadata, type LineCandidate } from './plans.js';

export function handleInvoicePaid(event: StripeEvent, ctx: HandlerContext): HandlerResult {
	const invoice = eventObject<Invoice>(event, 'invoice');
	const subscriptionId = invoiceSubscriptionId(invoice);
	if (subscriptionId === undefined) {
		return ignoredResult({ reason: 'no_root', detail: `invoice ${invoice.id} is not for a subscription; one-off invoices are not licensed` });
	}
	const paymentIntentId = invoicePaymentIntentId(invoice);
	const customerId = idOf(invoice.customer);
	const linkage: Linkage = { invoiceId: invoice.id, subscriptionId, livemode: invoice.livemode };
	if (customerId !== undefined) linkage.customerId = customerId;
	if (invoice.customer_email !== null && invoice.customer_email !== undefined) linkage.email = invoice.customer_email;

	const facts: RootFacts = { root: `sub:${subscriptionId}`, kind: 'subscription', entitled: true, linkage };
	const lineData = invoice.lines?.data ?? [];
	if (lineData.length > 0) facts.expiresAtLeast = Math.max(...lineData.map((line) => line.period.end)) + ctx.graceSeconds;
	const lines = seatLines(invoice, ctx);
	if (lines !== undefined) facts.lines = { value: lines, asOf: event.created, rank: 0 };
	if (paymentIntentId !== undefined) facts.paymentIntentIds = [paymentIntentId];
	return { facts: [facts], revocations: [] };
}

/**
 * The invoice's lines as seats, or undefined when they cannot be trusted as the whole picture: a proration,
 * a line that is no subscription item, a truncated list, or a line no plan covers (current API versions send
 * only the price id, so a plan kept in price metadata is invisible here; the subscription events carry it).
 */
function seatLines(invoice: Invoice, ctx: HandlerContext): SeatLine[] | undefined {
	const lineData = invoice.lines?.data ?? [];
	if (lineData.length === 0 || invoice.lines.has_more === true) return undefined;
	const candidates: LineCandidate[] = [];
	for (const line of lineData) {
		const itemId = invoiceLineSubscriptionItemId(line);
		const price = invoiceLinePrice(line);
		if (itemId === undefined || price === undefined || invoiceLineIsProration(line)) return undefined;
		candidates.push({ lineKey: itemId, price, count: line.quantity ?? 1 });
	}
	if (new Set(candidates.map((candidate) => candidate.lineKey)).size !== candidates.length) return undefined;
	const ownPlan = planFromMetadata(invoiceSubscriptionMetadata(invoice), `invoice ${invoice.id} subscription metadata`);
	const { lines, unmapped } = mapLines(candidates, ownPlan, ctx.plans);
	return unmapped.length === 0 ? lines : undefined;
}
