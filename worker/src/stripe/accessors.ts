// Reads of fields that moved between Stripe API versions: each accessor prefers the legacy field when the
// payload has it and falls back to the current location, so one handler serves every API version.

import type { Invoice, InvoiceLine, PriceRef, Ref, StripeMetadata, Subscription } from './types.js';

export function idOf(ref: Ref | null | undefined): string | undefined {
	if (ref === null || ref === undefined) return undefined;
	return typeof ref === 'string' ? ref : ref.id;
}

/** Legacy `subscription.current_period_end`, else the latest `items.data[].current_period_end`. */
export function subscriptionPeriodEnd(subscription: Subscription): number | undefined {
	if (typeof subscription.current_period_end === 'number') return subscription.current_period_end;
	const ends = subscription.items.data
		.map((item) => item.current_period_end)
		.filter((end): end is number => typeof end === 'number');
	return ends.length > 0 ? Math.max(...ends) : undefined;
}

/** Legacy `invoice.subscription`, else `invoice.parent.subscription_details.subscription`. */
export function invoiceSubscriptionId(invoice: Invoice): string | undefined {
	return idOf(invoice.subscription) ?? idOf(invoice.parent?.subscription_details?.subscription);
}

/** The subscription's metadata as snapshotted on the invoice (legacy `subscription_details`, current `parent`). */
export function invoiceSubscriptionMetadata(invoice: Invoice): StripeMetadata | undefined {
	return invoice.subscription_details?.metadata ?? invoice.parent?.subscription_details?.metadata ?? undefined;
}

/** Legacy `invoice.payment_intent`, else the first `invoice.payments.data[].payment.payment_intent`. */
export function invoicePaymentIntentId(invoice: Invoice): string | undefined {
	const legacy = idOf(invoice.payment_intent);
	if (legacy !== undefined) return legacy;
	for (const entry of invoice.payments?.data ?? []) {
		const paymentIntentId = idOf(entry.payment.payment_intent);
		if (paymentIntentId !== undefined) return paymentIntentId;
	}
	return undefined;
}

/** Legacy `line.price` (an object), else `line.pricing.price_details.price` (usually just the id). */
export function invoiceLinePrice(line: InvoiceLine): PriceRef | undefined {
	return line.price ?? line.pricing?.price_details?.price ?? undefined;
}

/** Legacy `line.subscription_item`, else `line.parent.subscription_item_details.subscription_item`. */
export function invoiceLineSubscriptionItemId(line: InvoiceLine): string | undefined {
	return line.subscription_item ?? line.parent?.subscription_item_details?.subscription_item ?? undefined;
}

/** Legacy `line.proration`, else `line.parent.subscription_item_details.proration`. */
export function invoiceLineIsProration(line: InvoiceLine): boolean {
	return line.proration === true || line.parent?.subscription_item_details?.proration === true;
}
