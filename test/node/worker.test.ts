/**
 * The Keycrate Worker node, run in-process through n8n-core against a stub of the worker's admin
 * API that checks every request (path, query, body) and every reply of its own against
 * openapi/worker-admin.openapi.yaml: each operation, the credential test and each error mapping.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { runKeycrateWorker, testDeclarativeCredential, WORKER_CREDENTIAL_TYPE, type RunResult, type WorkerCredentialData } from './harness';
import { startWorkerStub, type WorkerStub } from './worker-stub';

const APP_ID = '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11';
const TIER_ID = '7b1e6f0a-3c2d-4e5f-8a9b-0c1d2e3f4a5b';

let stub: WorkerStub;
let credentials: WorkerCredentialData;

beforeAll(async () => {
	stub = await startWorkerStub();
	credentials = { workerUrl: `${stub.url}/`, adminToken: stub.token };
});
afterAll(async () => await stub.stop());
beforeEach(() => stub.reset());
afterEach(() => expect(stub.violations).toEqual([]));

async function run(
	parameters: INodeParameters,
	options: { input?: INodeExecutionData[]; continueOnFail?: boolean; credentials?: WorkerCredentialData } = {},
): Promise<RunResult> {
	const result = await runKeycrateWorker({
		credentials: options.credentials ?? credentials,
		parameters,
		input: options.input,
		continueOnFail: options.continueOnFail,
	});
	for (const item of result.items) expect(item.pairedItem).toEqual({ item: expect.any(Number) });
	return result;
}

async function runOk(parameters: INodeParameters, input?: INodeExecutionData[]): Promise<Array<Record<string, unknown>>> {
	const result = await run(parameters, { input });
	if (result.error) throw new Error(`The node failed: ${result.error.message} (${result.error.description ?? ''})`);
	return result.items.map((item) => item.json as Record<string, unknown>);
}

/** The error of a run that must fail: message, description and the HTTP status it carries. */
async function runFails(parameters: INodeParameters, options?: Parameters<typeof run>[1]) {
	const result = await run(parameters, options);
	expect(result.error).toBeDefined();
	return {
		message: result.error!.message,
		description: result.error!.description ?? '',
		httpCode: (result.error as { httpCode?: string }).httpCode,
		json: JSON.stringify(result.error),
	};
}

const start = (parameters: INodeParameters): INodeParameters => ({ resource: 'bulkJob', operation: 'start', appId: APP_ID, ...parameters });
const startBodies = () => stub.received.filter((r) => r.method === 'POST' && r.path === '/admin/jobs').map((r) => r.body);

describe('Bulk Job → Start', () => {
	it('create: count, duration and the create fields, and nothing of a selection', async () => {
		const [job] = await runOk(
			start({
				kind: 'create',
				count: 50000,
				durationUnit: 'days',
				durationValue: 14,
				selectBy: 'licenseKeys', // hidden for create: never sent
				licenseKeys: 'AAAA-1111',
				additionalFields: {
					subscriptionId: TIER_ID,
					tags: 'launch, trial, launch',
					hwidLock: true,
					keyPattern: 'TRIAL-****-****',
					metadata: '{"campaign":"spring"}',
				},
			}),
		);
		expect(startBodies()).toEqual([
			{
				kind: 'create',
				app_id: APP_ID,
				count: 50000,
				duration_unit: 'days',
				duration_value: 14,
				subscription_id: TIER_ID,
				tags: ['launch', 'trial'],
				hwid_lock: true,
				key_pattern: 'TRIAL-****-****',
				metadata: { campaign: 'spring' },
			},
		]);
		expect(job).toEqual({ id: 'bulk_0001', kind: 'create', state: 'waiting', done: 0, total: 50000, failed: 0, created_at: expect.any(String) });
		expect(stub.received[0].authorization).toBe(`Bearer ${stub.token}`);
	});

	it('create: a lifetime duration sends no value', async () => {
		await runOk(start({ kind: 'create', count: 3, durationUnit: 'lifetime', durationValue: 30 }));
		expect(startBodies()).toEqual([{ kind: 'create', app_id: APP_ID, count: 3, duration_unit: 'lifetime' }]);
	});

	it('extend of a tier by filter, with a notify URL', async () => {
		await runOk(
			start({
				kind: 'extend',
				selectBy: 'filter',
				filter: { subscriptionId: TIER_ID },
				durationUnit: 'months',
				durationValue: 1,
				options: { notifyUrl: 'https://n8n.example.com/webhook/keycrate-bulk-job' },
			}),
		);
		expect(startBodies()).toEqual([
			{
				kind: 'extend',
				app_id: APP_ID,
				filter: { subscription_id: TIER_ID },
				duration_unit: 'months',
				duration_value: 1,
				notify_url: 'https://n8n.example.com/webhook/keycrate-bulk-job',
			},
		]);
	});

	it.each([
		['pause', { selectBy: 'filter', filter: { status: 'active', tag: ' reseller-42 ' } }, { filter: { status: 'active', tag: 'reseller-42' } }],
		['activate', { selectBy: 'licenseKeys', licenseKeys: 'AAAA-1111\nBBBB-2222, AAAA-1111' }, { license_keys: ['AAAA-1111', 'BBBB-2222'] }],
		['retier', { selectBy: 'all', subscriptionId: TIER_ID }, { subscription_id: TIER_ID }],
		['lock', { selectBy: 'licenseKeys', licenseKeys: ['AAAA-1111'], hwidLock: false }, { license_keys: ['AAAA-1111'], hwid_lock: false }],
		['delete', { selectBy: 'filter', filter: { status: 'expired' } }, { filter: { status: 'expired' } }],
		[
			'export',
			{ selectBy: 'filter', filter: { subscriptionId: TIER_ID, status: 'active' }, format: 'jsonl' },
			{ filter: { subscription_id: TIER_ID, status: 'active' }, format: 'jsonl' },
		],
	])('%s: the selection and the fields of that kind only', async (kind, parameters, expected) => {
		const [job] = await runOk(start({ kind, durationUnit: 'days', durationValue: 9, count: 7, ...parameters }));
		expect(startBodies()).toEqual([{ kind, app_id: APP_ID, ...expected }]);
		expect(job).toMatchObject({ kind, state: 'waiting' });
	});

	it('Dry Run outputs what the job would do and starts nothing', async () => {
		const [answer] = await runOk(start({ kind: 'pause', selectBy: 'licenseKeys', licenseKeys: 'AAAA-1111, BBBB-2222', options: { dryRun: true } }));
		expect(answer).toEqual({ dry_run: true, kind: 'pause', selected: 2, calls: 2 });
		expect(stub.jobs).toEqual([]);
		expect(startBodies()).toEqual([{ kind: 'pause', app_id: APP_ID, license_keys: ['AAAA-1111', 'BBBB-2222'], dry_run: true }]);
	});

	it('Simplify off outputs the job as the worker gave it (the request included)', async () => {
		const [job] = await runOk(start({ kind: 'delete', selectBy: 'licenseKeys', licenseKeys: 'AAAA-1111', simplify: false }));
		expect(job).toMatchObject({ id: 'bulk_0001', request: { kind: 'delete', license_keys: ['AAAA-1111'] }, progress: { done: 0, total: 1, failed: 0 } });
	});

	it('one job per input item', async () => {
		const jobs = await runOk(start({ kind: 'pause', selectBy: 'licenseKeys', licenseKeys: '={{ $json.key }}' }), [
			{ json: { key: 'AAAA-1111' } },
			{ json: { key: 'BBBB-2222' } },
		]);
		expect(jobs.map((job) => job.id)).toEqual(['bulk_0001', 'bulk_0002']);
	});

	it.each([
		[{ kind: 'pause', selectBy: 'filter', filter: {} }, 'Filter has no condition'],
		[{ kind: 'pause', appId: 'not-a-uuid', selectBy: 'all' }, 'App ID must be a UUID, got "not-a-uuid"'],
		[{ kind: 'pause', selectBy: 'filter', filter: { subscriptionId: 'pro' } }, 'Filter → Subscription Tier ID must be a UUID, got "pro"'],
		[{ kind: 'retier', selectBy: 'all', subscriptionId: 'pro' }, 'Subscription Tier ID must be a UUID, got "pro"'],
		[{ kind: 'pause', selectBy: 'licenseKeys', licenseKeys: ' , ' }, 'License Keys is empty'],
		[
			{ kind: 'extend', selectBy: 'all', durationUnit: 'lifetime' },
			'Duration Unit must be one of days, hours, minutes, months, years for extend, got "lifetime"',
		],
		[{ kind: 'create', count: 0, durationUnit: 'days', durationValue: 1 }, 'Number of Licenses must be a whole number from 1 to 1000000, got 0'],
		[
			{ kind: 'create', count: 1, durationUnit: 'days', durationValue: 1, additionalFields: { keyPattern: 'PRO ****' } },
			'Additional Fields → Key Pattern must be 1 to 64 characters from A-Z, a-z, 0-9, "_", "-" and "*", got "PRO ****"',
		],
		[
			{ kind: 'create', count: 1, durationUnit: 'days', durationValue: 1, additionalFields: { tags: Array.from({ length: 19 }, (_, i) => `t${i}`) } },
			'Additional Fields → Tags has 19 tags; a license carries at most 18',
		],
		[
			{ kind: 'create', count: 1, durationUnit: 'days', durationValue: 1, additionalFields: { metadata: '[1]' } },
			'Metadata must be a JSON object, like {"plan": "pro"}',
		],
		[{ kind: 'lock', selectBy: 'all', hwidLock: 'yes' }, 'HWID Lock must be true or false, got "yes"'],
		[
			{ kind: 'pause', selectBy: 'all', options: { notifyUrl: 'n8n.example.com/webhook' } },
			'Options → Notify URL must be an http(s) URL, got "n8n.example.com/webhook"',
		],
	])('refuses %j before any call', async (parameters, message) => {
		expect((await runFails(start(parameters))).message).toBe(message);
		expect(stub.received).toEqual([]);
	});
});

describe('Bulk Job → Get, Get Many, Cancel', () => {
	const ended = () =>
		stub.addJob({
			kind: 'extend',
			state: 'completed',
			progress: { done: 10, total: 10, failed: 1 },
			result: { succeeded: 9, failed: 1, canceled: false, failures: [{ license_key: 'GONE-1', reason: 'LICENSE_NOT_FOUND' }], calls: 2 },
			finished_at: '2025-01-01T12:05:00.000Z',
		});

	it('Get: progress and result, flat; Simplify off keeps the failures', async () => {
		const job = ended();
		expect(await runOk({ resource: 'bulkJob', operation: 'get', jobId: ` ${job.id} ` })).toEqual([
			{
				id: job.id,
				kind: 'extend',
				state: 'completed',
				done: 10,
				total: 10,
				failed: 1,
				succeeded: 9,
				canceled: false,
				calls: 2,
				created_at: job.created_at,
				finished_at: '2025-01-01T12:05:00.000Z',
			},
		]);
		const [raw] = await runOk({ resource: 'bulkJob', operation: 'get', jobId: job.id, simplify: false });
		expect(raw.result).toEqual(job.result);
	});

	it('Get: a running job shows its rate and ETA', async () => {
		const job = stub.addJob({ kind: 'create', state: 'active', progress: { done: 4000, total: 100000, failed: 0, rate_per_second: 800, eta_seconds: 120 } });
		const [simple] = await runOk({ resource: 'bulkJob', operation: 'get', jobId: job.id });
		expect(simple).toMatchObject({ state: 'active', done: 4000, total: 100000, rate_per_second: 800, eta_seconds: 120 });
	});

	it('Get: refuses an ID that is not a job ID before any call', async () => {
		expect((await runFails({ resource: 'bulkJob', operation: 'get', jobId: '42' })).message).toBe('Job ID must look like bulk_…, got "42"');
		expect(stub.received).toEqual([]);
	});

	it('Get Many: newest first, up to Limit, by state; Return All asks for the most the worker lists', async () => {
		const first = ended();
		const second = stub.addJob({ kind: 'pause', state: 'active' });
		const third = stub.addJob({ kind: 'export', state: 'waiting' });
		expect((await runOk({ resource: 'bulkJob', operation: 'getMany', limit: 2 })).map((job) => job.id)).toEqual([third.id, second.id]);
		expect((await runOk({ resource: 'bulkJob', operation: 'getMany', returnAll: true })).map((job) => job.id)).toEqual([third.id, second.id, first.id]);
		expect((await runOk({ resource: 'bulkJob', operation: 'getMany', returnAll: true, filters: { state: 'completed' } })).map((job) => job.id)).toEqual([
			first.id,
		]);
		expect(stub.received.map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '100' }, { limit: '100', state: 'completed' }]);
		expect((await runFails({ resource: 'bulkJob', operation: 'getMany', limit: 101 })).message).toBe('Limit must be a whole number from 1 to 100, got 101');
	});

	it('Cancel: the job as it is now; an ended job says nothing was stopped', async () => {
		const job = stub.addJob({ kind: 'delete', state: 'active', progress: { done: 3000, total: 9000, failed: 0 } });
		expect(await runOk({ resource: 'bulkJob', operation: 'cancel', jobId: job.id })).toEqual([
			expect.objectContaining({ id: job.id, state: 'canceled', canceled: true, succeeded: 3000 }),
		]);
		const again = await runFails({ resource: 'bulkJob', operation: 'cancel', jobId: job.id });
		expect(again).toMatchObject({ message: `bulk job ${job.id} has ended already (canceled)`, httpCode: '409' });
		expect(again.description).toContain('nothing was stopped. Bulk Job → Get gives its result.');
	});

	it('404 on a job: unknown job, told apart from a worker without admin API', async () => {
		const unknown = await runFails({ resource: 'bulkJob', operation: 'get', jobId: 'bulk_9999' });
		expect(unknown.message).toBe('The worker has no bulk job bulk_9999');
		expect(unknown.description).toContain('BULK_RESULT_TTL');
		stub.adminApi = false;
		const off = await runFails({ resource: 'bulkJob', operation: 'cancel', jobId: 'bulk_9999' });
		expect(off.message).toBe(`The worker at ${stub.url} has no admin API (ADMIN_TOKEN is not set on it)`);
		expect(off.description).toContain('set it and restart the worker');
	});
});

describe('Sync and Dead Letter', () => {
	it('Sync → Resync Root queues the root', async () => {
		expect(await runOk({ resource: 'sync', operation: 'resyncRoot', root: 'sub_1Q2w3E4r5T6y' })).toEqual([{ root: 'sub_1Q2w3E4r5T6y', queued: true }]);
		expect(stub.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /admin/roots/sub_1Q2w3E4r5T6y/resync']);
		expect((await runFails({ resource: 'sync', operation: 'resyncRoot', root: 'in_123' })).message).toBe(
			'Root must be a Stripe ID starting with sub_, pi_ or cs_, got "in_123"',
		);
	});

	const letters = () => {
		stub.deadLetters = [
			{ kind: 'sync', id: 'sub_A1', attempts: 8, failed_at: '2025-01-01T10:00:00.000Z', reason: 'Keycrate answered 500' },
			{ kind: 'handoff', id: 'AAAA-1111', attempts: 8, reason: 'LICENSE_WEBHOOK_URL answered 410' },
			{ kind: 'sync', id: 'pi_B2', attempts: 8, reason: 'ACCESS_DENIED' },
		];
	};

	it('Dead Letter → Get Many: one item each, up to Limit or the most the worker lists', async () => {
		letters();
		expect(await runOk({ resource: 'deadLetter', operation: 'getMany', limit: 2 })).toEqual(stub.deadLetters.slice(0, 2));
		expect(await runOk({ resource: 'deadLetter', operation: 'getMany', returnAll: true })).toHaveLength(3);
		expect(stub.received.map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '1000' }]);
	});

	it('Dead Letter → Retry: chosen ids (each once), or all', async () => {
		letters();
		expect(await runOk({ resource: 'deadLetter', operation: 'retry', retry: 'ids', ids: 'sub_A1, AAAA-1111\nsub_A1' })).toEqual([{ retried: 2 }]);
		expect(await runOk({ resource: 'deadLetter', operation: 'retry', retry: 'all' })).toEqual([{ retried: 1 }]);
		expect(stub.received.map((r) => r.body)).toEqual([{ ids: ['sub_A1', 'AAAA-1111'] }, { all: true }]);
		expect((await runFails({ resource: 'deadLetter', operation: 'retry', retry: 'ids', ids: ' , ' })).message).toBe('IDs is empty');
	});
});

describe('errors that say what to do, with no secret in them', () => {
	const list: INodeParameters = { resource: 'bulkJob', operation: 'getMany', limit: 5 };

	it('401: the Admin Token is not the worker’s ADMIN_TOKEN', async () => {
		const failure = await runFails(list, { credentials: { ...credentials, adminToken: 'wrong-token-1234' } });
		expect(failure).toMatchObject({ message: "The Admin Token is not the worker's ADMIN_TOKEN", httpCode: '401' });
		expect(failure.description).toContain('Set the Admin Token of the Keycrate Worker API credential to the value of ADMIN_TOKEN');
		expect(failure.json).not.toContain('wrong-token-1234');
	});

	it('404 on /admin/*: the worker has no admin API', async () => {
		stub.adminApi = false;
		for (const parameters of [list, { resource: 'sync', operation: 'resyncRoot', root: 'cs_9' }, { resource: 'deadLetter', operation: 'getMany' }]) {
			expect((await runFails(parameters)).message).toBe(`The worker at ${stub.url} has no admin API (ADMIN_TOKEN is not set on it)`);
		}
	});

	it("400: the worker's message naming the field, and the parameter to change", async () => {
		stub.webhookSecret = false;
		const failure = await runFails(
			start({ kind: 'extend', selectBy: 'all', durationUnit: 'days', durationValue: 30, options: { notifyUrl: 'http://127.0.0.1:5678/webhook/bulk' } }),
		);
		expect(failure).toMatchObject({
			message: 'The worker refused notify_url: needs LICENSE_WEBHOOK_SECRET on the worker (it signs the notification)',
			httpCode: '400',
		});
		expect(failure.description).toContain("Change the node's Options → Notify URL parameter.");
		expect(failure.json).not.toContain(stub.token);
	});

	it('a reply that is not JSON: check the Worker URL', async () => {
		stub.nextReply = { status: 200, type: 'text/html', body: '<!doctype html><title>n8n</title>' };
		const failure = await runFails(list);
		expect(failure.message).toBe(`The Worker URL ${stub.url} did not answer like the Keycrate worker (HTTP 200, not JSON)`);
		expect(failure.description).toContain("the address of the worker's ingest role");
	});

	it('a 5xx on Start: the job may have been queued, look before running again', async () => {
		stub.nextReply = { status: 503, type: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'Redis is not reachable' }) };
		const failure = await runFails(start({ kind: 'pause', selectBy: 'all' }));
		expect(failure.message).toBe('The worker answered HTTP 503: Redis is not reachable');
		expect(failure.description).toContain('look for it with Bulk Job → Get Many before running this item again');
	});

	it('an unreachable worker: check the Worker URL and that the worker runs', async () => {
		const failure = await runFails(list, { credentials: { workerUrl: 'http://127.0.0.1:1', adminToken: stub.token } });
		expect(failure.message).toBe('The worker could not be reached at http://127.0.0.1:1 (ECONNREFUSED)');
		expect(failure.description).toContain("that the worker's ingest role is running");
	});

	it('Continue On Fail: an error item per failed input, the others go on', async () => {
		const result = await run(
			{ resource: 'bulkJob', operation: 'get', jobId: '={{ $json.id }}' },
			{ continueOnFail: true, input: [{ json: { id: 'bulk_9999' } }, { json: { id: stub.addJob({ kind: 'pause', state: 'active' }).id } }] },
		);
		expect(result.items.map((item) => item.json.error ?? item.json.state)).toEqual(['The worker has no bulk job bulk_9999', 'active']);
		expect(result.items[0].json.error_code).toBe('not_found');
	});
});

describe('the Keycrate Worker API credential test (declarative, as n8n runs it)', () => {
	it('lists one job with the bearer token: Connection successful', async () => {
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, credentials)).toEqual({ status: 'OK', message: 'Connection successful!' });
		expect(stub.received).toEqual([{ method: 'GET', path: '/admin/jobs', query: { limit: '1' }, body: undefined, authorization: `Bearer ${stub.token}` }]);
	});

	it('another token: says it is not ADMIN_TOKEN', async () => {
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, { ...credentials, adminToken: 'nope' })).toEqual({
			status: 'Error',
			message: "The Admin Token is not the worker's ADMIN_TOKEN: set it to the value of ADMIN_TOKEN in the worker's environment",
		});
	});

	it('a worker without ADMIN_TOKEN: says it has no admin API', async () => {
		stub.adminApi = false;
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, credentials)).toEqual({
			status: 'Error',
			message: 'The worker has no admin API at this URL: set ADMIN_TOKEN on the worker and restart it, or check the Worker URL',
		});
	});

	it('a worker failing: says to look at its log and Redis', async () => {
		stub.nextReply = { status: 500, type: 'application/json', body: '{"error":"internal"}' };
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, credentials)).toEqual({
			status: 'Error',
			message: "The worker failed on the request (internal error): check the worker's log and that its Redis is reachable.",
		});
	});

	it.each([
		[
			'an HTML page',
			200,
			'text/html',
			'<html>n8n</html>',
			"The Worker URL did not answer like the Keycrate worker (not JSON). Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
		],
		[
			'a proxy error page',
			502,
			'text/plain',
			'Bad Gateway',
			"The Worker URL did not answer like the Keycrate worker (not JSON). Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
		],
		[
			'JSON of another API',
			200,
			'application/json',
			'{"status":"ok"}',
			"The Worker URL answered JSON that is not the Keycrate worker's admin API. Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
		],
	])('%s at the Worker URL: says to check it', async (_name, status, type, body, message) => {
		stub.nextReply = { status, type, body };
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, credentials)).toEqual({ status: 'Error', message });
	});

	it('nothing listening: the network error', async () => {
		expect(await testDeclarativeCredential(WORKER_CREDENTIAL_TYPE, { workerUrl: 'http://127.0.0.1:1', adminToken: 'x' })).toEqual({
			status: 'Error',
			message: 'ECONNREFUSED',
		});
	});
});
