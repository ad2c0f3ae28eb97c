// What every handler receives besides the event, and the error that marks an event as never processable.

import type { PlanMap } from '../config.js';
import type { HandlerResult, SettableStatus } from '../model.js';
import type { LineItem, StripeEvent } from '../stripe/types.js';

export interface HandlerContext {
	plans: PlanMap;
	graceSeconds: number;
	/** The license status while a subscription is past_due (PAST_DUE_STATUS). */
	pastDueStatus: SettableStatus;
	/** A Checkout Session's line items, fetched by the caller when the payload lacks them (handlers do no I/O). */
	lineItems?: LineItem[];
}

export type Handler = (event: StripeEvent, ctx: HandlerContext) => HandlerResult;

/**
 * The event can never be processed as sent (bad keycrate_* metadata, a malformed object): retrying cannot help,
 * so the processor fails the job at once. The message names the offending field.
 */
export class PermanentEventError extends Error {
	constructor(message: string, readonly field?: string) {
		super(message);
		this.name = 'PermanentEventError';
	}
}

/** The event's `data.object`, checked to be the Stripe object the event type promises. */
export function eventObject<T extends { id: string }>(event: StripeEvent, objectType: string): T {
	const object = event.data?.object as { object?: unknown; id?: unknown } | null | undefined;
	if (typeof object !== 'object' || object === null || object.object !== objectType || typeof object.id !== 'string') {
		throw new PermanentEventError(`event ${event.id} (${event.type}): data.object must be a Stripe "${objectType}" object with an id`, 'data.object');
	}
	return object as unknown as T;
}

export function ignoredResult(ignored: NonNullable<HandlerResult['ignored']>): HandlerResult {
	return { facts: [], revocations: [], ignored };
}
