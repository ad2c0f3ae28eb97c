/**
 * The Keycrate Sync Trigger through n8n-core's WebhookContext: Standard Webhooks deliveries signed as
 * the worker signs them (with the standardwebhooks package, as worker/src/jobs/handoff.ts does), and
 * the refusals. The pure decisions (verify.ts) have their own table tests below.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

import { rememberDelivery, secretKey, toItem, verifyDelivery } from '../../nodes/KeycrateSyncTrigger/verify';
import { createSyncTrigger, testSyncTriggerCredential } from './harness';

/** The worker's signHandoff (an ESM module with ESM-only dependencies, so not imported here): the same library call. */
function signHandoff(id: string, body: string, secret: string, timestamp: number) {
	return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': new Webhook(secret).sign(id, new Date(timestamp * 1000), body) };
}

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const licenseCreated = (id = `kclh_${randomBytes(16).toString('hex')}`) => ({
	type: 'license.created',
	id,
	created: Math.floor(Date.now() / 1000),
	data: {
		license_key: 'ABCD-EFGH-IJKL-MNOP',
		email: 'ada@example.com',
		customer_id: 'cus_Test',
		checkout_session_id: 'cs_test_1',
		payment_intent_id: 'pi_1',
		subscription_id: null,
		expires_at: '2027-01-01T00:00:00.000Z',
		status: 'active',
	},
});

const bulkCompleted = () => ({
	type: 'bulk_job.completed',
	id: `job_${randomBytes(6).toString('hex')}`,
	created: Math.floor(Date.now() / 1000),
	data: { job_id: 'job_1', kind: 'create', succeeded: 30, failed: 0, canceled: false, failures: [], calls: 2 },
});

/** A delivery as the worker posts it: JSON body, signed headers (optionally by another secret, at another time). */
function delivery(payload: { id: string; type?: string }, options: { secret?: string; at?: number; body?: string } = {}) {
	const body = JSON.stringify(payload);
	const headers = signHandoff(payload.id, body, options.secret ?? SECRET, Math.floor((options.at ?? Date.now()) / 1000));
	return { headers: { 'content-type': 'application/json', ...headers, 'idempotency-key': payload.id }, rawBody: Buffer.from(options.body ?? body) };
}

describe('Keycrate Sync Trigger', () => {
	it('emits a license.created delivery: the buyer and the license, flat', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created'] });
		const payload = licenseCreated();
		const result = await trigger.deliver(delivery(payload));
		expect(result.response).toBeUndefined();
		expect(result.items?.map((item) => item.json)).toEqual([{ event: 'license.created', id: payload.id, created: payload.created, ...payload.data }]);
	});

	it('emits a bulk_job.completed delivery when that event is chosen', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created', 'bulk_job.completed'] });
		const payload = bulkCompleted();
		const result = await trigger.deliver(delivery(payload));
		expect(result.items?.map((item) => item.json)).toEqual([{ event: 'bulk_job.completed', id: payload.id, created: payload.created, ...payload.data }]);
	});

	it('acknowledges and drops an event that is not among Events (no workflow run)', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['bulk_job.completed'] });
		const result = await trigger.deliver(delivery(licenseCreated()));
		expect(result.items).toBeUndefined();
		expect(result.response).toBeUndefined();
		expect(result.webhookResponse).toEqual({ received: true, ignored: "license.created is not among the node's Events" });
		const unknown = await trigger.deliver(delivery({ ...licenseCreated(), type: 'license.exploded' }));
		expect(unknown.webhookResponse).toEqual({ received: true, ignored: 'unknown event license.exploded' });
	});

	it('runs a replayed (or retried) webhook-id once, answering the repeat 200 so the sender stops', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created'] });
		const payload = licenseCreated();
		expect((await trigger.deliver(delivery(payload))).items).toHaveLength(1);
		// The same request again, and the worker's retry re-signed later under the same id.
		const again = await trigger.deliver(delivery(payload));
		const retried = await trigger.deliver(delivery(payload, { at: Date.now() + 60000 }));
		for (const result of [again, retried]) {
			expect(result.items).toBeUndefined();
			expect(result.webhookResponse).toEqual({ received: true, duplicate: payload.id });
		}
		expect((await trigger.deliver(delivery(licenseCreated()))).items).toHaveLength(1);
		// n8n keeps the node's static data under "node:<name>" and saves it after each webhook call.
		expect(Object.keys((trigger.staticData()['node:Keycrate Sync Trigger'] as { seen: object }).seen)).toHaveLength(2);
	});

	it.each([
		[
			'a tampered body',
			() => delivery(licenseCreated(), { body: JSON.stringify({ ...licenseCreated(), data: { license_key: 'STOLEN' } }) }),
			401,
			'webhook-signature does not match this body',
		],
		[
			'another secret',
			() => delivery(licenseCreated(), { secret: OTHER_SECRET }),
			401,
			"the credential's Signing Secret must be the worker's LICENSE_WEBHOOK_SECRET",
		],
		[
			'a stale timestamp (a replay after the tolerance)',
			() => delivery(licenseCreated(), { at: Date.now() - 330000 }),
			401,
			/^webhook-timestamp is 3[34]\d s old, outside the tolerance of 300 s: a replayed or delayed delivery/,
		],
		['a timestamp in the future', () => delivery(licenseCreated(), { at: Date.now() + 400000 }), 401, /^webhook-timestamp is (399|400) s in the future/],
	])('refuses %s', async (_name, make, status, error) => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created'] });
		const result = await trigger.deliver(make());
		expect(result.items).toBeUndefined();
		expect(result.response?.status).toBe(status);
		expect((result.response?.body as { error: string }).error).toMatch(error);
		expect(JSON.stringify(result.response)).not.toContain(SECRET.slice(6));
	});

	it('refuses a delivery without the Standard Webhooks headers with 400, naming them', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created'] });
		const result = await trigger.deliver({ headers: { 'content-type': 'application/json' }, rawBody: Buffer.from('{}') });
		expect(result.response).toEqual({
			status: 400,
			body: {
				error:
					"Missing webhook-id, webhook-timestamp, webhook-signature headers: this URL takes only deliveries of the Keycrate worker (its LICENSE_WEBHOOK_URL, or a bulk job's notify_url), signed with Standard Webhooks",
			},
		});
		const { headers, rawBody } = delivery(licenseCreated());
		const noSignature = await trigger.deliver({ headers: { ...headers, 'webhook-signature': undefined }, rawBody });
		expect((noSignature.response?.body as { error: string }).error).toMatch(/^Missing webhook-signature header:/);
	});

	it('honours the Tolerance option', async () => {
		const trigger = createSyncTrigger(SECRET, { events: ['license.created'], options: { toleranceSeconds: 3600 } });
		expect((await trigger.deliver(delivery(licenseCreated(), { at: Date.now() - 1800000 }))).items).toHaveLength(1);
	});

	it('fails (an error execution, n8n answers 500) when the credential secret is not whsec_<base64>, and says so at activation', async () => {
		const trigger = createSyncTrigger('plain-old-secret', { events: ['license.created'] });
		await expect(trigger.deliver(delivery(licenseCreated()))).rejects.toThrow(
			'The Signing Secret must be a Standard Webhooks secret, "whsec_" followed by base64',
		);
		await expect(trigger.activate()).rejects.toThrow("use the value of the worker's LICENSE_WEBHOOK_SECRET");
		await expect(createSyncTrigger(SECRET, { events: ['license.created'] }).activate()).resolves.toBe(true);
	});

	it('tests the credential by its format', async () => {
		expect(await testSyncTriggerCredential(SECRET)).toEqual({ status: 'OK', message: 'The Signing Secret is a valid Standard Webhooks secret' });
		expect(await testSyncTriggerCredential('hunter2')).toMatchObject({ status: 'Error' });
	});
});

describe('verifyDelivery', () => {
	const key = Buffer.from(SECRET.slice(6), 'base64');
	const now = Date.parse('2026-12-01T00:00:00Z');
	const signed = delivery(licenseCreated('kclh_1'), { at: now });

	it('matches the Standard Webhooks test vector', () => {
		const vector = {
			headers: {
				'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
				'webhook-timestamp': '1614265330',
				'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
			},
			rawBody: Buffer.from('{"test": 2432232314}'),
			key: (secretKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') as { key: Buffer }).key,
			toleranceSeconds: 300,
			now: 1614265330000,
		};
		expect(verifyDelivery(vector)).toEqual({ ok: true, id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: { test: 2432232314 } });
	});

	it('accepts one matching signature among several (rotation)', () => {
		const other = delivery(licenseCreated('kclh_1'), { at: now, secret: OTHER_SECRET }).headers['webhook-signature'];
		const headers = { ...signed.headers, 'webhook-signature': `${other} ${signed.headers['webhook-signature']}` };
		expect(verifyDelivery({ headers, rawBody: signed.rawBody, key, toleranceSeconds: 300, now })).toMatchObject({ ok: true, id: 'kclh_1' });
	});

	it.each([
		['no raw body', { rawBody: undefined }, 400, 'no body n8n could read'],
		['a non-numeric timestamp', { headers: { ...signed.headers, 'webhook-timestamp': '1.5e9' } }, 400, 'whole Unix seconds'],
		['another id', { headers: { ...signed.headers, 'webhook-id': 'kclh_2' } }, 401, 'does not match'],
		['a signature without v1,', { headers: { ...signed.headers, 'webhook-signature': signed.headers['webhook-signature'].slice(3) } }, 401, 'does not match'],
		['a signed body that is not JSON', { body: 'not json' }, 400, 'not JSON'],
		['the edge of the tolerance plus one', { now: now + 301000 }, 401, 'outside the tolerance'],
	])('refuses %s', (_name, change, status, error) => {
		let input = {
			headers: signed.headers as Record<string, string | undefined>,
			rawBody: signed.rawBody as Buffer | undefined,
			key,
			toleranceSeconds: 300,
			now,
			...change,
		};
		if ('body' in change) {
			const resigned = delivery({ id: 'kclh_1' }, { at: now, body: change.body });
			const headers = signHandoff('kclh_1', change.body as string, SECRET, Math.floor(now / 1000));
			input = { ...input, headers: { ...resigned.headers, ...headers }, rawBody: Buffer.from(change.body as string) };
		}
		expect(verifyDelivery(input)).toEqual({ ok: false, status, error: expect.stringContaining(error) });
	});

	it('accepts the edge of the tolerance', () => {
		expect(verifyDelivery({ ...signed, key, toleranceSeconds: 300, now: now + 300000 })).toMatchObject({ ok: true });
	});
});

describe('secretKey', () => {
	it.each([
		[`whsec_${Buffer.alloc(32, 1).toString('base64')}`, 32],
		[` whsec_${Buffer.alloc(24, 1).toString('base64')}\n`, 24],
		['plain-secret', 'must be a Standard Webhooks secret'],
		['whsec_', 'must be a Standard Webhooks secret'],
		[`whsec_${Buffer.alloc(32, 250).toString('base64url')}`, 'must be a Standard Webhooks secret'],
		[`whsec_${Buffer.alloc(16, 1).toString('base64')}`, 'holds 16 bytes after "whsec_"; it needs at least 24'],
	])('%j → %s', (secret, expected) => {
		const result = secretKey(secret);
		if (typeof expected === 'number') expect('key' in result && result.key.length).toBe(expected);
		else expect('problem' in result && result.problem).toContain(expected);
	});
});

describe('rememberDelivery', () => {
	it.each([
		['a new id is remembered', {}, 'a', 100, { duplicate: false, seen: { a: 200 } }],
		['a remembered id is a duplicate', { a: 200 }, 'a', 150, { duplicate: true, seen: { a: 200 } }],
		['an expired id is forgotten, so it runs again', { a: 200 }, 'a', 200, { duplicate: false, seen: { a: 300 } }],
		['expired ids are dropped', { a: 120, b: 250 }, 'c', 130, { duplicate: false, seen: { b: 250, c: 230 } }],
		['beyond the maximum the oldest goes', { a: 150, b: 160, c: 170 }, 'd', 100, { duplicate: false, seen: { b: 160, c: 170, d: 200 } }],
		['garbage in static data is dropped', { a: 'x' as unknown as number }, 'b', 100, { duplicate: false, seen: { b: 200 } }],
	])('%s', (_name, seen, id, now, expected) => {
		expect(rememberDelivery(seen, id, now, 100, 3)).toEqual(expected);
	});
});

describe('toItem', () => {
	it.each([
		[[1], { problem: 'The signed body must be a JSON object' }],
		[{ id: 'x' }, { problem: 'The signed body has no "type"' }],
		[
			{ type: 'license.created', id: 'x', created: 1, data: { license_key: 'K' } },
			{ event: 'license.created', item: { event: 'license.created', id: 'x', created: 1, license_key: 'K' } },
		],
	])('%j', (body, expected) => {
		expect(toItem(body)).toEqual(expected);
	});
});
