/**
 * "Test connection" of the package's credentials inside a real n8n: the packed package installed as a
 * community package, the credentials imported with n8n's CLI, `n8n start`, and the editor's own call,
 * POST /rest/credentials/test, as the owner. n8n's credentials tester runs the credentials' declarative
 * tests (the request, then the rules) against the emulator, a running worker, and a server that is not either.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorUnderTest } from './support/emulator';
import { N8nInstance, OwnerSession, e2eEnvironment, type N8nServer } from './support/n8n';
import { WorkerUnderTest } from './support/worker';
import { KEYCRATE_CREDENTIAL_TYPE, KEYCRATE_WORKER_CREDENTIAL_TYPE, type CredentialRef } from './support/workflows';

const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;
const KEYCRATE_CREDENTIAL: CredentialRef = { id: 'kcE2eCredTestKc01', name: 'Keycrate (credential test)' };
const WORKER_CREDENTIAL: CredentialRef = { id: 'kcE2eCredTestWk01', name: 'Keycrate Worker (credential test)' };
const OTHER_ACCOUNT = { app_id: '6f1f2f3e-1111-4222-8333-944455556666', api_key: 'kc_other_account_key_123' };

let emulator: EmulatorUnderTest;
let worker: WorkerUnderTest;
let site: Server;
let n8n: N8nServer;
let owner: OwnerSession;

const siteUrl = () => `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
const keycrate = () => ({ apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId });

/** What n8n's editor shows after "Test connection" with these (unsaved) values of the stored credential. */
async function testConnection(credential: CredentialRef, type: string, data: Record<string, unknown>): Promise<{ status: string; message: string }> {
	return await owner.post('/credentials/test', { credentials: { ...credential, type, data } });
}

beforeAll(async () => {
	const e2e = e2eEnvironment();
	emulator = await EmulatorUnderTest.start();
	emulator.emulator.reset([...emulator.emulator.apps, OTHER_ACCOUNT]);
	worker = await WorkerUnderTest.start(emulator, `whsec_${Buffer.from('e2e-credential-test-secret-32-bytes').toString('base64')}`);
	site = createServer((incoming, outgoing) => {
		incoming.resume();
		outgoing.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		outgoing.end('<!doctype html><title>Not an API</title>');
	});
	await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
	const instance = await N8nInstance.create(e2e, 'n8n-credential-test');
	await instance.importCredentials([
		{ ...KEYCRATE_CREDENTIAL, type: KEYCRATE_CREDENTIAL_TYPE, data: keycrate() },
		{ ...WORKER_CREDENTIAL, type: KEYCRATE_WORKER_CREDENTIAL_TYPE, data: { workerUrl: worker.url, adminToken: worker.adminToken } },
	]);
	n8n = await instance.startServer();
	owner = await OwnerSession.setUp(n8n);
});

afterAll(async () => {
	await n8n?.stop();
	await worker?.stop();
	await emulator?.stop();
	await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
});

describe(`Test connection ${ON_N8N}`, () => {
	const OK = { status: 'OK', message: 'Connection successful!' };
	const keycrateTest = (data: Record<string, unknown>) => testConnection(KEYCRATE_CREDENTIAL, KEYCRATE_CREDENTIAL_TYPE, { ...keycrate(), ...data });

	test('Keycrate API: the right key passes, with the Default App ID and without one', async () => {
		expect(await keycrateTest({})).toEqual(OK);
		expect(await keycrateTest({ appId: '' })).toEqual(OK);
		expect(await keycrateTest({ baseUrl: `${emulator.url}/` })).toEqual(OK);
	});

	test('Keycrate API: a wrong key, another account’s App ID, one that is not a UUID, a 5xx, an HTML page', async () => {
		for (const appId of [emulator.appId, '']) {
			expect(await keycrateTest({ appId, apiKey: 'kc_not_a_real_key' })).toEqual({
				status: 'Error',
				message: 'Keycrate refused the API key (INVALID_API_KEY). Check that it is a current Management API key.',
			});
		}
		expect(await keycrateTest({ appId: OTHER_ACCOUNT.app_id })).toEqual({
			status: 'Error',
			message:
				"Keycrate accepted the API key but refused the Default App ID: the app belongs to another account [ACCESS_DENIED]. Enter an App ID of this key's account, or leave it empty.",
		});
		expect(await keycrateTest({ appId: 'my-app' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('[INVALID_INPUT]. Check the Default App ID: it must be a UUID'),
		});
		emulator.emulator.setFaults([{ endpoint: '*', kind: 'error_500', rate: 1 }]);
		try {
			expect(await keycrateTest({ appId: '' })).toEqual({
				status: 'Error',
				message: 'Keycrate answered with a server error, so the API key could not be checked. Try again later.',
			});
		} finally {
			emulator.emulator.setFaults([]);
		}
		expect(await keycrateTest({ baseUrl: siteUrl() })).toEqual({
			status: 'Error',
			message:
				"The Base URL did not answer like the Keycrate API (not JSON). Check the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.",
		});
	});

	test('Keycrate Worker API: the admin token passes; another token and an HTML page say what to fix', async () => {
		const workerTest = (data: Record<string, unknown>) =>
			testConnection(WORKER_CREDENTIAL, KEYCRATE_WORKER_CREDENTIAL_TYPE, { workerUrl: worker.url, adminToken: worker.adminToken, ...data });
		expect(await workerTest({})).toEqual(OK);
		expect(await workerTest({ adminToken: 'not-the-admin-token' })).toEqual({
			status: 'Error',
			message: "The Admin Token is not the worker's ADMIN_TOKEN: set it to the value of ADMIN_TOKEN in the worker's environment",
		});
		expect(await workerTest({ workerUrl: siteUrl() })).toEqual({
			status: 'Error',
			message:
				"The Worker URL did not answer like the Keycrate worker (not JSON). Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
		});
	});
});
