// Stripe event → HandlerResult: pure, no I/O. The table below is the list of events the worker acts on.

import type { HandlerResult } from '../model.js';
import type { StripeEvent } from '../stripe/types.js';
import { handleCheckoutSession } from './checkout.js';
import { ignoredResult, type Handler, type HandlerContext } from './context.js';
import { handleInvoicePaid } from './invoice.js';
import { handleChargeRefunded, handleDisputeCreated } from './refunds.js';
import { handleSubscriptionEvent } from './subscription.js';

export { checkoutSessionNeedingLineItems, SESSION_METADATA_LINE } from './checkout.js';
export { PermanentEventError, type HandlerContext } from './context.js';
export { licenseStatusFor, SUBSCRIPTION_EVENT_RANK } from './subscription.js';

const HANDLERS: Readonly<Record<string, Handler>> = {
	'checkout.session.completed': handleCheckoutSession,
	'checkout.session.async_payment_succeeded': handleCheckoutSession,
	'customer.subscription.created': handleSubscriptionEvent,
	'customer.subscription.updated': handleSubscriptionEvent,
	'customer.subscription.deleted': handleSubscriptionEvent,
	'customer.subscription.paused': handleSubscriptionEvent,
	'customer.subscription.resumed': handleSubscriptionEvent,
	'invoice.paid': handleInvoicePaid,
	'charge.refunded': handleChargeRefunded,
	'charge.dispute.created': handleDisputeCreated,
};

export const HANDLED_EVENT_TYPES: readonly string[] = Object.keys(HANDLERS);

/** Throws PermanentEventError for an event that can never be processed (its message names the field). */
export function handleEvent(event: StripeEvent, ctx: HandlerContext): HandlerResult {
	const handler = Object.hasOwn(HANDLERS, event.type) ? HANDLERS[event.type] : undefined;
	if (handler === undefined) return ignoredResult({ reason: 'event_type_not_handled', type: event.type });
	return handler(event, ctx);
}
