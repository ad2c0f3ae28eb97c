// Fuzz of the webhook endpoint: 10,000 random and mutated deliveries against the real in-process ingest (shared
// Redis, unique prefix): bad, missing and mangled signatures, stale and future timestamps, huge and deep bodies,
// malformed JSON, and correctly signed events whose fields have the wrong types. Whatever arrives: never a 5xx
// while Redis is up (Stripe would retry it for days), and nothing stored from a body whose signature does not
// hold. While Redis is down, a signed event gets 503 and a bad signature still gets 400.

import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { HANDLED_EVENT_TYPES } from '../src/stripe/roots.js';
import { SECRET_A, SECRET_B, ingestConfig, sampleEvent, useIngest } from './support/ingest-webhooks.js';
import { startIngest } from '../src/ingest/server.js';
import { pino } from 'pino';
import { uniquePrefix } from './support/shared-redis.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
afterAll(() => agent.destroy());

/** POSTs exact bytes; header values may be arrays (a header sent more than once). */
function send(url: string, body: Buffer, headers: HeaderSet): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = request(`${url}/webhooks/stripe`, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode ?? 0));
		});
		req.on('error', reject);
		req.end(body);
	});
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Stripe's scheme over the exact bytes: v1 = HMAC-SHA256(secret, "<t>.<body>"). */
function sign(body: Buffer, secret = SECRET_A, timestamp = nowSeconds()): string {
	const v1 = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
	return `t=${timestamp},v1=${v1}`;
}

const text = (value: unknown) => Buffer.from(JSON.stringify(value));

// ---- generators ----

/** Printable ASCII without CR/LF: what an HTTP header value may carry. */
const headerText = fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 120 }).map((codes) => String.fromCharCode(...codes));

/** Keys our code reads, keys that shadow Object.prototype, and anything else. */
const keyArb = fc.oneof(
	fc.constantFrom(
		'id',
		'type',
		'data',
		'object',
		'mode',
		'subscription',
		'parent',
		'subscription_details',
		'payment',
		'payment_intent',
		'livemode',
		'metadata',
	),
	fc.constantFrom('toString', 'valueOf', 'constructor', 'hasOwnProperty', '__proto__', 'length'),
	fc.string({ maxLength: 8 }),
);

const scalarArb = fc.oneof(
	fc.constant(null),
	fc.boolean(),
	fc.integer(),
	fc.double(),
	fc.string({ maxLength: 20 }),
	fc.constantFrom('', 'sub_1', 'pi_1', 'cs_1', 'evt_1', 'sub_', 'sub_\u0000', 'payment', 'subscription', 'x'.repeat(300)),
);

const { json: jsonArb } = fc.letrec<{ json: unknown }>((tie) => ({
	json: fc.oneof(
		{ depthSize: 'small', withCrossShrink: true },
		scalarArb,
		fc.array(tie('json'), { maxLength: 3 }),
		fc.dictionary(keyArb, tie('json'), { maxKeys: 4 }),
	),
}));

const eventTypeArb = fc.oneof(
	fc.constantFrom(...HANDLED_EVENT_TYPES),
	fc.constantFrom('invoice_payment.paid', 'customer.created', 'x', '.', 'charge.', 'checkout.session.'),
	fc.string({ maxLength: 12 }),
);

/** A well-formed event of some type about some root, in one of the shapes Stripe sends. */
const eventArb = fc
	.record({
		type: eventTypeArb,
		object: fc.constantFrom<Record<string, unknown>>(
			{ id: 'sub_fz1', object: 'subscription', status: 'active' },
			{ id: 'in_1', object: 'invoice', parent: { subscription_details: { subscription: 'sub_fz1' } } },
			{ id: 'in_2', object: 'invoice', subscription: { id: 'sub_fz2' } },
			{ id: 'cs_fz1', object: 'checkout.session', mode: 'payment', payment_intent: 'pi_fz1' },
			{ id: 'cs_fz2', object: 'checkout.session', mode: 'subscription', subscription: 'sub_fz3' },
			{ id: 'ch_1', object: 'charge', payment_intent: 'pi_fz2' },
			{ id: 'inpay_1', object: 'invoice_payment', payment: { payment_intent: 'pi_fz3' } },
		),
		livemode: fc.boolean(),
	})
	.map(({ type, object, livemode }) => sampleEvent({ type, object: structuredClone(object), livemode }) as Record<string, unknown>);

/** Where wrong types go: the envelope and every field rootOfEvent reads. */
const PATHS = [
	['id'],
	['type'],
	['data'],
	['livemode'],
	['created'],
	['data', 'object'],
	['data', 'object', 'id'],
	['data', 'object', 'mode'],
	['data', 'object', 'subscription'],
	['data', 'object', 'payment_intent'],
	['data', 'object', 'parent'],
	['data', 'object', 'parent', 'subscription_details'],
	['data', 'object', 'parent', 'subscription_details', 'subscription'],
	['data', 'object', 'payment'],
	['data', 'object', 'payment', 'payment_intent'],
	['data', 'object', 'metadata'],
];

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
	let node: Record<string, unknown> = root;
	for (const key of path.slice(0, -1)) {
		const next = node[key];
		if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
		node = node[key] as Record<string, unknown>;
	}
	Object.defineProperty(node, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

/** A valid event with 1–4 fields replaced by any JSON (keys such as toString and __proto__ included). */
const wrongTypedArb = fc
	.tuple(eventArb, fc.array(fc.tuple(fc.constantFrom(...PATHS), jsonArb), { minLength: 1, maxLength: 4 }), fc.boolean())
	.map(([event, changes, protoKeys]) => {
		for (const [path, value] of changes) setAt(event, path, value);
		let body = JSON.stringify(event);
		// Keys JSON.parse makes own properties that shadow Object.prototype, written as text (an object cannot hold them).
		if (protoKeys) body = body.replace('"object":{', '"object":{"__proto__":{"polluted":1},"toString":1,"valueOf":{},');
		return Buffer.from(body);
	});

/** Text of a valid event mutated byte by byte: truncated, bytes inserted, deleted or replaced (non-UTF-8 too). */
const malformedArb = fc
	.tuple(
		eventArb,
		fc.array(fc.tuple(fc.constantFrom('truncate', 'insert', 'delete', 'replace'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }),
	)
	.map(([event, edits]) => {
		let bytes = [...text(event)];
		for (const [edit, at, byte] of edits) {
			const index = bytes.length === 0 ? 0 : at % bytes.length;
			if (edit === 'truncate') bytes = bytes.slice(0, index);
			else if (edit === 'insert') bytes.splice(index, 0, byte);
			else if (edit === 'delete') bytes.splice(index, 1);
			else bytes[index] = byte;
		}
		return Buffer.from(bytes);
	});

/** Bodies that are not events at all. */
const junkArb = fc.oneof(
	jsonArb.map((value) => Buffer.from(JSON.stringify(value) ?? '')),
	fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
	fc.constantFrom('', '{', '[]', 'null', '"evt_1"', '{"id":"evt_1","type":"invoice.paid","data":null}').map((body) => Buffer.from(body)),
);

type HeaderSet = Record<string, string | string[]>;

/**
 * Every way a Stripe-Signature header can fail, as a recipe that badHeader() applies to the body (an arbitrary
 * built per body cost more than the request).
 */
type BadHeader =
	| { kind: 'missing' | 'empty' | 'wrong_secret' | 'uppercase' | 'no_timestamp' | 'v0' | 'twice' }
	| { kind: 'text' | 'tail'; text: string }
	| { kind: 'hex'; hex: string }
	| { kind: 'shifted'; shift: number }
	| { kind: 'stamp'; stamp: string };

const badHeaderArb: fc.Arbitrary<BadHeader> = fc.oneof(
	fc.constantFrom<BadHeader>(
		{ kind: 'missing' },
		{ kind: 'empty' },
		{ kind: 'wrong_secret' },
		{ kind: 'uppercase' },
		{ kind: 'no_timestamp' },
		{ kind: 'v0' },
		{ kind: 'twice' },
	),
	headerText.map((text): BadHeader => ({ kind: 'text', text })),
	headerText.map((text): BadHeader => ({ kind: 'tail', text })),
	fc.stringMatching(/^[0-9a-f]{64}$/).map((hex): BadHeader => ({ kind: 'hex', hex })),
	fc
		.integer({ min: -5, max: 5 })
		.filter((shift) => shift !== 0)
		.map((shift): BadHeader => ({ kind: 'shifted', shift })),
	fc.constantFrom('t=abc', 't=', 't=1e9', 't=99999999999999999999', 't=-1').map((stamp): BadHeader => ({ kind: 'stamp', stamp })),
);

function badHeader(recipe: BadHeader, body: Buffer): HeaderSet {
	const now = nowSeconds();
	const [t, v1] = sign(body, SECRET_A, now).split(',');
	const header = (value: string | string[]): HeaderSet => ({ 'stripe-signature': value });
	switch (recipe.kind) {
		case 'missing':
			return {};
		case 'empty':
			return header('');
		case 'wrong_secret':
			return header(sign(body, SECRET_B, now));
		case 'uppercase':
			return header(`${t},v1=${v1.slice(3).toUpperCase()}`);
		case 'no_timestamp':
			return header(v1);
		case 'v0':
			return header(`${t},v0=${v1.slice(3)}`);
		case 'twice':
			// Sent twice, node joins the values with ", ": still no v1 made with a configured secret.
			return header([sign(body, SECRET_B, now), `${t},v1=${'0'.repeat(64)}`]);
		case 'text':
			return header(recipe.text);
		case 'tail':
			return header(`${t},v1=${'0'.repeat(64)},${recipe.text}`);
		case 'hex':
			return header(`${t},v1=${recipe.hex}`);
		case 'shifted':
			return header(`t=${now + recipe.shift},${v1}`);
		case 'stamp':
			return header(`${recipe.stamp},${v1}`);
	}
}

/** A body changed after it was signed (one byte), with the original body's signature. */
const tamperedArb = fc.tuple(eventArb, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([event, at, xor]) => {
	const body = text(event);
	const header = sign(body);
	const tampered = Buffer.from(body);
	tampered[at % tampered.length] ^= xor;
	return { body: tampered, header };
});

/** Nested arrays or objects beyond MAX_JSON_DEPTH, inside a signed event. */
const deepArb = fc.tuple(fc.integer({ min: 65, max: 5000 }), fc.constantFrom(['[', ']'], ['{"n":', '}'])).map(([depth, [open, close]]) => {
	const body = JSON.stringify(sampleEvent()).replace('"status":"active"', `"status":${open.repeat(depth)}1${close.repeat(depth)}`);
	return Buffer.from(body);
});

// ---- the runs ----

/** Signed deliveries are queued in Redis: seconds each thousand here, but a loaded machine takes several times as long. */
const SIGNED_TIMEOUT_MS = 180_000;

describe('fuzz: the webhook endpoint (real in-process ingest, shared Redis, unique prefix)', () => {
	const t = useIngest();

	/** Everything under this test's prefix: a body without a valid signature may change none of it. */
	async function stored(): Promise<string[]> {
		const keys = await t.inspect.keys(`${t.config.queuePrefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
		const sizes = await Promise.all(keys.sort().map(async (key) => `${key}=${await t.inspect.type(key)}`));
		return sizes;
	}

	async function expectNoEffect(run: () => Promise<void>): Promise<void> {
		await t.queue.waitUntilReady();
		const before = await stored();
		await run();
		expect(await stored()).toEqual(before);
		expect(await t.queue.count()).toBe(0);
		expect(t.ingest.counters).toMatchObject({ accepted: 0, skipped: 0, ignoredLivemode: 0, unavailable: 0 });
	}

	test(
		'4,500 bodies without a valid signature (missing, mangled, wrong secret, tampered, stale, future, unsigned junk): 400, nothing stored',
		async () => {
			await expectNoEffect(async () => {
				const bodyArb = fc.oneof(eventArb.map(text), malformedArb, junkArb);
				await fc.assert(
					fc.asyncProperty(bodyArb, badHeaderArb, async (body, recipe) => {
						expect(await send(t.ingest.url, body, badHeader(recipe, body))).toBe(400);
					}),
					{ numRuns: 3000 },
				);
				await fc.assert(
					fc.asyncProperty(tamperedArb, async ({ body, header }) => {
						expect(await send(t.ingest.url, body, { 'stripe-signature': header })).toBe(400);
					}),
					{ numRuns: 500 },
				);
				// Outside the 300 s tolerance either way, up to years: refused before any store.
				const outside = fc.tuple(eventArb, fc.integer({ min: 301, max: 400_000_000 }), fc.boolean());
				await fc.assert(
					fc.asyncProperty(outside, async ([event, offset, future]) => {
						const body = text(event);
						expect(await send(t.ingest.url, body, { 'stripe-signature': sign(body, SECRET_A, nowSeconds() + (future ? offset : -offset)) })).toBe(400);
					}),
					{ numRuns: 500 },
				);
				await fc.assert(
					fc.asyncProperty(junkArb, async (body) => {
						expect(await send(t.ingest.url, body, {})).toBe(400);
					}),
					{ numRuns: 500 },
				);
			});
			expect(Object.values(t.ingest.counters.rejected).reduce((sum, count) => sum + (count ?? 0), 0)).toBe(4500);
		},
		SIGNED_TIMEOUT_MS,
	);

	test(
		'3,000 correctly signed events with wrong types inside valid JSON (toString and __proto__ keys too): 200 or 400, never a 5xx',
		async () => {
			await fc.assert(
				fc.asyncProperty(wrongTypedArb, async (body) => {
					expect([200, 400]).toContain(await send(t.ingest.url, body, { 'stripe-signature': sign(body) }));
				}),
				{ numRuns: 3000 },
			);
			expect(t.ingest.counters.unavailable).toBe(0);
		},
		SIGNED_TIMEOUT_MS,
	);

	test(
		'2,000 correctly signed bodies of malformed JSON, or events signed within the tolerance: never a 5xx',
		async () => {
			await fc.assert(
				fc.asyncProperty(malformedArb, async (body) => {
					expect([200, 400]).toContain(await send(t.ingest.url, body, { 'stripe-signature': sign(body) }));
				}),
				{ numRuns: 1500 },
			);
			// An event (id evt_…, a non-empty type) signed at most 299 s away from now.
			const inside = fc.tuple(
				eventArb.filter((event) => event.type !== ''),
				fc.integer({ min: -299, max: 299 }),
			);
			await fc.assert(
				fc.asyncProperty(inside, async ([event, offset]) => {
					const body = text(event);
					expect(await send(t.ingest.url, body, { 'stripe-signature': sign(body, SECRET_A, nowSeconds() + offset) })).toBe(200);
				}),
				{ numRuns: 500 },
			);
			expect(t.ingest.counters.unavailable).toBe(0);
		},
		SIGNED_TIMEOUT_MS,
	);

	test('500 huge and deep bodies, signed or not: 413 or 400, nothing stored', async () => {
		await t.restartWith({ BODY_LIMIT_BYTES: '4096' });
		await expectNoEffect(async () => {
			const huge = fc.tuple(fc.integer({ min: 4097, max: 200_000 }), fc.boolean()).map(([size, signed]) => {
				const body = Buffer.from(JSON.stringify(sampleEvent()).replace('"status":"active"', `"status":"${'x'.repeat(size)}"`));
				const headers: HeaderSet = signed ? { 'stripe-signature': sign(body) } : {};
				return { body, headers };
			});
			await fc.assert(
				fc.asyncProperty(huge, async ({ body, headers }) => {
					expect(await send(t.ingest.url, body, headers)).toBe(413);
				}),
				{ numRuns: 200 },
			);
		});
		await t.restartWith({});
		await expectNoEffect(async () => {
			await fc.assert(
				fc.asyncProperty(deepArb, async (body) => {
					expect(await send(t.ingest.url, body, { 'stripe-signature': sign(body) })).toBe(400);
				}),
				{ numRuns: 300 },
			);
		});
	});
});

describe('fuzz: the webhook endpoint while Redis is down', () => {
	test('200 deliveries: a signed event gets 503 (Stripe retries), a bad signature still 400', async () => {
		// A port nothing listens on: ioredis keeps reconnecting, the ingest starts anyway.
		const ingest = await startIngest(ingestConfig({ REDIS_URL: 'redis://127.0.0.1:1', QUEUE_PREFIX: uniquePrefix() }), pino({ level: 'silent' }));
		try {
			// Signed: an event the ingest would queue (evt_ id, a non-empty type); else one of the bad headers.
			const delivery = fc.tuple(
				eventArb.filter((event) => event.type !== ''),
				fc.option(badHeaderArb, { nil: undefined }),
			);
			await fc.assert(
				fc.asyncProperty(delivery, async ([event, recipe]) => {
					const body = text(event);
					const headers = recipe === undefined ? { 'stripe-signature': sign(body) } : badHeader(recipe, body);
					expect(await send(ingest.url, body, headers)).toBe(recipe === undefined ? 503 : 400);
				}),
				{ numRuns: 200 },
			);
		} finally {
			await ingest.close();
		}
	});
});
