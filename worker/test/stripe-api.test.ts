// Reads from the Stripe API through the stripe package, pointed at a local fake by STRIPE_API_BASE.

import { loadConfig, type Config } from '../src/config.js';
import { fetchCheckoutLineItems, fetchSubscription } from '../src/stripe/api.js';
import { startFakeStripeApi, type FakeStripeApi } from './support/fake-stripe-api.js';
import { checkoutLineItem, stripePrice, subscriptionEvent } from '../src/stripe/example-events.js';

let fake: FakeStripeApi;
let config: Config;
const STRIPE_KEY = 'sk_test_fake_0123456789';

beforeAll(async () => {
	fake = await startFakeStripeApi();
	config = loadConfig({ STRIPE_API_KEY: STRIPE_KEY, STRIPE_API_BASE: fake.url }, 'inspect');
});
afterAll(() => fake.stop());

function configFor(env: Record<string, string>): Config {
	return { ...config, stripeApiKey: env.STRIPE_API_KEY, stripeApiBase: env.STRIPE_API_BASE };
}

describe('fetchCheckoutLineItems', () => {
	it('reads every page of line items with their prices, authenticated with STRIPE_API_KEY', async () => {
		const price = stripePrice({ lookupKey: 'pro', metadata: { keycrate_duration_unit: 'lifetime' } });
		const items = Array.from({ length: 130 }, (_, index) => checkoutLineItem({ price, quantity: index + 1 }));
		fake.lineItems.set('cs_test_a1Paged', items);
		const fetched = await fetchCheckoutLineItems(configFor({ STRIPE_API_KEY: STRIPE_KEY, STRIPE_API_BASE: fake.url }), 'cs_test_a1Paged');
		expect(fetched).toHaveLength(130);
		expect(fetched[0]).toEqual({ id: items[0].id, quantity: 1, price: { id: price.id, lookup_key: 'pro', metadata: { keycrate_duration_unit: 'lifetime' } } });
		expect(fetched.map((item) => item.id)).toEqual(items.map((item) => item.id));
		const calls = fake.requests.filter((request) => request.path === '/v1/checkout/sessions/cs_test_a1Paged/line_items');
		expect(calls.map((call) => [call.query.get('limit'), call.query.get('starting_after')])).toEqual([
			['100', null],
			['100', items[99].id],
		]);
		expect(calls[0].authorization).toBe(`Bearer ${STRIPE_KEY}`);
	});

	it('fails with Stripe\'s message for an unknown session', async () => {
		await expect(fetchCheckoutLineItems(configFor({ STRIPE_API_KEY: STRIPE_KEY, STRIPE_API_BASE: fake.url }), 'cs_test_a1Missing')).rejects.toThrow(
			"No such checkout.session: 'cs_test_a1Missing'",
		);
	});

	it('refuses to run without STRIPE_API_KEY', async () => {
		await expect(fetchCheckoutLineItems({ ...config, stripeApiKey: undefined }, 'cs_1')).rejects.toThrow(
			'STRIPE_API_KEY is not set: cannot read from the Stripe API',
		);
	});
});

describe('fetchSubscription', () => {
	it('reads a subscription in the current shape', async () => {
		const price = stripePrice({ recurring: { interval: 'month' } });
		const event = subscriptionEvent('updated', { id: 'sub_1Fetched', items: [{ price, quantity: 3 }], periodEnd: 1765000000 }, { apiShape: 'current' });
		fake.subscriptions.set('sub_1Fetched', event.data.object as Record<string, unknown>);
		const subscription = await fetchSubscription(configFor({ STRIPE_API_KEY: STRIPE_KEY, STRIPE_API_BASE: fake.url }), 'sub_1Fetched');
		expect(subscription).toMatchObject({ id: 'sub_1Fetched', object: 'subscription', status: 'active', livemode: false });
		expect(subscription.items.data).toEqual([
			{ id: expect.stringMatching(/^si_/), quantity: 3, current_period_end: 1765000000, price: { id: price.id, lookup_key: null, metadata: {} } },
		]);
	});
});
