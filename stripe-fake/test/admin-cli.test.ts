/** The admin routes (the world-building calls as JSON, for other processes) and the CLI's argument parsing. */
import type Stripe from 'stripe';
import { parseCli, UsageError } from '../src/cli';
import { startStripeFake, type StripeFake } from '../src';

let fake: StripeFake;
beforeAll(async () => {
	fake = await startStripeFake();
});
afterAll(() => fake.stop());

async function admin<T>(method: 'GET' | 'POST', name: string, body?: unknown): Promise<{ status: number; body: T }> {
	const response = await fetch(`${fake.url}/__fake/${name}`, {
		method,
		headers: { 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: response.status, body: (await response.json()) as T };
}

test('a subscription story told over the admin routes', async () => {
	const customer = await admin<Stripe.Customer>('POST', 'createCustomer', { email: 'admin@example.com' });
	expect(customer.status).toBe(200);
	const price = await admin<Stripe.Price>('POST', 'createPrice', { unit_amount: 500, recurring: { interval: 'month' } });
	const created = await admin<{ subscription: Stripe.Subscription }>('POST', 'createSubscription', {
		customer: customer.body.id,
		items: [{ price: price.body.id, quantity: 2 }],
	});
	const id = created.body.subscription.id;
	expect((await admin('POST', 'renewSubscription', { subscription: id })).status).toBe(200);
	expect((await admin('POST', 'updateSubscription', { subscription: id, items: [{ price: price.body.id, quantity: 4 }] })).status).toBe(200);
	expect((await admin('POST', 'pauseSubscription', { subscription: id })).status).toBe(200);
	expect((await admin('POST', 'resumeSubscription', { subscription: id })).status).toBe(200);
	expect((await admin('POST', 'setSubscriptionStatus', { subscription: id, status: 'past_due' })).status).toBe(200);
	expect((await admin('POST', 'cancelSubscription', { subscription: id })).status).toBe(200);
	const stored = await admin<Stripe.Subscription>('GET', `objects/${id}`);
	expect(stored.body).toMatchObject({ status: 'canceled', items: { data: [{ quantity: 4 }] } });
	expect((await admin<Record<string, number>>('GET', 'objects')).body).toMatchObject({ subscription: 1, invoice: 2 });
	expect((await admin<Stripe.Event[]>('GET', 'events')).body.length).toBe(fake.events().length);
	expect((await admin<{ now: number }>('POST', 'advanceClock', { seconds: 60 })).body.now).toBe(fake.now());
	expect((await admin('POST', 'faults', { rateLimitPerSecond: 10 })).body).toEqual({ rateLimitPerSecond: 10 });
	expect((await admin('POST', 'reset')).status).toBe(200);
	expect(fake.objects().subscription).toBe(0);
});

test('payments, refunds and disputes over the admin routes', async () => {
	const customer = await admin<Stripe.Customer>('POST', 'createCustomer', { email: 'pay@example.com' });
	const price = await admin<Stripe.Price>('POST', 'createPrice', { unit_amount: 900 });
	const paid = await admin<{ payment_intent: Stripe.PaymentIntent }>('POST', 'checkoutPayment', {
		customer: customer.body.id,
		lines: [{ price: price.body.id }],
	});
	expect((await admin('POST', 'refund', { payment_intent: paid.body.payment_intent.id, amount: 100 })).status).toBe(200);
	const dispute = await admin<Stripe.Dispute>('POST', 'dispute', { payment_intent: paid.body.payment_intent.id });
	expect((await admin<Stripe.Dispute>('POST', 'closeDispute', { dispute: dispute.body.id, outcome: 'lost' })).body.status).toBe('lost');
	const unpaid = await admin<{ session: Stripe.Checkout.Session }>('POST', 'checkoutPayment', {
		customer: customer.body.id,
		lines: [{ price: price.body.id }],
		payment_status: 'unpaid',
	});
	expect(
		(await admin<{ session: Stripe.Checkout.Session }>('POST', 'completeAsyncPayment', { session: unpaid.body.session.id })).body.session.payment_status,
	).toBe('paid');
});

test('bad admin calls: 400 naming the field, 404 for what does not exist', async () => {
	expect(await admin('POST', 'createCustomer', { email: 'nope' })).toEqual({
		status: 400,
		body: { error: { type: 'invalid_request_error', message: 'email: must be an email address', param: 'email' } },
	});
	expect((await admin('POST', 'cancelSubscription', {})).body).toMatchObject({ error: { param: 'subscription' } });
	expect((await admin('POST', 'teleport', {})).status).toBe(404);
	expect((await admin('GET', 'objects/cus_missing')).status).toBe(404);
	const response = await fetch(`${fake.url}/__fake/createCustomer`, { method: 'POST', body: '{not json' });
	expect(response.status).toBe(400);
});

test.each([
	[[], {}, { port: 12111, host: '127.0.0.1', webhooks: [], autoDeliver: false, generatedSecret: false }],
	[
		['--port', '0', '--webhook-url', 'http://127.0.0.1:3000/w', '--webhook-secret', 'whsec_abcdefgh', '--auto-deliver'],
		{},
		{ port: 0, webhooks: [{ url: 'http://127.0.0.1:3000/w', secret: 'whsec_abcdefgh' }], autoDeliver: true, generatedSecret: false },
	],
	[['--webhook-url', 'http://a/1', '--webhook-url', 'http://a/2'], {}, { webhooks: [{ url: 'http://a/1' }, { url: 'http://a/2' }], generatedSecret: true }],
	[[], { STRIPE_FAKE_PORT: '4000', STRIPE_FAKE_API_KEY: 'sk_test_fromenv1' }, { port: 4000, apiKey: 'sk_test_fromenv1' }],
])('parseCli(%j, %j)', (argv, env, expected) => {
	expect(parseCli(argv, env)).toMatchObject(expected);
});

test.each([
	[['--port', 'eighty'], /--port must be an integer/],
	[['--port', '70000'], /--port must be an integer/],
	[['--webhook-secret', 'whsec_abcdefgh'], /--webhook-secret needs --webhook-url/],
	[['--colour'], /Unknown option/],
])('parseCli(%j) refuses with one line', (argv, message) => {
	expect(() => parseCli(argv, {})).toThrow(UsageError);
	expect(() => parseCli(argv, {})).toThrow(message);
});
