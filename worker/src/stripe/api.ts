// Reads from Stripe's API, for what a webhook payload leaves out: a Checkout Session's line items.
// Only used when STRIPE_API_KEY is set; STRIPE_API_BASE points the client at another host (tests, stripe-mock).

import Stripe from 'stripe';
import type { Config } from '../config.js';
import type { LineItem, Subscription } from './types.js';

/** A session has at most a few hundred line items; this bounds a runaway pagination all the same. */
const MAX_LINE_ITEMS = 1000;

const clients = new WeakMap<Config, Stripe>();

function stripeClient(config: Config): Stripe {
	if (config.stripeApiKey === undefined) throw new Error('STRIPE_API_KEY is not set: cannot read from the Stripe API');
	let client = clients.get(config);
	if (client === undefined) {
		const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20000, telemetry: false };
		if (config.stripeApiBase !== undefined) {
			const base = new URL(config.stripeApiBase);
			options.host = base.hostname;
			options.protocol = base.protocol === 'http:' ? 'http' : 'https';
			if (base.port !== '') options.port = Number(base.port);
		}
		client = new Stripe(config.stripeApiKey, options);
		clients.set(config, client);
	}
	return client;
}

/** All line items of a Checkout Session, with their prices (id, lookup_key, metadata). */
export async function fetchCheckoutLineItems(config: Config, sessionId: string): Promise<LineItem[]> {
	const items = await stripeClient(config)
		.checkout.sessions.listLineItems(sessionId, { limit: 100 })
		.autoPagingToArray({ limit: MAX_LINE_ITEMS });
	return items.map((item) => ({
		id: item.id,
		quantity: item.quantity,
		price:
			item.price === null
				? null
				: { id: item.price.id, lookup_key: item.price.lookup_key, metadata: item.price.metadata },
	}));
}

/** The subscription as Stripe has it now (current API shape). */
export async function fetchSubscription(config: Config, subscriptionId: string): Promise<Subscription> {
	const subscription = await stripeClient(config).subscriptions.retrieve(subscriptionId);
	return {
		id: subscription.id,
		object: 'subscription',
		customer: typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id,
		status: subscription.status,
		metadata: subscription.metadata,
		livemode: subscription.livemode,
		items: {
			data: subscription.items.data.map((item) => ({
				id: item.id,
				quantity: item.quantity,
				current_period_end: item.current_period_end,
				price: { id: item.price.id, lookup_key: item.price.lookup_key, metadata: item.price.metadata },
			})),
		},
	};
}
