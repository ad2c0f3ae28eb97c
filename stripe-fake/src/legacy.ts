/**
 * An event as an endpoint pinned to an older API version (before 2025-03-31.basil) receives it: the same id and
 * type, the object in the older shape (`invoice.subscription`, `invoice.payment_intent`, `charge.invoice`,
 * the period on the subscription). For testing that such payloads still lead to their root.
 */
import type Stripe from 'stripe';
import type { Store } from './store';

export const LEGACY_API_VERSION = '2024-06-20';

type Loose = Record<string, unknown>;

export function legacyEvent(event: Stripe.Event, store: Store, apiVersion = LEGACY_API_VERSION): Stripe.Event {
	const result = structuredClone(event) as unknown as Loose & { data: { object: Loose } };
	result.api_version = apiVersion;
	const object = result.data.object;
	const invoiceOfIntent = (intent: unknown): string | null =>
		(store.all('invoice_payment').find((payment) => payment.payment.payment_intent === intent && payment.is_default)?.invoice as string | undefined) ?? null;
	switch (object.object) {
		case 'subscription': {
			const items = (object.items as Stripe.ApiList<Stripe.SubscriptionItem>).data;
			object.current_period_start = items[0]?.current_period_start ?? null;
			object.current_period_end = items[0]?.current_period_end ?? null;
			break;
		}
		case 'invoice': {
			const parent = object.parent as Stripe.Invoice.Parent | null;
			object.subscription = parent?.subscription_details?.subscription ?? null;
			object.subscription_details = { metadata: parent?.subscription_details?.metadata ?? null };
			delete object.parent;
			const payment = store.all('invoice_payment').find((candidate) => candidate.invoice === object.id && candidate.is_default);
			const intentId = (payment?.payment.payment_intent as string | undefined) ?? null;
			object.payment_intent = intentId;
			const intent = intentId ? store.get('payment_intent', intentId) : undefined;
			object.charge = (intent?.latest_charge as string | null | undefined) ?? null;
			break;
		}
		case 'charge':
		case 'payment_intent':
			object.invoice = invoiceOfIntent(object.object === 'charge' ? object.payment_intent : object.id);
			break;
	}
	return result as unknown as Stripe.Event;
}
