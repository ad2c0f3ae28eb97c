import type { INodeParameters } from 'n8n-workflow';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { runKeycrate, testCredential } from './harness';
import { useEmulator } from './fixtures';
import { setRetryWait } from '../../nodes/Keycrate/transport/retry';

const keycrate = useEmulator();

async function createLicense(): Promise<string> {
	const [created] = await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 30 });
	return created.license_key as string;
}

/** Lets the faults fire for the first `failures` attempts, then clears them (during the retry wait). */
function clearFaultsAfter(failures: number): void {
	setRetryWait(async (ms) => {
		keycrate.retryDelays.push(ms);
		if (keycrate.retryDelays.length >= failures) keycrate.emulator.setFaults([]);
	});
}

describe('retries', () => {
	it('retries a 429 after its Retry-After, then succeeds', async () => {
		const key = await createLicense();
		keycrate.emulator.setFaults([{ endpoint: '/license/get', kind: 'error_429', rate: 1, retry_after_s: 3 }]);
		clearFaultsAfter(1);
		const [license] = await keycrate.runOk({ resource: 'license', operation: 'get', licenseKey: key });
		expect(license.license_key).toBe(key);
		expect(keycrate.retryDelays).toEqual([3000]);
		expect(keycrate.emulator.calls()['/license/get']).toEqual({ '429': 1, '200': 1 });
	});

	it('retries 500s of a read after 1 s and 4 s, then succeeds', async () => {
		const key = await createLicense();
		keycrate.emulator.setFaults([{ endpoint: '/license/get', kind: 'error_500', rate: 1 }]);
		clearFaultsAfter(2);
		const [license] = await keycrate.runOk({ resource: 'license', operation: 'get', licenseKey: key });
		expect(license.license_key).toBe(key);
		expect(keycrate.retryDelays).toEqual([1000, 4000]);
		expect(keycrate.emulator.calls()['/license/get']).toEqual({ '500': 2, '200': 1 });
	});

	it('a delete retried after its first attempt applied says so when Keycrate no longer knows the key', async () => {
		const key = await createLicense();
		keycrate.emulator.setFaults([{ endpoint: '/license/delete', kind: 'commit_then_500', rate: 1 }]);
		clearFaultsAfter(1);
		const result = await keycrate.run({ resource: 'license', operation: 'delete', licenseKey: key });
		expect(keycrate.emulator.calls()['/license/delete']).toEqual({ '500': 1, '404': 1 });
		expect(result.error?.message).toMatch(/\[LICENSE_NOT_FOUND\]$/);
		expect(result.error?.description).toBe(
			'Check the license key. POST /license/delete answered HTTP 404 after 1 retries. An earlier attempt got a server error or no answer and may have been applied: this answer may be its result.',
		);
	});

	it('retries a 429 on Create (nothing was applied)', async () => {
		keycrate.emulator.setFaults([{ endpoint: '/license/create', kind: 'error_429', rate: 1, retry_after_s: 2 }]);
		clearFaultsAfter(1);
		await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1 });
		expect(keycrate.emulator.calls()['/license/create']).toEqual({ '429': 1, '200': 1 });
		expect(keycrate.emulator.state().apps[0].licenses).toHaveLength(1);
	});

	it('retries a dropped connection', async () => {
		const key = await createLicense();
		keycrate.emulator.setFaults([{ endpoint: '/license/get', kind: 'drop_connection', rate: 1 }]);
		clearFaultsAfter(1);
		const [license] = await keycrate.runOk({ resource: 'license', operation: 'get', licenseKey: key });
		expect(license.license_key).toBe(key);
		expect(keycrate.retryDelays).toEqual([1000]);
	});

	it('gives up after 3 retries (1 s, 4 s, 10 s) with the last error', async () => {
		keycrate.emulator.setFaults([{ endpoint: '*', kind: 'error_500', rate: 1 }]);
		const result = await keycrate.run({ resource: 'license', operation: 'get', licenseKey: 'ANY-1' });
		expect(result.error?.message).toMatch(/\[SERVER_ERROR\]$/);
		expect(result.error?.description).toContain('POST /license/get answered HTTP 500 after 3 retries.');
		expect(keycrate.retryDelays).toEqual([1000, 4000, 10000]);
		expect(keycrate.callsTo('/license/get')).toBe(4);
	});

	it('does not retry ACCESS_DENIED or NOT_FOUND', async () => {
		const result = await keycrate.run({ resource: 'license', operation: 'get', licenseKey: 'NOT-THERE' });
		expect(result.error?.message).toMatch(/\[LICENSE_NOT_FOUND\]$/);
		const otherApp = await runKeycrate({
			credentials: keycrate.credentials,
			parameters: { resource: 'subscription', operation: 'getMany', appId: '6f1f2f3e-1111-4222-8333-944455556666', returnAll: true },
		});
		expect(otherApp.error?.message).toMatch(/\[(ACCESS_DENIED|APP_NOT_FOUND)\]$/);
		expect(keycrate.retryDelays).toEqual([]);
		expect(keycrate.callsTo('/license/get') + keycrate.callsTo('/subscription/get-bulk')).toBe(2);
	});
});

describe('write-once calls are never re-sent after a 5xx or a lost answer', () => {
	it('a 5xx on Create Many makes exactly one call and says what to check', async () => {
		keycrate.emulator.setFaults([{ endpoint: '/license/create-bulk', kind: 'commit_then_500', rate: 1 }]);
		const result = await keycrate.run({ resource: 'license', operation: 'createBulk', keyAmount: 50, durationUnit: 'days', durationValue: 1 });
		expect(keycrate.callsTo('/license/create-bulk')).toBe(1);
		expect(keycrate.retryDelays).toEqual([]);
		expect(keycrate.emulator.state().apps[0].licenses).toHaveLength(50); // applied once, not twice
		expect(result.error?.message).toBe('injected fault: the change was applied but the reply was lost [SERVER_ERROR]');
		expect(result.error?.description).toBe(
			'Keycrate may have applied this call; the node does not send it again. Before running this item again, count the licenses in Keycrate (Get Many sorted by Created At, or filtered by a tag you set), or up to a whole batch may be created twice. POST /license/create-bulk answered HTTP 500. 0 of 50 licenses were created before this call failed. This call asked for 50 more, which may exist now.',
		);
	});

	it('Create Many with Continue On Fail counts the unconfirmed licenses apart', async () => {
		keycrate.emulator.setFaults([{ endpoint: '/license/create-bulk', kind: 'error_500', rate: 1 }]);
		const result = await keycrate.run(
			{ resource: 'license', operation: 'createBulk', keyAmount: 25, durationUnit: 'days', durationValue: 1, options: { batchSize: 10 } },
			{ continueOnFail: true },
		);
		expect(keycrate.callsTo('/license/create-bulk')).toBe(1);
		expect(result.items.map((item) => item.json)).toEqual([
			expect.objectContaining({ error_code: 'SERVER_ERROR', licenses_unconfirmed: 10, licenses_not_created: 15 }),
		]);
	});

	it('a 5xx on Create, Extend and Extend Many makes one call each', async () => {
		const key = await createLicense();
		const cases: Array<[string, Record<string, unknown>, RegExp]> = [
			['/license/create', { resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1 }, /look for the license in Keycrate/],
			[
				'/license/extend',
				{ resource: 'license', operation: 'extend', licenseKey: key, extendBy: 1, extendUnit: 'days' },
				/read the license's expires_at \(Get\)/,
			],
			[
				'/license/extend-bulk',
				{ resource: 'license', operation: 'extendBulk', licenseKeys: key, extendBy: 1, extendUnit: 'days' },
				/read the licenses' expires_at/,
			],
		];
		for (const [path, parameters, check] of cases) {
			keycrate.emulator.setFaults([{ endpoint: path, kind: 'error_500', rate: 1 }]);
			const before = keycrate.callsTo(path);
			const result = await keycrate.run(parameters as INodeParameters);
			expect([path, keycrate.callsTo(path) - before]).toEqual([path, 1]);
			expect(result.error?.description).toMatch(check);
			expect(result.error?.description).toContain('Keycrate may have applied this call; the node does not send it again.');
		}
		expect(keycrate.retryDelays).toEqual([]);
	});

	it('a lost answer (dropped connection) on Create is not re-sent', async () => {
		keycrate.emulator.setFaults([{ endpoint: '/license/create', kind: 'drop_connection', rate: 1 }]);
		const result = await keycrate.run({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1 });
		expect(keycrate.emulator.calls()['/license/create']).toEqual({ dropped: 1 });
		expect(result.error?.message).toBe("Keycrate's answer to POST /license/create was lost (ECONNRESET)");
		expect(result.error?.description).toMatch(/^Keycrate may have applied this call/);
	});

	it('a connection refused before sending is retried, even for Create', async () => {
		const result = await runKeycrate({
			credentials: { ...keycrate.credentials, baseUrl: 'http://127.0.0.1:9' },
			parameters: { resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1 },
		});
		expect(keycrate.retryDelays).toEqual([1000, 4000, 10000]);
		expect(result.error?.message).toBe('Keycrate could not be reached at http://127.0.0.1:9 (ECONNREFUSED)');
	});
});

describe('a bulk call that fails after others succeeded', () => {
	let proxy: Server;
	let failingPath = '';
	let callsToFailingPath = 0;

	// A proxy in front of the emulator that refuses the second call to `failingPath` outright.
	beforeAll(async () => {
		proxy = createServer((incoming, outgoing) => {
			if (incoming.url === failingPath && ++callsToFailingPath === 2) {
				outgoing.writeHead(400, { 'content-type': 'application/json' });
				outgoing.end(JSON.stringify({ error: 'license_keys: refused by the test proxy', error_code: 'INVALID_INPUT', field: 'license_keys' }));
				incoming.resume();
				return;
			}
			const target = new URL(incoming.url ?? '/', keycrate.emulator.url);
			const forward = httpRequest(target, { method: incoming.method, headers: incoming.headers }, (answer) => {
				outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(outgoing);
			});
			incoming.pipe(forward);
		});
		await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
	});
	afterAll(async () => await new Promise<void>((resolve) => proxy.close(() => resolve())));

	const throughProxy = () => ({
		...keycrate.credentials,
		baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
	});
	const failSecondCallTo = (path: string) => {
		failingPath = path;
		callsToFailingPath = 0;
	};

	it('says how many keys were processed before it', async () => {
		const keys = [await createLicense(), await createLicense(), await createLicense()];
		failSecondCallTo('/license/extend-bulk');
		const result = await runKeycrate({
			credentials: throughProxy(),
			parameters: { resource: 'license', operation: 'extendBulk', licenseKeys: keys, extendSeconds: 60, options: { batchSize: 2 } },
		});
		expect(result.error?.message).toBe('license_keys: refused by the test proxy [INVALID_INPUT]');
		expect(result.error?.description).toBe(
			'Keycrate refused a field of the request. Field: license_keys. POST /license/extend-bulk answered HTTP 400. 2 of 3 keys were processed before this call failed.',
		);
	});

	it('Create Many with Continue On Fail keeps the licenses that exist and adds one error item', async () => {
		failSecondCallTo('/license/create-bulk');
		const result = await runKeycrate({
			credentials: throughProxy(),
			parameters: { resource: 'license', operation: 'createBulk', keyAmount: 5, durationUnit: 'days', durationValue: 1, options: { batchSize: 2 } },
			continueOnFail: true,
		});
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(3);
		expect(result.items.slice(0, 2).every((item) => typeof item.json.license_key === 'string')).toBe(true);
		expect(result.items[2].json).toMatchObject({
			error: 'license_keys: refused by the test proxy [INVALID_INPUT]',
			error_code: 'INVALID_INPUT',
			licenses_not_created: 3,
			description: expect.stringContaining('2 of 5 licenses were created before this call failed.'),
		});
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 0 }]);
		expect(keycrate.emulator.state().apps[0].licenses).toHaveLength(2);
	});
});

describe('the credential test (declarative, as n8n runs it)', () => {
	const OK = { status: 'OK', message: 'Connection successful!' };
	const NOT_JSON =
		"The Base URL did not answer like the Keycrate API (not JSON). Check the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.";

	it('accepts the right key, with or without a default App ID, and a trailing slash in the Base URL', async () => {
		expect(await testCredential(keycrate.credentials)).toEqual(OK);
		expect(keycrate.callsTo('/subscription/get-bulk')).toBe(1);
		expect(await testCredential({ ...keycrate.credentials, appId: '' })).toEqual(OK);
		expect(await testCredential({ ...keycrate.credentials, appId: '  ' })).toEqual(OK);
		// Without a Default App ID the key is checked on a license no one has (LICENSE_NOT_FOUND: key accepted).
		expect(keycrate.callsTo('/license/get')).toBe(2);
		expect(await testCredential({ ...keycrate.credentials, baseUrl: `${keycrate.emulator.url}/` })).toEqual(OK);
	});

	it('refuses a wrong key and an empty key, with a Default App ID or without', async () => {
		for (const appId of [keycrate.credentials.appId, '']) {
			expect(await testCredential({ ...keycrate.credentials, appId, apiKey: 'kc_not_a_real_key' })).toEqual({
				status: 'Error',
				message: 'Keycrate refused the API key (INVALID_API_KEY). Check that it is a current Management API key.',
			});
			expect(await testCredential({ ...keycrate.credentials, appId, apiKey: '' })).toEqual({
				status: 'Error',
				message: 'Keycrate received no API key. Enter the API key (it starts with kc_).',
			});
		}
	});

	it('refuses a Default App ID of another account, one no app has, and one that is not a UUID', async () => {
		const other = { app_id: '6f1f2f3e-1111-4222-8333-944455556666', api_key: 'kc_other_account_key_123' };
		keycrate.emulator.reset([...keycrate.emulator.apps, other]);
		expect(await testCredential({ ...keycrate.credentials, appId: other.app_id })).toEqual({
			status: 'Error',
			message:
				"Keycrate accepted the API key but refused the Default App ID: the app belongs to another account [ACCESS_DENIED]. Enter an App ID of this key's account, or leave it empty.",
		});
		expect(await testCredential({ ...keycrate.credentials, appId: '0f0f0f0f-2222-4333-8444-955566667777' })).toEqual({
			status: 'Error',
			message: 'Keycrate accepted the API key but has no app with the Default App ID [APP_NOT_FOUND]. Check the App ID, or leave it empty.',
		});
		expect(await testCredential({ ...keycrate.credentials, appId: 'my-app' })).toEqual({
			status: 'Error',
			message:
				"Keycrate refused the test request [INVALID_INPUT]. Check the Default App ID: it must be a UUID (e.g. 2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11) or empty; and the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.",
		});
	});

	it('fails on a 5xx and on a 429, saying the key could not be checked, with a Default App ID or without', async () => {
		for (const appId of [keycrate.credentials.appId, '']) {
			keycrate.emulator.setFaults([{ endpoint: '*', kind: 'error_500', rate: 1 }]);
			expect(await testCredential({ ...keycrate.credentials, appId })).toEqual({
				status: 'Error',
				message: 'Keycrate answered with a server error, so the API key could not be checked. Try again later.',
			});
			keycrate.emulator.setFaults([{ endpoint: '*', kind: 'error_429', rate: 1 }]);
			expect(await testCredential({ ...keycrate.credentials, appId })).toEqual({
				status: 'Error',
				message: 'Keycrate is rate-limiting requests (HTTP 429), so the API key could not be checked. Try again in a minute.',
			});
		}
		keycrate.emulator.setFaults([]);
	});

	describe('against a server that is not Keycrate', () => {
		let site: Server;
		let reply = { status: 200, type: 'text/html', body: '' };
		let hits = 0;
		beforeAll(async () => {
			site = createServer((incoming, outgoing) => {
				hits++;
				incoming.resume();
				outgoing.writeHead(reply.status, { 'content-type': reply.type });
				outgoing.end(reply.body);
			});
			await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
		});
		afterAll(async () => await new Promise<void>((resolve) => site.close(() => resolve())));
		const siteUrl = () => `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

		it.each([
			['an HTML page (200)', 200, 'text/html; charset=utf-8', '<!doctype html><title>Keycrate</title>'],
			['an HTML page (502)', 502, 'text/html', '<html>Bad Gateway</html>'],
			['an empty answer', 200, 'text/plain', ''],
			['text that is not JSON', 404, 'text/plain', 'Not Found'],
		])('fails on %s, saying to check the Base URL', async (_name, status, type, body) => {
			reply = { status, type, body };
			for (const appId of [keycrate.credentials.appId, '']) {
				expect(await testCredential({ ...keycrate.credentials, appId, baseUrl: siteUrl() })).toEqual({ status: 'Error', message: NOT_JSON });
			}
		});

		it("passes JSON without a Keycrate error code: one key compared with one value, n8n's rules cannot tell it from Keycrate's answer", async () => {
			reply = { status: 200, type: 'application/json', body: '{"status":"ok"}' };
			expect(await testCredential({ ...keycrate.credentials, baseUrl: siteUrl() })).toEqual(OK);
		});

		it('the node itself fails on an HTML page with an error naming the Base URL', async () => {
			reply = { status: 200, type: 'text/html', body: '<html>login</html>' };
			const result = await runKeycrate({
				credentials: { ...keycrate.credentials, baseUrl: `${siteUrl()}/` },
				parameters: { resource: 'license', operation: 'get', licenseKey: 'K-1' },
			});
			expect(result.error?.message).toBe(`The Base URL ${siteUrl()} did not answer like the Keycrate API (HTTP 200, text/html instead of JSON)`);
			expect(result.error?.description).toContain('Check the Base URL of the Keycrate API credential');
		});

		it('an HTML 502 on Create Many: one call, the Base URL named, and a warning that it may have applied', async () => {
			reply = { status: 502, type: 'text/html', body: '<html>Bad Gateway</html>' };
			hits = 0;
			const result = await runKeycrate({
				credentials: { ...keycrate.credentials, baseUrl: siteUrl() },
				parameters: { resource: 'license', operation: 'createBulk', keyAmount: 5, durationUnit: 'days', durationValue: 1 },
			});
			expect(hits).toBe(1);
			expect(result.error?.message).toBe(`The Base URL ${siteUrl()} did not answer like the Keycrate API (HTTP 502, text/html instead of JSON)`);
			expect(result.error?.description).toContain('Keycrate may have applied this call; the node does not send it again.');
			// A read is retried, then fails the same way.
			hits = 0;
			const read = await runKeycrate({
				credentials: { ...keycrate.credentials, baseUrl: siteUrl() },
				parameters: { resource: 'license', operation: 'get', licenseKey: 'K-1' },
			});
			expect(hits).toBe(4);
			expect(read.error?.description).not.toContain('may have applied');
		});

		it("fails when nothing answers, with n8n's network error", async () => {
			expect(await testCredential({ ...keycrate.credentials, baseUrl: 'http://127.0.0.1:9' })).toEqual({ status: 'Error', message: 'ECONNREFUSED' });
		});
	});
});
