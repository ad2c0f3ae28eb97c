/**
 * The Keycrate Worker node inside a real n8n, against a running worker (`worker/dist/cli.js start --role all`
 * on the suite's emulator and the machine's Redis): one workflow starts a bulk job that creates licenses and
 * gets it until it has ended (`n8n execute`), and the job's signed notification comes back into the same
 * workflow's Webhook node in `n8n start`, where a second Keycrate Worker node gets the job by its id.
 *
 * The manual branch runs with `n8n execute` in a second user folder (its own SQLite database): the webhook's
 * execution in `n8n start` must not write to the database of an `n8n execute` still saving its own run.
 */
import { createHmac } from 'node:crypto';
import { EmulatorUnderTest } from './support/emulator';
import { N8nInstance, OwnerSession, e2eEnvironment, executionsSettled, freePort, webhookRegistered, type E2eEnvironment } from './support/n8n';
import { describePackedPackage, undeclaredParameters } from './support/package';
import { WorkerUnderTest } from './support/worker';
import {
	KEYCRATE_WORKER_CREDENTIAL_TYPE,
	KEYCRATE_WORKER_NODE_TYPE,
	expr,
	type CredentialRef,
	type WorkflowJson,
	type WorkflowNodeJson,
} from './support/workflows';

const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;
const WORKER_CREDENTIAL: CredentialRef = { id: 'kcE2eWorkerCred1', name: 'Keycrate Worker (e2e)' };
// A Standard Webhooks secret, as LICENSE_WEBHOOK_SECRET must be.
const NOTIFY_SECRET = `whsec_${Buffer.from('e2e-worker-notify-secret-32-bytes').toString('base64')}`;
const WORKFLOW_ID = 'kcE2eWorkerJob01';
const HOOK_PATH = 'kce2e-bulk-job';
const CREATE = { count: 250, tag: 'worker-e2e', keyPattern: 'WRK-****-****' } as const;
const ENDED = ['completed', 'failed', 'canceled'];

let e2e: E2eEnvironment;
let emulator: EmulatorUnderTest;
let worker: WorkerUnderTest;
/** Holds the workflow active in `n8n start`: its Webhook gets the notification. */
let server: N8nInstance;
/** Runs the workflow's manual branch with `n8n execute`. */
let runner: N8nInstance;
let serverPort: number;

function workerNode(name: string, position: [number, number], parameters: Record<string, unknown>): WorkflowNodeJson {
	return {
		id: `${WORKFLOW_ID}-${name.replace(/\W/g, '')}`,
		name,
		type: KEYCRATE_WORKER_NODE_TYPE,
		typeVersion: 1,
		position,
		parameters,
		credentials: { [KEYCRATE_WORKER_CREDENTIAL_TYPE]: WORKER_CREDENTIAL },
	};
}

const link = (node: string, index = 0) => ({ node, type: 'main' as const, index });

/**
 * Run → Start Create Job → Get Job → Ended? (no: Wait 1 s → Get Job; yes: Job Ended), and
 * Job Finished (Webhook, the Notify URL) → Get Notified Job.
 */
function bulkJobWorkflow(notifyUrl: string): WorkflowJson {
	const nodes: WorkflowNodeJson[] = [
		{ id: `${WORKFLOW_ID}-run`, name: 'Run', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		workerNode('Start Create Job', [220, 0], {
			resource: 'bulkJob',
			operation: 'start',
			kind: 'create',
			appId: emulator.appId,
			count: CREATE.count,
			durationUnit: 'days',
			durationValue: 30,
			additionalFields: { tags: CREATE.tag, keyPattern: CREATE.keyPattern },
			options: { notifyUrl },
		}),
		workerNode('Get Job', [440, 0], { resource: 'bulkJob', operation: 'get', jobId: expr(`$('Start Create Job').first().json.id`) }),
		{
			id: `${WORKFLOW_ID}-ended`,
			name: 'Ended?',
			type: 'n8n-nodes-base.if',
			typeVersion: 2,
			position: [660, 0],
			parameters: {
				conditions: {
					options: { caseSensitive: true, leftValue: '', typeValidation: 'loose' },
					conditions: [
						{
							id: `${WORKFLOW_ID}-ended-1`,
							leftValue: expr(`${JSON.stringify(ENDED)}.includes($json.state)`),
							rightValue: '',
							operator: { type: 'boolean', operation: 'true', singleValue: true },
						},
					],
					combinator: 'and',
				},
				options: {},
			},
		},
		{
			id: `${WORKFLOW_ID}-wait`,
			name: 'Wait 1 s',
			type: 'n8n-nodes-base.wait',
			typeVersion: 1.1,
			position: [880, 120],
			parameters: { amount: 1, unit: 'seconds' },
			webhookId: '0b7d5c1e-2f3a-4b5c-8d9e-0f1a2b3c4d01',
		},
		{ id: `${WORKFLOW_ID}-done`, name: 'Job Ended', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [880, -120], parameters: {} },
		{
			id: `${WORKFLOW_ID}-hook`,
			name: 'Job Finished',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 300],
			parameters: { httpMethod: 'POST', path: HOOK_PATH, responseMode: 'onReceived', options: {} },
			webhookId: '0b7d5c1e-2f3a-4b5c-8d9e-0f1a2b3c4d02',
		},
		workerNode('Get Notified Job', [220, 300], { resource: 'bulkJob', operation: 'get', jobId: expr('$json.body.data.job_id') }),
	];
	return {
		id: WORKFLOW_ID,
		name: 'E2E: worker bulk job, notified',
		active: false,
		nodes,
		connections: {
			Run: { main: [[link('Start Create Job')]] },
			'Start Create Job': { main: [[link('Get Job')]] },
			'Get Job': { main: [[link('Ended?')]] },
			'Ended?': { main: [[link('Job Ended')], [link('Wait 1 s')]] },
			'Wait 1 s': { main: [[link('Get Job')]] },
			'Job Finished': { main: [[link('Get Notified Job')]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

beforeAll(async () => {
	e2e = e2eEnvironment();
	emulator = await EmulatorUnderTest.start();
	worker = await WorkerUnderTest.start(emulator, NOTIFY_SECRET);
	serverPort = await freePort();
	const workflow = bulkJobWorkflow(`http://127.0.0.1:${serverPort}/webhook/${HOOK_PATH}`);
	const credential = { ...WORKER_CREDENTIAL, type: KEYCRATE_WORKER_CREDENTIAL_TYPE, data: { workerUrl: worker.url, adminToken: worker.adminToken } };
	server = await N8nInstance.create(e2e, 'n8n-worker-server');
	runner = await N8nInstance.create(e2e, 'n8n-worker-runner');
	for (const instance of [server, runner]) {
		await instance.importCredentials([credential]);
		await instance.importWorkflows([workflow]);
	}
	await server.activate(WORKFLOW_ID);
});

afterAll(async () => {
	await worker?.stop();
	await emulator?.stop();
});

describe(`the Keycrate Worker node against a running worker ${ON_N8N}`, () => {
	test('the workflow sets only parameters the packed Keycrate Worker node declares', async () => {
		const packed = await describePackedPackage(e2e, runner.packageDir);
		expect(undeclaredParameters(bulkJobWorkflow('http://127.0.0.1/').nodes, packed)).toEqual([]);
	});

	test(`Bulk Job → Start creates exactly ${CREATE.count} licenses, Get reads the result, and the signed notification runs the Webhook branch`, async () => {
		const running = await server.startServer(serverPort);
		try {
			const owner = await OwnerSession.setUp(running);
			await webhookRegistered(`${running.url}/webhook/${HOOK_PATH}`);

			const run = await runner.execute(WORKFLOW_ID);
			expect(run.output.data.resultData.error).toBeUndefined();
			const started = run.first('Start Create Job');
			expect(started).toMatchObject({ id: expect.any(String), kind: 'create', state: expect.stringMatching(/^(waiting|active|delayed|completed)$/) });
			const jobId = String(started.id);
			// Simplified: counts, no request and no failures list.
			expect(run.first('Job Ended')).toMatchObject({
				id: jobId,
				kind: 'create',
				state: 'completed',
				succeeded: CREATE.count,
				failed: 0,
				canceled: false,
				done: CREATE.count,
				total: CREATE.count,
			});
			expect(run.first('Job Ended')).not.toHaveProperty('request');
			expect(await worker.job(jobId)).toMatchObject({ id: jobId, state: 'completed', result: expect.objectContaining({ succeeded: CREATE.count, failed: 0 }) });

			// Exactly the requested licenses, with the job's settings.
			const created = (await emulator.app()).licenses.filter((license) => license.tags.includes(CREATE.tag));
			expect(created).toHaveLength(CREATE.count);
			expect(new Set(created.map((license) => license.license_key)).size).toBe(CREATE.count);
			expect(
				created.filter(
					(license) => !/^WRK-[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(license.license_key) || license.duration_unit !== 'days' || license.duration_value !== 30,
				),
			).toEqual([]);

			// The notification arrived in the Webhook node, signed with LICENSE_WEBHOOK_SECRET.
			await executionsSettled(owner, WORKFLOW_ID, 1);
			const executions = await owner.executions(WORKFLOW_ID);
			expect(executions.map((execution) => execution.status)).toEqual(['success']);
			const notified = await owner.execution(executions[0].id);
			const { headers, body } = notified.first('Job Finished') as { headers: Record<string, string>; body: Record<string, unknown> };
			expect(body).toEqual({
				type: 'bulk_job.completed',
				id: jobId,
				created: expect.any(Number),
				data: expect.objectContaining({ job_id: jobId, kind: 'create', succeeded: CREATE.count, failed: 0, canceled: false, failures: [] }),
			});
			expect(headers['idempotency-key']).toBe(jobId);
			expect(headers['webhook-id']).toBe(jobId);
			// Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed with the secret's bytes. The worker
			// sends compact JSON.stringify output, so the parsed body re-serialises to the signed bytes.
			const key = Buffer.from(NOTIFY_SECRET.slice('whsec_'.length), 'base64');
			const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${JSON.stringify(body)}`;
			expect(headers['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
			expect(notified.first('Get Notified Job')).toMatchObject({ id: jobId, state: 'completed', succeeded: CREATE.count, failed: 0 });
		} finally {
			await running.stop();
		}
	});
});
