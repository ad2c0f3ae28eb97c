/** Signed delivery: what Stripe's verifier accepts, duplicates and shuffles on request, automatic delivery with retries. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { USER_AGENT, startStripeFake, type StripeFake } from '../src';
import { startReceiver, type Receiver } from './support';

let receiver: Receiver;
let fake: StripeFake;

beforeEach(async () => {
	receiver = await startReceiver();
	fake = await startStripeFake({ webhooks: [{ url: receiver.url, secret: receiver.secret }] });
});
afterEach(async () => {
	await fake.stop();
	await receiver.close();
});

function purchase(target: StripeFake = fake): void {
	const customer = target.createCustomer({ email: 'hook@example.com' });
	const price = target.createPrice({ unit_amount: 700 });
	target.checkoutPayment({ customer: customer.id, lines: [{ price: price.id }] });
}

test('events wait for deliver(), then arrive signed as Stripe signs them, each once, in order', async () => {
	purchase();
	expect(receiver.received).toHaveLength(0);
	const recorded = fake.events();
	expect(fake.pendingEvents()).toHaveLength(recorded.length);
	const result = await fake.deliver();
	expect(result).toEqual({ sent: recorded.length, byStatus: { 200: recorded.length } });
	expect(receiver.rejected).toBe(0);
	expect(receiver.received.map((event) => event.id)).toEqual(recorded.map((event) => event.id));
	expect(receiver.received[0]).toEqual(recorded[0]);
	const headers = receiver.headers[0];
	expect(headers['user-agent']).toBe(USER_AGENT);
	expect(headers['content-type']).toMatch(/^application\/json/);
	expect(headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
	expect(Math.abs(Number(/t=(\d+)/.exec(String(headers['stripe-signature']))![1]) - Date.now() / 1000)).toBeLessThan(5);
	expect(fake.pendingEvents()).toEqual([]);
	expect(await fake.deliver()).toEqual({ sent: 0, byStatus: {} });
});

test('a receiver with another secret rejects every delivery; byStatus says so', async () => {
	purchase();
	const other = await startReceiver('whsec_some_other_secret');
	try {
		const result = await fake.deliver({ urls: [other.url] });
		// An unknown URL is signed with the configured secret, which the other receiver does not know.
		expect(result.byStatus).toEqual({ 400: fake.events().length });
		expect(other.rejected).toBe(fake.events().length);
	} finally {
		await other.close();
	}
});

test('a signature checked by hand: HMAC-SHA256 of "t.body" with the whsec_ string', async () => {
	const { signatureHeader } = await import('../src');
	const body = '{"id":"evt_1"}';
	const header = signatureHeader(body, 'whsec_abcdefgh', 1_700_000_000);
	expect(() => Stripe.webhooks.constructEvent(body, header, 'whsec_abcdefgh', Number.MAX_SAFE_INTEGER)).not.toThrow();
	expect(() => Stripe.webhooks.constructEvent(body, header, 'whsec_abcdefgX', Number.MAX_SAFE_INTEGER)).toThrow(Stripe.errors.StripeSignatureVerificationError);
	expect(header).toBe(Stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_abcdefgh', timestamp: 1_700_000_000 }));
});

test('shuffled ×3: every event exactly three times, in a seeded order that replays', async () => {
	for (let i = 0; i < 20; i++) purchase();
	const recorded = fake.events();
	const result = await fake.deliver({ events: recorded, copies: 3, shuffleSeed: 11, concurrency: 1 });
	expect(result).toEqual({ sent: recorded.length * 3, byStatus: { 200: recorded.length * 3 } });
	const counts = new Map<string, number>();
	for (const event of receiver.received) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
	expect(counts.size).toBe(recorded.length);
	expect([...counts.values()].every((count) => count === 3)).toBe(true);
	const order = receiver.received.map((event) => event.id);
	expect(order).not.toEqual([...recorded, ...recorded, ...recorded].map((event) => event.id));
	receiver.received.length = 0;
	await fake.deliver({ events: recorded, copies: 3, shuffleSeed: 11, concurrency: 1 });
	expect(receiver.received.map((event) => event.id)).toEqual(order);
});

test('several URLs: each delivery goes to one of them, every event to some', async () => {
	const second = await startReceiver(receiver.secret);
	try {
		for (let i = 0; i < 10; i++) purchase();
		const total = fake.events().length;
		await fake.deliver({ urls: [receiver.url, second.url], shuffleSeed: 3 });
		expect(receiver.received.length + second.received.length).toBe(total);
		expect(receiver.received.length).toBeGreaterThan(0);
		expect(second.received.length).toBeGreaterThan(0);
	} finally {
		await second.close();
	}
});

test('several URLs, one of them down: retries find the one that is up', async () => {
	for (let i = 0; i < 5; i++) purchase();
	const total = fake.events().length;
	const result = await fake.deliver({ urls: ['http://127.0.0.1:9/down', receiver.url], shuffleSeed: 5, retries: 10 });
	expect(result).toEqual({ sent: total, byStatus: { 200: total } });
	expect(new Set(receiver.received.map((event) => event.id)).size).toBe(total);
	expect(fake.deliveries().some((record) => record.status === 'error')).toBe(true);
});

test('failures are counted by status; retries resend until a 2xx', async () => {
	purchase();
	const total = fake.events().length;
	const failures = new Map<string, number>();
	receiver.answer = (event) => {
		const seen = failures.get(event.id) ?? 0;
		failures.set(event.id, seen + 1);
		return seen < 1 ? 503 : 200;
	};
	expect(await fake.deliver({ events: fake.events() })).toEqual({ sent: total, byStatus: { 503: total } });
	failures.clear();
	expect(await fake.deliver({ events: fake.events(), retries: 2 })).toEqual({ sent: total, byStatus: { 200: total } });
	expect(fake.deliveries().filter((record) => record.attempt === 1)).toHaveLength(total);
});

test('a kept-alive connection the receiver dropped is replaced, and the event sent again on a new one', async () => {
	const requestsPerSocket = new WeakMap<object, number>();
	let sockets = 0;
	let answered = 0;
	const dropping = createServer((request, response) => {
		const seen = (requestsPerSocket.get(request.socket) ?? 0) + 1;
		requestsPerSocket.set(request.socket, seen);
		if (seen === 1) sockets++;
		// The first connection's second request: the connection dies without an answer.
		if (sockets === 1 && seen === 2) {
			request.socket.destroy();
			return;
		}
		request.resume();
		request.on('end', () => {
			answered++;
			response.end();
		});
	});
	await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
	try {
		purchase();
		const url = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/hook`;
		const events = fake.events().slice(0, 2);
		expect(await fake.deliver({ events, urls: [url], concurrency: 1 })).toEqual({ sent: 2, byStatus: { 200: 2 } });
		expect(answered).toBe(2);
		expect(sockets).toBe(2);
	} finally {
		dropping.closeAllConnections();
		await new Promise<void>((resolve) => dropping.close(() => resolve()));
	}
});

test('an unreachable URL is an error status, not a crash', async () => {
	purchase();
	const result = await fake.deliver({ urls: ['http://127.0.0.1:9/nothing'], timeoutMs: 2000 });
	expect(result.byStatus).toEqual({ error: fake.events().length });
});

test('autoDeliver: every new event as it happens, a 500 retried with a short backoff', async () => {
	const auto = await startStripeFake({ webhooks: [{ url: receiver.url, secret: receiver.secret }], autoDeliver: true, autoDeliverRetries: 3 });
	try {
		let failed = false;
		receiver.answer = (event) => {
			if (event.type === 'payment_intent.succeeded' && !failed) {
				failed = true;
				return 500;
			}
			return 200;
		};
		purchase(auto);
		const total = auto.events().length;
		await receiver.waitFor(total);
		await auto.idle();
		expect(new Set(receiver.received.map((event) => event.id)).size).toBe(total);
		const retried = auto.deliveries().filter((record) => record.type === 'payment_intent.succeeded');
		expect(retried.map((record) => [record.attempt, record.status])).toEqual([
			[0, 500],
			[1, 200],
		]);
		expect(auto.pendingEvents()).toEqual([]);
	} finally {
		await auto.stop();
	}
});

test('bad delivery options and no webhook are refused with the field named', async () => {
	const bare = await startStripeFake();
	try {
		purchase(bare);
		await expect(bare.deliver()).rejects.toThrow(/^webhooks: no webhook endpoint is configured/);
		await expect(bare.deliver({ urls: [receiver.url] })).rejects.toThrow(/^urls\[0\]: has no signing secret/);
		expect(bare.pendingEvents()).toHaveLength(bare.events().length);
	} finally {
		await bare.stop();
	}
	await expect(fake.deliver({ copies: 0 })).rejects.toThrow(/^copies: /);
	await expect(fake.deliver({ concurrency: 1000 })).rejects.toThrow(/^concurrency: /);
	await expect(fake.deliver({ shuffleSeed: 1.5 })).rejects.toThrow(/^shuffleSeed: /);
	await expect(fake.deliver({ urls: [] })).rejects.toThrow(/^urls: /);
	await expect(startStripeFake({ webhooks: [{ url: 'ftp://x', secret: 'whsec_12345678' }] })).rejects.toThrow(/^webhooks\[0\]\.url: /);
	await expect(startStripeFake({ webhooks: [{ url: receiver.url, secret: 'secret' }] })).rejects.toThrow(/^webhooks\[0\]\.secret: /);
	await expect(startStripeFake({ apiKey: 'sk_live_123456789' })).rejects.toThrow(/^apiKey: /);
});
