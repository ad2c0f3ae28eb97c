/** Stripe's error envelope as the real `stripe` client sees it: auth, missing objects, bad parameters, faults. */
import { request } from 'node:http';
import Stripe from 'stripe';
import { startStripeFake, type StripeFake } from '../src';
import { clientFor, fakeWithClient } from './support';

let fake: StripeFake;
let stripe: Stripe;

beforeAll(async () => {
	({ fake, stripe } = await fakeWithClient());
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

/** A raw GET, for what the client would not send. */
function get(
	path: string,
	headers: Record<string, string> = {},
	method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: { error: Record<string, string> } }> {
	return new Promise((resolve, reject) => {
		const req = request(`${fake.url}${path}`, { method, headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
		});
		req.on('error', reject);
		req.end();
	});
}

test('no key: 401 StripeAuthenticationError that says how to send one', async () => {
	const reply = await get('/v1/customers/cus_x');
	expect(reply.status).toBe(401);
	expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') });
	expect(reply.headers['request-id']).toMatch(/^req_/);
});

test('a wrong key: 401 StripeAuthenticationError naming the key redacted', async () => {
	const wrong = clientFor(fake, 'sk_test_0123456789abcdefWXYZ');
	const error = await wrong.customers.retrieve('cus_x').catch((e: unknown) => e);
	expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
	expect((error as Stripe.errors.StripeError).message).toBe('Invalid API Key provided: sk_test_****WXYZ');
	expect((error as Stripe.errors.StripeError).message).not.toContain('0123456789');
});

test('Basic auth with the key as user name works, as on Stripe', async () => {
	const customer = fake.createCustomer({ email: 'basic@example.com' });
	const reply = await get(`/v1/customers/${customer.id}`, { authorization: `Basic ${Buffer.from(`${fake.apiKey}:`).toString('base64')}` });
	expect(reply.status).toBe(200);
});

test.each([
	['customers', (s: Stripe) => s.customers.retrieve('cus_missing'), 'customer', 'cus_missing'],
	['prices', (s: Stripe) => s.prices.retrieve('price_missing'), 'price', 'price_missing'],
	['products', (s: Stripe) => s.products.retrieve('prod_missing'), 'product', 'prod_missing'],
	['checkout sessions', (s: Stripe) => s.checkout.sessions.retrieve('cs_missing'), 'checkout.session', 'cs_missing'],
	['line items', (s: Stripe) => s.checkout.sessions.listLineItems('cs_missing'), 'checkout.session', 'cs_missing'],
	['payment intents', (s: Stripe) => s.paymentIntents.retrieve('pi_missing'), 'payment_intent', 'pi_missing'],
	['charges', (s: Stripe) => s.charges.retrieve('ch_missing'), 'charge', 'ch_missing'],
	['refunds', (s: Stripe) => s.refunds.retrieve('re_missing'), 'refund', 're_missing'],
	['disputes', (s: Stripe) => s.disputes.retrieve('dp_missing'), 'dispute', 'dp_missing'],
	['subscriptions', (s: Stripe) => s.subscriptions.retrieve('sub_missing'), 'subscription', 'sub_missing'],
	['invoices', (s: Stripe) => s.invoices.retrieve('in_missing'), 'invoice', 'in_missing'],
	['invoice payments', (s: Stripe) => s.invoicePayments.retrieve('inpay_missing'), 'invoice_payment', 'inpay_missing'],
	['events', (s: Stripe) => s.events.retrieve('evt_missing'), 'event', 'evt_missing'],
])('an unknown id (%s): 404 resource_missing with param id', async (_name, call, what, id) => {
	const error = (await (call(stripe) as Promise<unknown>).catch((e: unknown) => e)) as Stripe.errors.StripeError;
	expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
	expect(error).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: `No such ${what}: '${id}'` });
});

test('a malformed escape in an id is a 404, not a crash', async () => {
	const reply = await get('/v1/customers/%E0%A4%A', { authorization: `Bearer ${fake.apiKey}` });
	expect(reply.status).toBe(404);
	expect(reply.body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
});

test('an id of another kind is not found either', async () => {
	const customer = fake.createCustomer({ email: 'kind@example.com' });
	await expect(stripe.charges.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
});

test.each([
	['an unknown parameter', (s: Stripe) => s.charges.list({ colour: 'red' } as never), 'colour', /Received unknown parameter: colour/],
	['a limit over 100', (s: Stripe) => s.events.list({ limit: 101 }), 'limit', /limit/],
	['a limit of 0', (s: Stripe) => s.events.list({ limit: 0 }), 'limit', /limit/],
	['both cursors', (s: Stripe) => s.events.list({ starting_after: 'evt_a', ending_before: 'evt_b' }), 'ending_before', /only specify one/],
	['a cursor that names nothing', (s: Stripe) => s.events.list({ starting_after: 'evt_missing' }), 'starting_after', /No such event/],
	['a created range that is not a number', (s: Stripe) => s.events.list({ created: { gte: 'soon' as unknown as number } }), 'created[gte]', /Invalid integer/],
	['type and types together', (s: Stripe) => s.events.list({ type: 'charge.refunded', types: ['charge.succeeded'] }), 'types', /type, types/],
	['an unknown subscription status', (s: Stripe) => s.subscriptions.list({ status: 'sleeping' as 'active' }), 'status', /Invalid status/],
	['payment without its type', (s: Stripe) => s.invoicePayments.list({ payment: { payment_intent: 'pi_x' } as never }), 'payment[type]', /payment\[type\]/],
	['an expand of a plain field', (s: Stripe) => s.events.list({ expand: ['data.type'] }), 'expand', /cannot be expanded \(data\.type\)/],
	['an expand of a field that does not exist', (s: Stripe) => s.events.list({ expand: ['data.nothing'] }), 'expand', /cannot be expanded/],
	['an expand over four levels', (s: Stripe) => s.events.list({ expand: ['data.a.b.c.d'] }), 'expand', /more than 4 levels/],
])('%s: StripeInvalidRequestError naming the parameter', async (_name, call, param, message) => {
	fake.createCustomer({ email: 'e@example.com' });
	const error = (await (call(stripe) as Promise<unknown>).catch((e: unknown) => e)) as Stripe.errors.StripeError;
	expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
	expect(error.statusCode).toBe(param === 'starting_after' ? 404 : 400);
	expect(error.param).toBe(param);
	expect(error.message).toMatch(message);
});

test('an expand through an id the fake does not store is refused', async () => {
	const customer = fake.createCustomer({ email: 'pm@example.com' });
	const price = fake.createPrice({ unit_amount: 100 });
	const { payment_intent: intent } = fake.checkoutPayment({ customer: customer.id, lines: [{ price: price.id }] });
	await expect(stripe.paymentIntents.retrieve(intent!.id, { expand: ['payment_method'] })).rejects.toMatchObject({ statusCode: 400, param: 'expand' });
});

test('an unknown URL: 404 Unrecognized request URL; another method: 405 with Allow', async () => {
	const unknown = await get('/v1/teapots', { authorization: `Bearer ${fake.apiKey}` });
	expect(unknown.status).toBe(404);
	expect(unknown.body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/teapots\)/);
	const post = await stripe.customers.create({ email: 'x@example.com' }).catch((e: unknown) => e);
	expect(post).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
	expect(post).toMatchObject({ statusCode: 405 });
	const deleted = await get('/v1/customers/cus_x', { authorization: `Bearer ${fake.apiKey}` }, 'DELETE');
	expect(deleted.status).toBe(405);
	expect(deleted.headers.allow).toBe('GET');
});

test('another API version is refused: the fake serves one shape', async () => {
	const old = clientFor(fake, fake.apiKey, { apiVersion: '2024-06-20' as Stripe.LatestApiVersion });
	await expect(old.events.list()).rejects.toMatchObject({
		statusCode: 400,
		code: 'invalid_api_version',
		message: expect.stringContaining('2026-02-25.clover'),
	});
});

test('injected 500s: StripeAPIError with the api_error envelope; the client retries them when told to', async () => {
	fake.setFaults({ error500Rate: 1 });
	const error = await stripe.events.list().catch((e: unknown) => e);
	expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
	expect(error).toMatchObject({ statusCode: 500, type: 'StripeAPIError', rawType: 'api_error' });
	// The first draw fails (0 < 0.5), the next ones pass.
	const draws = [0, 0.9, 0.9];
	const flaky = await startStripeFake({ random: () => draws.shift() ?? 0.9 });
	try {
		flaky.setFaults({ error500Rate: 0.5 });
		const retrying = clientFor(flaky, flaky.apiKey, { maxNetworkRetries: 2 });
		await expect(retrying.events.list()).resolves.toMatchObject({ object: 'list' });
		expect(flaky.requests()['GET /v1/events']).toBe(2);
	} finally {
		await flaky.stop();
	}
});

test('the rate limit: 429 StripeRateLimitError past the per-second budget', async () => {
	fake.setFaults({ rateLimitPerSecond: 3 });
	const started = Date.now();
	const results = await Promise.allSettled(Array.from({ length: 20 }, () => stripe.events.list()));
	const seconds = Math.ceil((Date.now() - started) / 1000);
	// However slow the machine, no more than the budget per second gets through.
	expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(3 * seconds);
	const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Stripe.errors.StripeError);
	expect(rejected.length).toBeGreaterThan(0);
	for (const error of rejected) {
		expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
		expect(error).toMatchObject({ statusCode: 429, code: 'rate_limit' });
	}
	expect(fake.faults()).toEqual({ rateLimitPerSecond: 3 });
	expect(() => fake.setFaults({ error500Rate: 2 })).toThrow(/error500Rate: must be a number from 0 to 1/);
	expect(() => fake.setFaults({ rateLimitPerSecond: 0 })).toThrow(/rateLimitPerSecond: must be a positive integer/);
	expect(() => fake.setFaults({ errorRate: 1 } as never)).toThrow(/errorRate: is not a fault/);
});

test('requests() counts calls per method and path template, every outcome', async () => {
	const customer = fake.createCustomer({ email: 'count@example.com' });
	await stripe.customers.retrieve(customer.id);
	await stripe.customers.retrieve('cus_missing').catch(() => undefined);
	await stripe.events.list({ limit: 1 });
	await stripe.customers.create({ email: 'x@example.com' }).catch(() => undefined);
	expect(fake.requests()).toEqual({ 'GET /v1/customers/:id': 2, 'GET /v1/events': 1, 'POST /v1/customers': 1 });
	fake.reset();
	expect(fake.requests()).toEqual({});
});

test('1,000 seeded odd requests: every answer is a 2xx or a 4xx in Stripe’s envelope, never a 500', async () => {
	const { seededRandom } = await import('../src');
	const random = seededRandom(2026);
	const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
	const customer = fake.createCustomer({ email: 'fuzz@example.com' });
	const price = fake.createPrice({ unit_amount: 100, recurring: { interval: 'month' } });
	const { subscription, invoice } = fake.createSubscription({ customer: customer.id, items: [{ price: price.id }] });
	const ids = [customer.id, price.id, subscription.id, invoice.id, 'x', '%', '%E0', '..', '', 'evt_' + 'a'.repeat(300)];
	const paths = [
		'customers',
		'prices',
		'products',
		'checkout/sessions',
		'payment_intents',
		'charges',
		'refunds',
		'disputes',
		'subscriptions',
		'invoices',
		'invoice_payments',
		'events',
		'nothing',
	];
	const keys = [
		'limit',
		'expand[0]',
		'expand[]',
		'expand',
		'starting_after',
		'ending_before',
		'created[gte]',
		'created',
		'created[x]',
		'type',
		'types[0]',
		'payment[type]',
		'payment[payment_intent]',
		'status',
		'customer',
		'a[b]c',
		'[',
		'x]',
	];
	const values = [
		'0',
		'1',
		'101',
		'-1',
		'abc',
		'data.customer',
		'data',
		'latest_invoice.payments',
		'items.data.price',
		...ids,
		'payment_intent',
		'all',
		'*',
		'1e3',
		'',
	];
	const statuses = new Map<number, number>();
	for (let i = 0; i < 1000; i++) {
		const path = `/v1/${pick(paths)}${random() < 0.5 ? `/${encodeURIComponent(pick(ids))}` : ''}${random() < 0.1 ? '/line_items' : ''}`;
		const query = Array.from({ length: Math.floor(random() * 4) }, () => `${pick(keys)}=${encodeURIComponent(pick(values))}`).join('&');
		const reply = await get(`${path}${query ? `?${query}` : ''}`, { authorization: `Bearer ${fake.apiKey}` }, random() < 0.05 ? 'POST' : 'GET');
		statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
		expect([200, 400, 404, 405]).toContain(reply.status);
		if (reply.status !== 200) expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
	}
	expect(statuses.get(200)).toBeGreaterThan(0);
	expect(statuses.get(400)).toBeGreaterThan(0);
});
