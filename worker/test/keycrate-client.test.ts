// The Keycrate client against the real emulator over HTTP, with every fault kind the emulator injects.
// The retry schedule is injected (a recording sleep), so the tests check the waits without waiting.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator, type FaultRule } from '@keycrate/emulator';
import { createKeycrateClient, KeycrateClient, KeycrateError, parseRetryAfter, type LicenseCreateRequest } from '../src/keycrate/client.js';
import { isPermanentKeycrateError } from '../src/keycrate/errors.js';

let emu: Emulator;
const clients: KeycrateClient[] = [];

beforeAll(async () => {
	emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
	for (const client of clients) client.close();
	await emu.stop();
});
beforeEach(() => emu.reset());

interface Harness {
	client: KeycrateClient;
	/** Every wait the client asked for, in ms. */
	waits: number[];
}

/** A client on the emulator whose sleeps are recorded; `onSleep` runs at each wait (e.g. to lift a fault). */
function harness(options: { apiKey?: string; appId?: string; url?: string; timeoutMs?: number; maxBatch?: number; maxRetryAfterMs?: number; onSleep?: (waits: number[]) => void } = {}): Harness {
	const waits: number[] = [];
	const client = createKeycrateClient(
		{
			keycrateApiUrl: options.url ?? emu.url,
			keycrateApiKey: options.apiKey ?? emu.apiKey,
			keycrateAppId: options.appId ?? emu.appId,
			keycrateTimeoutMs: options.timeoutMs ?? 5000,
			keycrateMaxBatch: options.maxBatch ?? 1000,
		},
		{
			sleep: async (ms) => {
				waits.push(ms);
				options.onSleep?.(waits);
			},
			maxRetryAfterMs: options.maxRetryAfterMs,
		},
	);
	clients.push(client);
	return { client, waits };
}

function createBody(tag = 'kc-test', overrides: Partial<LicenseCreateRequest> = {}): LicenseCreateRequest {
	return { app_id: emu.appId, duration_unit: 'days', duration_value: 30, tags: ['stripe', tag], metadata: { stripe_customer: 'cus_1' }, ...overrides };
}

async function failure(promise: Promise<unknown>): Promise<KeycrateError> {
	try {
		await promise;
	} catch (error) {
		expect(error).toBeInstanceOf(KeycrateError);
		const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}\n${JSON.stringify(error)}`;
		expect(text).not.toContain(emu.apiKey);
		return error as KeycrateError;
	}
	throw new Error('expected the call to fail');
}

function calls(endpoint: string): Record<string, number> {
	return emu.calls()[endpoint] ?? {};
}

function licenseCount(): number {
	return emu.state().apps.reduce((sum, app) => sum + app.licenses.length, 0);
}

function faults(...rules: FaultRule[]): void {
	emu.setFaults(rules);
}

describe('calls without faults', () => {
	it('creates, reads, extends, pauses and re-tiers a license', async () => {
		const { client } = harness();
		const created = await client.createLicense(createBody());
		expect(created).toMatchObject({ app_id: emu.appId, status: 'active', tags: ['stripe', 'kc-test'], metadata: { stripe_customer: 'cus_1' } });
		expect(await client.getLicense(created.license_key)).toEqual(created);

		const extended = await client.extendLicense(created.license_key, 3600);
		expect(Date.parse(extended.expires_at as string) - Date.parse(created.expires_at as string)).toBe(3600 * 1000);

		expect((await client.updateStatus(created.license_key, 'paused')).status).toBe('paused');
		expect((await client.updateStatus(created.license_key, 'active')).status).toBe('active');
	});

	it('moves a license to a tier and off it again', async () => {
		const { client } = harness();
		const tier = await fetch(`${emu.url}/subscription/create`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': emu.apiKey },
			body: JSON.stringify({ app_id: emu.appId, name: 'Pro', level: 1 }),
		}).then((response) => response.json() as Promise<{ data: { subscription_id: string } }>);
		const license = await client.createLicense(createBody());
		expect((await client.updateSubscription(license.license_key, tier.data.subscription_id)).subscription_id).toBe(tier.data.subscription_id);
		expect((await client.updateSubscription(license.license_key, null)).subscription_id).toBeNull();
	});

	it('answers null for a license that does not exist', async () => {
		expect(await harness().client.getLicense('NOPE-NOPE-NOPE-NOPE')).toBeNull();
	});

	it('finds every license with a tag across pages, oldest first, and no other', async () => {
		const { client } = harness();
		const keys: string[] = [];
		for (let index = 0; index < 105; index++) keys.push((await client.createLicense(createBody('kc-many'))).license_key);
		await client.createLicense(createBody('kc-other'));
		const found = await client.findLicensesByTag('kc-many');
		expect(found.map((license) => license.license_key).sort()).toEqual([...keys].sort());
		const created = found.map((license) => license.created_at);
		expect(created).toEqual([...created].sort());
		expect(calls('/license/get-bulk')['200']).toBe(2);
		expect(await client.findLicensesByTag('kc-none')).toEqual([]);
	});

	it('splits bulk status updates and extensions into calls of at most KEYCRATE_MAX_BATCH keys', async () => {
		const { client } = harness({ maxBatch: 2 });
		const keys: string[] = [];
		for (let index = 0; index < 5; index++) keys.push((await client.createLicense(createBody())).license_key);

		const paused = await client.updateStatusBulk([...keys, keys[0]], 'paused');
		expect(paused.map((result) => [result.license_key, result.success])).toEqual(keys.map((key) => [key, true]));
		expect(calls('/license/update-status-bulk')['200']).toBe(3);
		for (const key of keys) expect((await client.getLicense(key))?.status).toBe('paused');

		const before = await client.getLicense(keys[4]);
		const extended = await client.extendBulk(keys, 60);
		expect(extended.every((result) => result.success)).toBe(true);
		expect(calls('/license/extend-bulk')['200']).toBe(3);
		const after = await client.getLicense(keys[4]);
		expect(Date.parse(after?.expires_at as string) - Date.parse(before?.expires_at as string)).toBe(60000);
	});
});

describe('error_500: retried for idempotent calls only', () => {
	it('retries a read after 1 s, 4 s, 10 s, then gives up with a retryable error', async () => {
		const { client } = harness();
		const license = await client.createLicense(createBody());
		faults({ endpoint: '/license/get', kind: 'error_500' });
		const error = await failure(client.getLicense(license.license_key));
		expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 500, retryable: true, ambiguous: true, permanent: false, endpoint: '/license/get' });
		expect(error.message).toBe('Keycrate /license/get: SERVER_ERROR (HTTP 500): injected fault: server error');
		expect(calls('/license/get')['500']).toBe(4);
	});

	it('succeeds on a retry once the fault is gone', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness({ onSleep: (done) => done.length === 2 && faults() });
		faults({ endpoint: '/license/update-status', kind: 'error_500' });
		expect((await client.updateStatus(license.license_key, 'paused')).status).toBe('paused');
		expect(waits).toEqual([1000, 4000]);
	});

	it('does not re-send a create: it may have been applied', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '/license/create', kind: 'error_500' });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'SERVER_ERROR', ambiguous: true, retryable: true, permanent: false });
		expect(waits).toEqual([]);
		expect(calls('/license/create')['500']).toBe(1);
	});

	it('does not re-send an extend or a bulk extend', async () => {
		const { client, waits } = harness();
		const license = await client.createLicense(createBody());
		faults({ endpoint: '/license/extend', kind: 'error_500' }, { endpoint: '/license/extend-bulk', kind: 'error_500' });
		expect((await failure(client.extendLicense(license.license_key, 60))).ambiguous).toBe(true);
		expect((await failure(client.extendBulk([license.license_key], 60))).ambiguous).toBe(true);
		expect(waits).toEqual([]);
	});
});

describe('commit_then_500: the change happened, the reply was lost', () => {
	it('reports a create as ambiguous, once, and the license is there to be found by its tag', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '/license/create', kind: 'commit_then_500' });
		const error = await failure(client.createLicense(createBody('kc-seat-1')));
		expect(error).toMatchObject({ ambiguous: true, retryable: true });
		expect(waits).toEqual([]);
		faults();
		expect(await client.findLicensesByTag('kc-seat-1')).toHaveLength(1);
		expect(licenseCount()).toBe(1);
	});

	it('reports an extend as ambiguous and does not apply it twice', async () => {
		const { client } = harness();
		const license = await client.createLicense(createBody());
		faults({ endpoint: '/license/extend', kind: 'commit_then_500' });
		expect((await failure(client.extendLicense(license.license_key, 3600))).ambiguous).toBe(true);
		faults();
		const after = await client.getLicense(license.license_key);
		expect(Date.parse(after?.expires_at as string) - Date.parse(license.expires_at as string)).toBe(3600 * 1000);
	});

	it('re-sends a status update, which lands once', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness({ onSleep: () => faults() });
		faults({ endpoint: '/license/update-status', kind: 'commit_then_500' });
		expect((await client.updateStatus(license.license_key, 'paused')).status).toBe('paused');
		expect(waits).toEqual([1000]);
		expect(calls('/license/update-status')).toEqual({ '500': 1, '200': 1 });
	});
});

describe('error_429: refused, never applied, so every call may retry', () => {
	it('honours Retry-After, also for a create, and creates exactly one license', async () => {
		const { client, waits } = harness({ onSleep: () => faults() });
		faults({ endpoint: '/license/create', kind: 'error_429', retry_after_s: 2 });
		await client.createLicense(createBody());
		expect(waits).toEqual([2000]);
		expect(licenseCount()).toBe(1);
	});

	it('gives up after the schedule with a retryable, unambiguous RATE_LIMITED', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '*', kind: 'error_429', retry_after_s: 1 });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true, ambiguous: false, retryAfterMs: 1000 });
		expect(waits).toEqual([1000, 1000, 1000]);
		expect(licenseCount()).toBe(0);
	});

	it('leaves a Retry-After longer than it will wait to the job backoff', async () => {
		const { client, waits } = harness({ maxRetryAfterMs: 30000 });
		faults({ endpoint: '/license/get', kind: 'error_429', retry_after_s: 120 });
		const error = await failure(client.getLicense('ABCD'));
		expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 120000, retryable: true });
		expect(waits).toEqual([]);
	});
});

describe('drop_connection and timeouts: no reply at all', () => {
	it('does not re-send a create over a dropped connection', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '/license/create', kind: 'drop_connection' });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true, retryable: true });
		expect(error.status).toBeUndefined();
		expect(waits).toEqual([]);
	});

	it('re-sends a read over a dropped connection', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness({ onSleep: () => faults() });
		faults({ endpoint: '/license/get', kind: 'drop_connection' });
		expect((await client.getLicense(license.license_key))?.license_key).toBe(license.license_key);
		expect(waits).toEqual([1000]);
	});

	it('times out after KEYCRATE_TIMEOUT_MS and treats it as ambiguous', async () => {
		const { client } = harness({ timeoutMs: 150 });
		faults({ endpoint: '/license/create', kind: 'latency', latency_ms: 1000 });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true, retryable: true });
		expect(error.message).toContain('ETIMEDOUT');
	});

	it('retries even a create when nothing listens: the request never left', async () => {
		const closed = await startEmulator({ port: 0 });
		const url = closed.url;
		await closed.stop();
		const { client, waits } = harness({ url });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'UNREACHABLE', ambiguous: false, retryable: true });
		expect(waits).toEqual([1000, 4000, 10000]);
	});
});

describe('refusals no retry can fix', () => {
	it('INVALID_API_KEY is permanent and the message does not echo the key', async () => {
		const { client, waits } = harness({ apiKey: 'kc_wrong_key_0123456789' });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'INVALID_API_KEY', status: 401, permanent: true, retryable: false, ambiguous: false });
		expect(error.message).not.toContain('kc_wrong_key_0123456789');
		expect(isPermanentKeycrateError(error)).toBe(true);
		expect(waits).toEqual([]);
	});

	it('INVALID_INPUT is permanent and names the field', async () => {
		const error = await failure(harness().client.createLicense(createBody('kc-test', { duration_value: 0 })));
		expect(error).toMatchObject({ code: 'INVALID_INPUT', status: 400, permanent: true, field: 'duration_value' });
		expect(error.message).toMatch(/^Keycrate \/license\/create: INVALID_INPUT \(HTTP 400\): .*duration_value/);
	});

	it('APP_NOT_FOUND is permanent', async () => {
		const otherApp = '00000000-0000-4000-8000-000000000000';
		const error = await failure(harness({ appId: otherApp }).client.findLicensesByTag('x'));
		expect(error).toMatchObject({ code: 'APP_NOT_FOUND', status: 404, permanent: true });
	});

	it('LICENSE_NOT_FOUND is permanent for a write', async () => {
		const error = await failure(harness().client.updateStatus('GONE-GONE', 'paused'));
		expect(error).toMatchObject({ code: 'LICENSE_NOT_FOUND', permanent: true });
		expect(isPermanentKeycrateError(new Error('other'))).toBe(false);
	});
});

describe('replies the contract does not promise (a local fake server)', () => {
	const apiKey = 'kc_live_secret_0123456789';
	let server: http.Server;
	let url: string;
	let reply: { status: number; body: string };

	beforeAll(async () => {
		server = http.createServer((_request, response) => {
			response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it('removes the API key from an error text the server echoes', async () => {
		reply = { status: 403, body: JSON.stringify({ error: `key ${apiKey} may not do this`, error_code: 'ACCESS_DENIED' }) };
		const { client } = harness({ url, apiKey });
		const error = await failure(client.getLicense('ABCD'));
		expect(error.message).toBe('Keycrate /license/get: ACCESS_DENIED (HTTP 403): key [redacted] may not do this');
		expect(error.permanent).toBe(true);
	});

	it('calls a created-but-unreadable reply ambiguous, so the create is not sent again', async () => {
		reply = { status: 200, body: '<html>proxy</html>' };
		const { client, waits } = harness({ url, apiKey });
		expect(await failure(client.createLicense(createBody()))).toMatchObject({ code: 'BAD_RESPONSE', ambiguous: true, retryable: true });
		reply = { status: 200, body: JSON.stringify({ data: { nothing: true } }) };
		expect(await failure(client.createLicense(createBody()))).toMatchObject({ code: 'BAD_RESPONSE', ambiguous: true });
		expect(waits).toEqual([]);
	});

	it('treats an error without the envelope by its HTTP status', async () => {
		reply = { status: 502, body: 'Bad Gateway' };
		const { client, waits } = harness({ url, apiKey });
		expect(await failure(client.getLicense('ABCD'))).toMatchObject({ code: 'SERVER_ERROR', status: 502, ambiguous: true, retryable: true });
		expect(waits).toEqual([1000, 4000, 10000]);
		reply = { status: 418, body: '' };
		expect(await failure(client.getLicense('ABCD'))).toMatchObject({ code: 'BAD_RESPONSE', status: 418, permanent: true });
	});
});

describe('parseRetryAfter', () => {
	it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
		const now = Date.parse('2026-11-27T06:00:00Z');
		expect(parseRetryAfter('3', now)).toBe(3000);
		expect(parseRetryAfter('Fri, 27 Nov 2026 06:00:05 GMT', now)).toBe(5000);
		expect(parseRetryAfter('Fri, 27 Nov 2026 05:59:00 GMT', now)).toBe(0);
		expect(parseRetryAfter('soon', now)).toBeUndefined();
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
	});
});
