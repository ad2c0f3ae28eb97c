// The bad inputs the ingest refuses, each with its status and reason (signed where a signature would pass):
// an event that could never be processed gets a 4xx now, never a 2xx and a dead letter, never a 5xx that Stripe
// would retry for days; slow clients cannot hold a connection; the timestamp tolerance bounds both directions.

import { connect } from 'node:net';
import { checkRawPayload, jsonDepthExceeds, MAX_JSON_DEPTH } from '../src/ingest/payload.js';
import { SECRET_A, post, sampleEvent, signatureHeader, useIngest } from './support/ingest-webhooks.js';

function nested(depth: number): unknown {
	let value: unknown = 'bottom';
	for (let level = 0; level < depth; level++) value = { n: value };
	return value;
}

/** Signs the exact bytes given and posts them. */
function signedPost(url: string, payload: string | Buffer, timestamp?: number) {
	const header = signatureHeader(payload.toString(), SECRET_A, timestamp);
	return post(`${url}/webhooks/stripe`, payload, { 'stripe-signature': header });
}

describe('payload bounds (pure)', () => {
	test('depth is measured without recursion, brackets inside strings do not count', () => {
		expect(jsonDepthExceeds(Buffer.from(JSON.stringify(nested(MAX_JSON_DEPTH - 1))))).toBe(false);
		expect(jsonDepthExceeds(Buffer.from(JSON.stringify(nested(MAX_JSON_DEPTH + 1))))).toBe(true);
		expect(jsonDepthExceeds(Buffer.from(JSON.stringify({ text: '[[[[{{{{'.repeat(100), escaped: '\\"[[[' })))).toBe(false);
		expect(jsonDepthExceeds(Buffer.from('['.repeat(200_000)))).toBe(true);
	});

	test('bytes that are not UTF-8 are refused by name', () => {
		expect(checkRawPayload(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toEqual({ reason: 'invalid_text', message: 'the body is not valid UTF-8' });
	});
});

describe('ingest refuses what could never be processed (shared Redis, unique prefix)', () => {
	const t = useIngest();

	test('a signed event nested 5,000 levels deep → 400 too_deep (not 503), nothing queued; 60 levels pass', async () => {
		// Built as text: JSON.stringify itself overflows the stack at this depth.
		const deep = JSON.stringify({ ...sampleEvent(), data: { object: { id: 'sub_deep', object: 'subscription', metadata: 'HOLE' } } }).replace(
			'"HOLE"',
			`${'{"n":'.repeat(5000)}1${'}'.repeat(5000)}`,
		);
		expect(await signedPost(t.ingest.url, deep)).toEqual({
			status: 400,
			body: { error: 'too_deep', message: `the JSON nests deeper than ${MAX_JSON_DEPTH} levels` },
		});
		const fine = { ...sampleEvent(), data: { object: { id: 'sub_fine', object: 'subscription', metadata: nested(60) } } };
		expect((await signedPost(t.ingest.url, JSON.stringify(fine))).status).toBe(200);
		expect(await t.queue.count()).toBe(1);
		expect(t.ingest.counters.rejected.too_deep).toBe(1);
	});

	test('a signed event with a lone surrogate (\\ud800) → 400 invalid_text naming where, nothing queued', async () => {
		const payload = JSON.stringify(sampleEvent({ object: { id: 'sub_x', object: 'subscription', metadata: { name: 'AB' } } })).replace('"AB"', '"A\\ud800B"');
		expect(await signedPost(t.ingest.url, payload)).toEqual({
			status: 400,
			body: { error: 'invalid_text', message: '$.data.object.metadata.name holds a lone UTF-16 surrogate' },
		});
		expect(await t.queue.count()).toBe(0);
	});

	test('a signed body with bytes that are not UTF-8 → 400 invalid_text', async () => {
		const payload = Buffer.concat([
			Buffer.from(JSON.stringify(sampleEvent()).slice(0, -1)),
			Buffer.from(',"x":"'),
			Buffer.from([0xc3, 0x28]),
			Buffer.from('"}'),
		]);
		expect((await signedPost(t.ingest.url, payload)).body.error).toBe('invalid_text');
		expect(await t.queue.count()).toBe(0);
	});

	test('a signature timestamp in the future beyond the tolerance → 400 future_timestamp (t=9999999999 too); within it passes', async () => {
		const payload = JSON.stringify(sampleEvent());
		const now = Math.floor(Date.now() / 1000);
		expect(await signedPost(t.ingest.url, payload, now + 301)).toMatchObject({ status: 400, body: { error: 'future_timestamp' } });
		expect(await signedPost(t.ingest.url, payload, 9999999999)).toMatchObject({ status: 400, body: { error: 'future_timestamp' } });
		expect((await signedPost(t.ingest.url, payload, now + 200)).status).toBe(200);
	});

	test('a body trickled byte by byte is cut off with 408 after HEADERS + BODY timeouts, not minutes', async () => {
		await t.restartWith({ HEADERS_TIMEOUT_MS: '500', BODY_TIMEOUT_MS: '1000' });
		const { port } = new URL(t.ingest.url);
		const started = Date.now();
		const answer = await new Promise<string>((resolve) => {
			const socket = connect(Number(port), '127.0.0.1');
			let text = '';
			socket.on('data', (chunk) => (text += chunk.toString()));
			socket.on('close', () => resolve(text));
			socket.on('error', () => resolve(text));
			socket.write('POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nStripe-Signature: t=1,v1=0\r\n\r\n');
			const timer = setInterval(() => (socket.writable ? socket.write('{') : clearInterval(timer)), 200);
			socket.on('close', () => clearInterval(timer));
		});
		const seconds = (Date.now() - started) / 1000;
		expect(answer).toMatch(/^HTTP\/1\.1 408/);
		expect(seconds).toBeLessThan(5);
	});

	test('headers trickled byte by byte are cut off after HEADERS_TIMEOUT_MS', async () => {
		await t.restartWith({ HEADERS_TIMEOUT_MS: '500', BODY_TIMEOUT_MS: '1000' });
		const { port } = new URL(t.ingest.url);
		const started = Date.now();
		await new Promise<void>((resolve) => {
			const socket = connect(Number(port), '127.0.0.1');
			socket.on('close', () => resolve());
			socket.on('error', () => resolve());
			socket.write('POST /webhooks/stripe HTTP/1.1\r\n');
			const timer = setInterval(() => (socket.writable ? socket.write('X') : clearInterval(timer)), 100);
			socket.on('close', () => clearInterval(timer));
		});
		expect((Date.now() - started) / 1000).toBeLessThan(4);
	});
});
