// The license hand-off against a local HTTP receiver: payload, signature, idempotency key, and what is retried.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnrecoverableError } from 'bullmq';
import {
	buildHandoffPayload,
	deliverHandoff,
	HandoffDeliveryError,
	HandoffRejectedError,
	handoffId,
	signHandoff,
	verifyHandoffSignature,
	webhookSecretProblem,
	type HandoffPayload,
} from '../src/jobs/handoff.js';
import type { HandoffLicense } from '../src/keycrate/execute.js';
import type { Linkage } from '../src/model.js';

// whsec_ + base64 of 32 bytes, as Standard Webhooks specifies the secret.
const SECRET = `whsec_${Buffer.from('lwh_secret_for_tests_0123456789!').toString('base64')}`;

interface Received {
	body: string;
	headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let baseUrl: string;
let received: Received[] = [];
let answer = 200;

beforeAll(async () => {
	server = http.createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
			response.writeHead(answer).end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
	received = [];
	answer = 200;
});

const license: HandoffLicense = { licenseKey: 'ABCD-EFGH-IJKL-MNOP', expiresAt: '2026-12-27T06:00:00.000Z', status: 'active', seat: 'li_1:0' };

const linkage: Linkage = {
	customerId: 'cus_Test',
	email: 'ada@example.com',
	checkoutSessionId: 'cs_test_a1Test',
	paymentIntentId: 'pi_3QxTest',
	livemode: false,
};

const now = Date.parse('2026-11-27T06:00:00Z');
const config = () => ({ licenseWebhookUrl: `${baseUrl}/webhook/keycrate-license/tok_hidden_path`, licenseWebhookSecret: SECRET });

describe('buildHandoffPayload', () => {
	it('describes the new license and where it came from', () => {
		expect(buildHandoffPayload(linkage, license, now)).toEqual({
			type: 'license.created',
			id: handoffId(license.licenseKey),
			created: now / 1000,
			data: {
				license_key: 'ABCD-EFGH-IJKL-MNOP',
				email: 'ada@example.com',
				customer_id: 'cus_Test',
				checkout_session_id: 'cs_test_a1Test',
				payment_intent_id: 'pi_3QxTest',
				subscription_id: null,
				expires_at: '2026-12-27T06:00:00.000Z',
				status: 'active',
			},
		});
	});

	it('gives one license one id, whenever it is built, and another license another', () => {
		expect(buildHandoffPayload(linkage, license, now).id).toBe(buildHandoffPayload(linkage, license, now + 60000).id);
		expect(handoffId('ABCD-EFGH-IJKL-MNOP')).toMatch(/^kclh_[0-9a-f]{32}$/);
		expect(handoffId('ABCD-EFGH-IJKL-MNOQ')).not.toBe(handoffId('ABCD-EFGH-IJKL-MNOP'));
	});
});

describe('deliverHandoff', () => {
	const payload: HandoffPayload = buildHandoffPayload(linkage, license, now);

	it('posts the JSON payload, signed, with the idempotency key', async () => {
		expect(await deliverHandoff(config(), payload)).toEqual({ status: 200 });
		expect(received).toHaveLength(1);
		const [request] = received;
		expect(JSON.parse(request.body)).toEqual(payload);
		expect(request.headers['content-type']).toBe('application/json');
		expect(request.headers['idempotency-key']).toBe(payload.id);
		expect(request.headers['webhook-id']).toBe(payload.id);
		expect(request.headers['webhook-timestamp']).toMatch(/^\d+$/);
		expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
		expect(request.headers['keycrate-signature']).toBeUndefined();
		expect(verifyHandoffSignature(request.body, request.headers, SECRET)).toBe(true);
	});

	it('sends the same body and idempotency key on every attempt', async () => {
		answer = 503;
		await expect(deliverHandoff(config(), payload)).rejects.toBeInstanceOf(HandoffDeliveryError);
		answer = 204;
		await deliverHandoff(config(), payload);
		expect(received.map((request) => request.body)).toEqual([received[0].body, received[0].body]);
		expect(received.map((request) => request.headers['idempotency-key'])).toEqual([payload.id, payload.id]);
	});

	it.each([400, 401, 404, 410, 422])('gives up for good on HTTP %i', async (status) => {
		answer = status;
		const error = await deliverHandoff(config(), payload).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(HandoffRejectedError);
		expect(error).toBeInstanceOf(UnrecoverableError);
		expect((error as Error).message).toBe(`LICENSE_WEBHOOK_URL refused the hand-off: HTTP ${status}`);
	});

	it.each([408, 429, 500, 502, 503])('leaves HTTP %i to the job retry', async (status) => {
		answer = status;
		const error = await deliverHandoff(config(), payload).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(HandoffDeliveryError);
		expect(error).not.toBeInstanceOf(UnrecoverableError);
		expect((error as Error).message).toBe(`LICENSE_WEBHOOK_URL did not take the hand-off: HTTP ${status}`);
	});

	it('leaves a receiver that is down to the job retry, without the URL or the secret in the error', async () => {
		const down = http.createServer();
		await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
		const port = (down.address() as AddressInfo).port;
		await new Promise<void>((resolve) => down.close(() => resolve()));
		const error = (await deliverHandoff({ ...config(), licenseWebhookUrl: `http://127.0.0.1:${port}/hook/tok_hidden_path` }, payload).catch(
			(caught: unknown) => caught,
		)) as Error;
		expect(error).toBeInstanceOf(HandoffDeliveryError);
		expect(error.message).toBe('LICENSE_WEBHOOK_URL did not take the hand-off: ECONNREFUSED');
		expect(`${error.message}${error.stack}`).not.toMatch(/tok_hidden_path|lwh_secret/);
		expect(`${error.message}${error.stack}`).not.toContain(SECRET);
	});

	it('refuses to run without a URL and a secret', async () => {
		const error = await deliverHandoff({ licenseWebhookUrl: baseUrl, licenseWebhookSecret: undefined }, payload).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(UnrecoverableError);
		expect((error as Error).message).toBe('LICENSE_WEBHOOK_URL (or a notify_url) and LICENSE_WEBHOOK_SECRET must both be set to post hand-offs');
		expect(received).toEqual([]);
	});
});

describe('signHandoff', () => {
	it('matches the Standard Webhooks test vector', () => {
		// The specification's example: secret, id, timestamp and body give this v1 signature.
		const headers = signHandoff('msg_p5jXN8AQM9LWM0D4loKWxJek', '{"test": 2432232314}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 1614265330);
		expect(headers).toEqual({
			'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
			'webhook-timestamp': '1614265330',
			'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
		});
	});
});

describe('verifyHandoffSignature', () => {
	const body = JSON.stringify({ type: 'license.created', id: 'kclh_1' });
	const timestamp = Math.floor(now / 1000);
	const headers = signHandoff('kclh_1', body, SECRET, timestamp);
	const OLD_SECRET = `whsec_${Buffer.from('an older secret, rotated away..').toString('base64')}`;

	it('accepts the signature of this body by this secret within the tolerance, whatever the header case', () => {
		expect(verifyHandoffSignature(body, headers, SECRET, 300, now)).toBe(true);
		expect(verifyHandoffSignature(Buffer.from(body), headers, SECRET, 300, now + 299000)).toBe(true);
		expect(verifyHandoffSignature(body, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])), SECRET, 300, now)).toBe(true);
	});

	it('accepts several space-separated signatures when one matches (secret rotation)', () => {
		const other = signHandoff('kclh_1', body, OLD_SECRET, timestamp)['webhook-signature'];
		expect(verifyHandoffSignature(body, { ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` }, SECRET, 300, now)).toBe(true);
		expect(verifyHandoffSignature(body, { ...headers, 'webhook-signature': other }, SECRET, 300, now)).toBe(false);
	});

	it.each([
		['another secret', body, headers, OLD_SECRET, now],
		['a secret that is not whsec_<base64>', body, headers, 'whsec_not*base64', now],
		['a changed body', body.replace('kclh_1', 'kclh_2'), headers, SECRET, now],
		['another webhook-id', body, { ...headers, 'webhook-id': 'kclh_2' }, SECRET, now],
		['a changed timestamp', body, { ...headers, 'webhook-timestamp': String(timestamp + 1) }, SECRET, now],
		['a stale timestamp', body, headers, SECRET, now + 301000],
		['a timestamp from the future', body, headers, SECRET, now - 301000],
		['no headers', body, {}, SECRET, now],
		['no webhook-id', body, { ...headers, 'webhook-id': undefined }, SECRET, now],
		['a non-numeric timestamp', body, { ...headers, 'webhook-timestamp': 'soon' }, SECRET, now],
		['a truncated signature', body, { ...headers, 'webhook-signature': headers['webhook-signature'].slice(0, -2) }, SECRET, now],
	])('refuses %s', (_name, checkedBody, checkedHeaders, secret, at) => {
		expect(verifyHandoffSignature(checkedBody, checkedHeaders, secret, 300, at)).toBe(false);
	});
});

describe('webhookSecretProblem', () => {
	const good = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
	it.each([
		[good, undefined],
		[`whsec_${Buffer.alloc(24, 7).toString('base64')}`, undefined],
		['hunter2-plain-secret', 'must be a Standard Webhooks secret "whsec_<base64>" (a plain secret is no longer accepted)'],
		['whsec_', 'must be "whsec_" followed by standard base64'],
		[`whsec_${Buffer.alloc(32, 250).toString('base64url')}`, 'must be "whsec_" followed by standard base64'],
		[`whsec_${Buffer.alloc(16, 7).toString('base64')}`, 'must hold at least 24 random bytes after "whsec_" (it holds 16)'],
	])('%s → %s', (secret, problem) => {
		const found = webhookSecretProblem(secret);
		if (problem === undefined) expect(found).toBeUndefined();
		else {
			expect(found).toContain(problem);
			expect(found).toContain("randomBytes(32).toString('base64')");
			expect(found).not.toContain(secret.slice(6, 20) || 'hunter2');
		}
	});
});
