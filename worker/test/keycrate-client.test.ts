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
function harness(options: { apiKey?: string; appId?: string; url?: string; timeoutMs?: number; onSleep?: (waits: number[]) => void } = {}): Harness {
	const waits: number[] = [];
	const client = createKeycrateClient(
		{
			keycrateApiUrl: options.url ?? emu.url,
			keycrateApiKey: options.apiKey ?? emu.apiKey,
			keycrateAppId: options.appId ?? emu.appId,
			keycrateTimeoutMs: options.timeoutMs ?? 5000,
		},
		{
			sleep: async (ms) => {
				waits.push(ms);
				options.onSleep?.(waits);
			},
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
		const found = (await client.findLicensesByTag('kc-many')) as { license_key: string; created_at: string }[];
		expect(found.map((license) => license.license_key).sort()).toEqual([...keys].sort());
		const created = found.map((license) => license.created_at);
		expect(created).toEqual([...created].sort());
		expect(calls('/license/get-bulk')['200']).toBe(2);
		expect(await client.findLicensesByTag('kc-none')).toEqual([]);
	});

	it('deletes a license, and a license already gone counts as deleted', async () => {
		const { client } = harness();
		const license = await client.createLicense(createBody());
		await client.deleteLicense(license.license_key);
		await client.deleteLicense(license.license_key);
		expect(licenseCount()).toBe(0);
		expect(calls('/license/delete')).toEqual({ '200': 1, '404': 1 });
	});

	it('replaces metadata (a set-to-value write)', async () => {
		const { client } = harness();
		const license = await client.createLicense(createBody());
		expect((await client.updateMetadata(license.license_key, { a: 1 })).metadata).toEqual({ a: 1 });
	});
});

describe('error_500: retried for idempotent calls only', () => {
	it('retries a read after 50 ms and 500 ms (never longer in-process), then gives up with a retryable error', async () => {
		const { client } = harness();
		const license = await client.createLicense(createBody());
		faults({ endpoint: '/license/get', kind: 'error_500' });
		const error = await failure(client.getLicense(license.license_key));
		expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 500, retryable: true, ambiguous: true, permanent: false, endpoint: '/license/get' });
		expect(error.message).toBe('Keycrate /license/get: SERVER_ERROR (HTTP 500): injected fault: server error');
		expect(calls('/license/get')['500']).toBe(3);
	});

	it('succeeds on a retry once the fault is gone', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness({ onSleep: (done) => done.length === 2 && faults() });
		faults({ endpoint: '/license/update-status', kind: 'error_500' });
		expect((await client.updateStatus(license.license_key, 'paused')).status).toBe('paused');
		expect(waits).toEqual([50, 500]);
	});

	it('does not re-send a create: it may have been applied', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '/license/create', kind: 'error_500' });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'SERVER_ERROR', ambiguous: true, retryable: true, permanent: false });
		expect(waits).toEqual([]);
		expect(calls('/license/create')['500']).toBe(1);
	});

	it('does not re-send an extend', async () => {
		const { client, waits } = harness();
		const license = await client.createLicense(createBody());
		faults({ endpoint: '/license/extend', kind: 'error_500' });
		expect((await failure(client.extendLicense(license.license_key, 60))).ambiguous).toBe(true);
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

	it('re-sends a status update after an answered 500 (set-to-value: the answer settles it), which lands once', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness({ onSleep: () => faults() });
		faults({ endpoint: '/license/update-status', kind: 'commit_then_500' });
		expect((await client.updateStatus(license.license_key, 'paused')).status).toBe('paused');
		expect(waits).toEqual([50]);
		expect(calls('/license/update-status')).toEqual({ '500': 1, '200': 1 });
	});
});

describe('error_429: refused, never applied, so every call may retry', () => {
	it('honours a Retry-After of up to 1 s in-process, also for a create, and creates exactly one license', async () => {
		const { client, waits } = harness({ onSleep: () => faults() });
		faults({ endpoint: '/license/create', kind: 'error_429', retry_after_s: 1 });
		await client.createLicense(createBody());
		expect(waits).toEqual([1000]);
		expect(licenseCount()).toBe(1);
	});

	it('gives up after the short schedule with a retryable, unambiguous RATE_LIMITED', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '*', kind: 'error_429', retry_after_s: 1 });
		const error = await failure(client.createLicense(createBody()));
		expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true, ambiguous: false, retryAfterMs: 1000 });
		expect(waits).toEqual([1000, 1000]);
		expect(licenseCount()).toBe(0);
	});

	it('leaves a Retry-After over 1 s to the job backoff (no long wait holding a job)', async () => {
		const { client, waits } = harness();
		faults({ endpoint: '/license/get', kind: 'error_429', retry_after_s: 2 });
		const error = await failure(client.getLicense('ABCD'));
		expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000, retryable: true });
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
		expect(waits).toEqual([50]);
	});

	it('does not re-send a status update that got no answer: it may still land (the sync retries after it settled)', async () => {
		const { client: setup } = harness();
		const license = await setup.createLicense(createBody());
		const { client, waits } = harness();
		faults({ endpoint: '/license/update-status', kind: 'drop_connection' });
		expect(await failure(client.updateStatus(license.license_key, 'paused'))).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true });
		expect(waits).toEqual([]);
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
		expect(waits).toEqual([50, 500]);
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
		expect(waits).toEqual([50, 500]);
		reply = { status: 418, body: '' };
		expect(await failure(client.getLicense('ABCD'))).toMatchObject({ code: 'BAD_RESPONSE', status: 418, permanent: true });
	});
});

describe('tolerant reading (a real Keycrate may answer in a shape we only inferred)', () => {
	let server: http.Server;
	let url: string;
	let pages: unknown[];

	beforeAll(async () => {
		server = http.createServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => {
				const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { page?: number };
				const reply = request.url === '/license/get-bulk' ? (pages[(body.page ?? 1) - 1] ?? []) : pages[0];
				response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	const licenses = (from: number, count: number) => Array.from({ length: count }, (_, index) => ({ license_key: `K${from + index}` }));

	it('pages without `pagination` until a page comes back short', async () => {
		pages = [{ data: licenses(0, 100) }, { data: licenses(100, 100) }, { data: licenses(200, 7) }];
		expect(await harness({ url }).client.findLicensesByTag('t')).toHaveLength(207);
	});

	it('reads a bare array page, and stops at an empty page', async () => {
		pages = [licenses(0, 100), []];
		expect(await harness({ url }).client.findLicensesByTag('t')).toHaveLength(100);
	});

	it('reads a license with or without the `data` wrapper', async () => {
		pages = [{ license_key: 'BARE', status: 'active' }];
		expect((await harness({ url }).client.getLicense('BARE'))?.license_key).toBe('BARE');
		pages = [{ data: { license_key: 'WRAPPED' } }];
		expect((await harness({ url }).client.getLicense('WRAPPED'))?.license_key).toBe('WRAPPED');
	});

	it('an error envelope under a 200 is an error', async () => {
		pages = [{ error: 'no such license', error_code: 'LICENSE_NOT_FOUND' }];
		expect(await harness({ url }).client.getLicense('X')).toBeNull();
		pages = [{ error: 'bad', error_code: 'INVALID_INPUT' }];
		expect(await failure(harness({ url }).client.updateStatus('X', 'paused'))).toMatchObject({ code: 'INVALID_INPUT', permanent: true });
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
