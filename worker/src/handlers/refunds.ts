// charge.refunded (full refunds only) and charge.dispute.created: the licenses bought with that payment intent
// are revoked. The ledger finds the root by payment intent, now or when the purchase event arrives later.

import type { HandlerResult } from '../model.js';
import { idOf } from '../stripe/accessors.js';
import type { Charge, Dispute, StripeEvent } from '../stripe/types.js';
import { eventObject, ignoredResult } from './context.js';

export function handleChargeRefunded(event: StripeEvent): HandlerResult {
	const charge = eventObject<Charge>(event, 'charge');
	const fullyRefunded = charge.refunded === true || charge.amount_refunded >= charge.amount;
	if (!fullyRefunded) {
		return ignoredResult({
			reason: 'partial_refund',
			detail: `charge ${charge.id} refunded ${charge.amount_refunded} of ${charge.amount}; licenses stay until it is fully refunded`,
		});
	}
	const paymentIntentId = idOf(charge.payment_intent);
	if (paymentIntentId === undefined) {
		return ignoredResult({ reason: 'no_root', detail: `charge ${charge.id} has no payment intent, so no purchase of ours` });
	}
	return { facts: [], revocations: [{ paymentIntentId, asOf: event.created, reason: 'refund' }] };
}

export function handleDisputeCreated(event: StripeEvent): HandlerResult {
	const dispute = eventObject<Dispute>(event, 'dispute');
	const paymentIntentId = idOf(dispute.payment_intent);
	if (paymentIntentId === undefined) {
		return ignoredResult({ reason: 'no_root', detail: `dispute ${dispute.id} has no payment intent, so no purchase of ours` });
	}
	return { facts: [], revocations: [{ paymentIntentId, asOf: event.created, reason: 'dispute' }] };
}
