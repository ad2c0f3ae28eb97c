// customer.subscription.created|updated|deleted|paused|resumed: the subscription's items are its seats, its
// status is the licenses' status, and its period end (+ grace) is the least expiry they must have.

import type { HandlerResult, RootFacts, SettableStatus } from '../model.js';
import { idOf, subscriptionPeriodEnd } from '../stripe/accessors.js';
import type { StripeEvent, Subscription, SubscriptionStatus } from '../stripe/types.js';
import { eventObject, ignoredResult, PermanentEventError, type HandlerContext } from './context.js';
import { mapLines, planFromMetadata, unmappedDetail, withUnmappedWarning } from './plans.js';

/**
 * Orders facts stamped in the same second: a deletion beats an update, an update beats the creation.
 * Exported for tests and for readers of the ledger.
 */
export const SUBSCRIPTION_EVENT_RANK: Readonly<Record<string, number>> = {
	'customer.subscription.created': 0,
	'customer.subscription.updated': 1,
	'customer.subscription.resumed': 1,
	'customer.subscription.paused': 1,
	'customer.subscription.deleted': 2,
};

/** The license status a subscription status asks for. `incomplete` waits for its first payment: paused. */
export function licenseStatusFor(status: SubscriptionStatus, pastDueStatus: SettableStatus): SettableStatus {
	switch (status) {
		case 'active':
		case 'trialing':
			return 'active';
		case 'past_due':
			return pastDueStatus;
		case 'canceled':
		case 'unpaid':
		case 'paused':
		case 'incomplete':
		case 'incomplete_expired':
			return 'paused';
	}
}

const KNOWN_STATUSES: readonly string[] = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'];

export function handleSubscriptionEvent(event: StripeEvent, ctx: HandlerContext): HandlerResult {
	const subscription = eventObject<Subscription>(event, 'subscription');
	if (!KNOWN_STATUSES.includes(subscription.status)) {
		throw new PermanentEventError(
			`subscription ${subscription.id}.status: unknown status ${JSON.stringify(subscription.status)} (known: ${KNOWN_STATUSES.join(', ')})`,
			'status',
		);
	}
	const items = subscription.items?.data ?? [];
	const ownPlan = planFromMetadata(subscription.metadata, `subscription ${subscription.id} metadata`);
	const { lines, unmapped } = mapLines(
		items.map((item) => ({ lineKey: item.id, price: item.price, count: item.quantity ?? 1 })),
		ownPlan,
		ctx.plans,
	);
	if (lines.length === 0) {
		return ignoredResult({ reason: 'unmapped_purchase', detail: unmappedDetail(unmapped, 'subscription'), priceIds: unmapped });
	}
	const rank = SUBSCRIPTION_EVENT_RANK[event.type] ?? 1;
	const status = licenseStatusFor(subscription.status, ctx.pastDueStatus);
	const customerId = idOf(subscription.customer);
	const facts: RootFacts = {
		root: `sub:${subscription.id}`,
		kind: 'subscription',
		linkage: { subscriptionId: subscription.id, livemode: subscription.livemode, ...(customerId === undefined ? {} : { customerId }) },
		lines: { value: lines, asOf: event.created, rank },
		status: { value: status, asOf: event.created, rank },
		entitled: status === 'active',
	};
	const periodEnd = subscriptionPeriodEnd(subscription);
	if (periodEnd !== undefined) facts.expiresAtLeast = periodEnd + ctx.graceSeconds;
	return withUnmappedWarning({ facts: [facts], revocations: [] }, unmapped, 'subscription');
}
