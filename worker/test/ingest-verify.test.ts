import { verifyStripeWebhook } from '../src/ingest/verify.js';
import { SECRET_A, SECRET_B, sampleEvent, signatureHeader } from './support/ingest-webhooks.js';

const options = { secrets: [SECRET_A], toleranceSeconds: 300 };

function signed(event: object, secret = SECRET_A, timestamp?: number) {
	const payload = JSON.stringify(event);
	return { body: Buffer.from(payload), header: signatureHeader(payload, secret, timestamp) };
}

describe('verifyStripeWebhook', () => {
	test('accepts a correctly signed event and returns it parsed', () => {
		const event = sampleEvent();
		const { body, header } = signed(event);
		const result = verifyStripeWebhook(body, header, options);
		expect(result).toEqual({ ok: true, event, secretIndex: 0 });
	});

	test('tries every secret: an event signed with the second (rotated) secret verifies', () => {
		const { body, header } = signed(sampleEvent(), SECRET_B);
		const result = verifyStripeWebhook(body, header, { ...options, secrets: [SECRET_A, SECRET_B] });
		expect(result).toMatchObject({ ok: true, secretIndex: 1 });
	});

	test('refuses a missing header', () => {
		const { body } = signed(sampleEvent());
		expect(verifyStripeWebhook(body, undefined, options)).toEqual({
			ok: false,
			reason: 'missing_signature',
			message: 'no Stripe-Signature header',
		});
		expect(verifyStripeWebhook(body, '', options)).toMatchObject({ reason: 'missing_signature' });
	});

	test('refuses a header without timestamp or v1 signature, and repeated headers', () => {
		const { body, header } = signed(sampleEvent());
		expect(verifyStripeWebhook(body, 'garbage', options)).toEqual({
			ok: false,
			reason: 'malformed_signature',
			message: 'the Stripe-Signature header has no timestamp or v1 signature',
		});
		expect(verifyStripeWebhook(body, header.replace(/v1=/, 'v0='), options)).toMatchObject({ reason: 'malformed_signature' });
		expect(verifyStripeWebhook(body, [header, header], options)).toMatchObject({ reason: 'malformed_signature' });
	});

	test('refuses a signature made with a secret that is not configured', () => {
		const { body, header } = signed(sampleEvent(), SECRET_B);
		expect(verifyStripeWebhook(body, header, options)).toEqual({
			ok: false,
			reason: 'no_matching_signature',
			message: 'no signature matches any configured signing secret',
		});
	});

	test('refuses a tampered body (one byte changed after signing)', () => {
		const { body, header } = signed(sampleEvent({ type: 'invoice.paid' }));
		const tampered = Buffer.from(body.toString('utf8').replace('invoice.paid', 'invoice.paie'));
		expect(verifyStripeWebhook(tampered, header, options)).toMatchObject({ ok: false, reason: 'no_matching_signature' });
	});

	test('refuses a stale timestamp (older than the tolerance), accepts one just inside it', () => {
		const now = Date.now();
		const stale = signed(sampleEvent(), SECRET_A, Math.floor(now / 1000) - 301);
		expect(verifyStripeWebhook(stale.body, stale.header, { ...options, now })).toEqual({
			ok: false,
			reason: 'stale_timestamp',
			message: 'the signature timestamp is older than the tolerance',
		});
		const fresh = signed(sampleEvent(), SECRET_A, Math.floor(now / 1000) - 299);
		expect(verifyStripeWebhook(fresh.body, fresh.header, { ...options, now })).toMatchObject({ ok: true });
	});

	test('refuses a validly signed body that is not JSON, or not a Stripe event', () => {
		const payload = '{"id": "evt_1", "type": ';
		const result = verifyStripeWebhook(Buffer.from(payload), signatureHeader(payload, SECRET_A), options);
		expect(result).toEqual({
			ok: false,
			reason: 'unparsable_body',
			message: 'the signed body is not a Stripe event (JSON object with id evt_… and type)',
		});
		for (const notAnEvent of ['[1,2]', '{"id":"cus_1","type":"x","data":{}}', '{"id":"evt_1","data":{}}', '"evt_1"']) {
			const verdict = verifyStripeWebhook(Buffer.from(notAnEvent), signatureHeader(notAnEvent, SECRET_A), options);
			expect(verdict).toMatchObject({ ok: false, reason: 'unparsable_body' });
		}
	});

	test('no failure message mentions a secret, the signature or the body', () => {
		const event = sampleEvent();
		const { body, header } = signed(event, SECRET_B);
		const result = verifyStripeWebhook(body, header, options);
		const text = JSON.stringify(result);
		for (const secret of [SECRET_A, SECRET_B, header.split('v1=')[1], event.id]) expect(text).not.toContain(secret);
	});
});
