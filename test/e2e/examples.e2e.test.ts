/**
 * Every example workflow in examples/*.json, in a real n8n with the package installed as a community
 * package. Each is checked (node types and versions this n8n has, Keycrate parameters the node declares),
 * imported with n8n's CLI, and, unless it needs Stripe, run against the emulator the way a user would after
 * importing it (credentials chosen, placeholders filled in): from a Manual Trigger with `n8n execute`, or, for
 * a webhook or polling trigger, activated in `n8n start`. Send Email goes to a local SMTP sink.
 */
import { PACKAGE_NAME } from './support/community-package';
import { EmulatorUnderTest, type License } from './support/emulator';
import {
	bundledNodeTypes,
	exampleFiles,
	readExample,
	runPlan,
	unknownNodeTypes,
	type ExampleSetup,
	type ExampleWorkflow,
	type KnownNodeTypes,
} from './support/examples';
import {
	N8nInstance,
	OwnerSession,
	e2eEnvironment,
	executionsSettled,
	freePort,
	sleepUntil,
	webhookRegistered,
	type E2eEnvironment,
	type N8nServer,
} from './support/n8n';
import { describePackedPackage, undeclaredParameters, type PackedPackage } from './support/package';
import { SmtpSink } from './support/smtp-sink';
import { deliverWithWorkerCode, WorkerUnderTest } from './support/worker';
import {
	KEYCRATE_CREDENTIAL_TYPE,
	KEYCRATE_NODE_TYPE,
	KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE,
	KEYCRATE_SYNC_TRIGGER_NODE_TYPE,
	KEYCRATE_TRIGGER_NODE_TYPE,
	KEYCRATE_WORKER_CREDENTIAL_TYPE,
	KEYCRATE_WORKER_NODE_TYPE,
	type CredentialRef,
} from './support/workflows';

const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;
const FILES = exampleFiles();
const KEYCRATE_CREDENTIAL: CredentialRef = { id: 'kcE2eExampleKc01', name: 'Keycrate (emulator)' };
const SMTP_CREDENTIAL: CredentialRef = { id: 'kcE2eExampleSmtp', name: 'SMTP (sink)' };
const WORKER_CREDENTIAL: CredentialRef = { id: 'kcE2eExampleWork', name: 'Keycrate Worker (e2e)' };
const EMAIL_SEND = 'n8n-nodes-base.emailSend';
const SYNC_CREDENTIAL: CredentialRef = { id: 'kcE2eExampleSync', name: 'Keycrate Sync Trigger (e2e)' };
/** LICENSE_WEBHOOK_SECRET: a Standard Webhooks secret (whsec_ + base64 of 32 bytes). */
const HANDOFF_SECRET = `whsec_${Buffer.from('e2e-license-webhook-secret-32byt').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('not-the-license-webhook-secret!!').toString('base64')}`;
const DAY_MS = 86_400_000;

/** What the emulator holds before the examples run: a tier with licenses, and licenses near their expiry. */
const SEED = {
	tierLicenses: 3,
	/** Expire within 7 days and carry a customer email: "License Expiring Soon" → one reminder each. */
	expiringWithEmail: ['ana@example.com', 'ben@example.com'],
} as const;

let e2e: E2eEnvironment;
let packed: PackedPackage;
let known: KnownNodeTypes;
let emulator: EmulatorUnderTest;
let smtp: SmtpSink;
let n8n: N8nInstance;
let worker: WorkerUnderTest;
/** The credentials every instance of this suite gets. */
let credentials: Parameters<N8nInstance['importCredentials']>[0];
/** A second user folder for a manual branch run while `n8n start` serves the same workflow (made on first use). */
let runner: N8nInstance | undefined;
let setup: ExampleSetup;
let tierKeys: string[];
let otherKeys: string[];
let expiringKeys: Map<string, string>;

async function licensesByKey(): Promise<Map<string, License>> {
	return new Map((await emulator.app()).licenses.map((license) => [license.license_key, license]));
}

async function seed(): Promise<void> {
	const appId = emulator.appId;
	const tier = await emulator.call<{ subscription_id: string }>('/subscription/create', { app_id: appId, name: 'Examples: Pro', level: 2 });
	const create = (body: Record<string, unknown>) => emulator.call<{ license_key: string }>('/license/create', { app_id: appId, ...body });
	tierKeys = [];
	for (let index = 0; index < SEED.tierLicenses; index++) {
		tierKeys.push((await create({ subscription_id: tier.subscription_id, duration_unit: 'days', duration_value: 60 })).license_key);
	}
	otherKeys = [
		// Outside the tier, and outside the 7-day window.
		(await create({ duration_unit: 'days', duration_value: 60 })).license_key,
		// Due, but no email to remind.
		(await create({ duration_unit: 'days', duration_value: 3 })).license_key,
		// Has an email, not due yet.
		(await create({ duration_unit: 'days', duration_value: 20, metadata: { email: 'later@example.com' } })).license_key,
	];
	expiringKeys = new Map();
	for (const email of SEED.expiringWithEmail) {
		expiringKeys.set((await create({ duration_unit: 'days', duration_value: 3, metadata: { email } })).license_key, email);
	}
	setup = {
		credentialsByNodeType: {
			[KEYCRATE_NODE_TYPE]: { [KEYCRATE_CREDENTIAL_TYPE]: KEYCRATE_CREDENTIAL },
			[KEYCRATE_TRIGGER_NODE_TYPE]: { [KEYCRATE_CREDENTIAL_TYPE]: KEYCRATE_CREDENTIAL },
			[EMAIL_SEND]: { smtp: SMTP_CREDENTIAL },
			[KEYCRATE_WORKER_NODE_TYPE]: { [KEYCRATE_WORKER_CREDENTIAL_TYPE]: WORKER_CREDENTIAL },
			[KEYCRATE_SYNC_TRIGGER_NODE_TYPE]: { [KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE]: SYNC_CREDENTIAL },
		},
		placeholders: {},
		subscriptionId: tier.subscription_id,
		appId,
	};
}

/** An id for the example's runnable copy: 16 letters and digits, as n8n makes them. */
const runId = (file: string) => `kcE2eExample${String(FILES.indexOf(file)).padStart(4, '0')}`;

/** The example's file with the id n8n 2.x's import needs (its editor assigns one on import too). */
const asImported = (file: string, workflow: ExampleWorkflow): ExampleWorkflow =>
	workflow.id ? workflow : { ...workflow, id: `kcE2eImport${String(FILES.indexOf(file)).padStart(5, '0')}` };

/** Starts n8n (on `port` if given) with the workflow active, runs `drive` against it, and stops n8n whatever happens. */
async function withActiveWorkflow(workflowId: string, drive: (server: N8nServer, owner: OwnerSession) => Promise<void>, port?: number): Promise<void> {
	await n8n.activate(workflowId);
	const server = await n8n.startServer(port);
	try {
		await drive(server, await OwnerSession.setUp(server));
	} finally {
		await server.stop();
		// Later examples start n8n again: this one's trigger must not fire there.
		await n8n.deactivate(workflowId);
	}
}

/**
 * The user folder that runs a workflow's manual branch with `n8n execute` while the suite's n8n serves the
 * same workflow's webhook: its own SQLite database, so the two processes never write to one file at once.
 */
async function manualRunner(): Promise<N8nInstance> {
	if (!runner) {
		runner = await N8nInstance.create(e2e, 'n8n-examples-runner');
		await runner.importCredentials(credentials);
	}
	return runner;
}

/** What each example must do when it runs, beyond finishing without an error. */
const SCENARIOS: Record<string, (workflow: ExampleWorkflow) => Promise<void>> = {
	'extend-tier.json': async (workflow) => {
		const before = await licensesByKey();
		const run = await n8n.execute(String(workflow.id));
		expect(run.output.data.resultData.error).toBeUndefined();
		const after = await licensesByKey();
		const moved = (key: string) => Date.parse(String(after.get(key)?.expires_at)) - Date.parse(String(before.get(key)?.expires_at));
		// Every license of the chosen tier moved by 30 days; nothing else moved.
		expect(tierKeys.map(moved)).toEqual(tierKeys.map(() => 30 * DAY_MS));
		expect([...otherKeys, ...expiringKeys.keys()].map(moved)).toEqual([...otherKeys, ...expiringKeys.keys()].map(() => 0));
	},

	'expiring-licenses-email.json': async (workflow) => {
		const mailsBefore = smtp.messages.length;
		// n8n polls a polling trigger once when it activates the workflow.
		await withActiveWorkflow(String(workflow.id), async (_server, owner) => {
			await sleepUntil('a reminder per expiring license with an email', () => smtp.messages.length - mailsBefore >= expiringKeys.size);
			await executionsSettled(owner, String(workflow.id), 1);
		});
		const mails = smtp.messages.slice(mailsBefore);
		const texts = smtp.texts().slice(mailsBefore);
		expect(mails.map((mail) => mail.to).sort()).toEqual([...expiringKeys.values()].map((email) => [email]).sort());
		for (const [key, email] of expiringKeys) {
			expect(texts[mails.findIndex((mail) => mail.to.includes(email))]).toContain(key);
		}
	},

	'worker-bulk-extend-tier.json': async (workflow) => {
		const id = String(workflow.id);
		const start = workflow.nodes.find((node) => node.type === KEYCRATE_WORKER_NODE_TYPE && node.parameters.operation === 'start');
		const hook = workflow.nodes.find((node) => node.type === KEYCRATE_SYNC_TRIGGER_NODE_TYPE);
		if (!start || !hook) throw new Error('expected a Keycrate Worker Bulk Job → Start node and a Keycrate Sync Trigger');
		const options = start.parameters.options as { notifyUrl: string };
		// What a user sets as Notify URL: the trigger's production URL on their n8n (here, the port it runs on).
		const port = await freePort();
		const notifyUrl = new URL(options.notifyUrl);
		expect(notifyUrl.pathname).toBe(`/webhook/${String(hook.parameters.path)}`);
		notifyUrl.host = `127.0.0.1:${port}`;
		const manual = await manualRunner();
		await manual.importWorkflows([
			{
				...workflow,
				nodes: workflow.nodes.map((node) =>
					node === start ? { ...node, parameters: { ...node.parameters, options: { ...options, notifyUrl: notifyUrl.href } } } : node,
				),
			},
		]);
		const before = await licensesByKey();
		const mailsBefore = smtp.messages.length;
		let jobId = '';
		await withActiveWorkflow(
			id,
			async (server, owner) => {
				await webhookRegistered(`${server.url}${notifyUrl.pathname}`);
				const run = await manual.execute(id);
				expect(run.output.data.resultData.error).toBeUndefined();
				const job = run.first(start.name);
				expect(job).toMatchObject({ id: expect.any(String), kind: 'extend' });
				jobId = String(job.id);
				await sleepUntil('the bulk job summary email', () => smtp.messages.length > mailsBefore);
				await executionsSettled(owner, id, 1);
			},
			port,
		);
		// One summary, from the notification of this job: the tier's licenses, all extended.
		expect(smtp.messages.slice(mailsBefore).map((mail) => mail.to)).toEqual([['ops@example.com']]);
		const text = smtp.texts()[mailsBefore];
		expect(text).toContain(`Bulk job ${jobId} (extend) has ended.`);
		// SMTP lines end in CRLF.
		expect(text).toMatch(new RegExp(`Succeeded: ${tierKeys.length}\\r?\nFailed: 0\\r?\nCanceled: no`));
		expect(await worker.job(jobId)).toMatchObject({ state: 'completed', result: expect.objectContaining({ succeeded: tierKeys.length, failed: 0 }) });
		const after = await licensesByKey();
		const moved = (key: string) => Date.parse(String(after.get(key)?.expires_at)) - Date.parse(String(before.get(key)?.expires_at));
		expect(tierKeys.map(moved)).toEqual(tierKeys.map(() => 30 * DAY_MS));
		expect([...otherKeys, ...expiringKeys.keys()].map(moved)).toEqual([...otherKeys, ...expiringKeys.keys()].map(() => 0));
	},

	'worker-handoff-email.json': async (workflow) => {
		const mailsBefore = smtp.messages.length;
		const license = { licenseKey: [...expiringKeys.keys()][0], expiresAt: new Date(Date.now() + 365 * DAY_MS).toISOString() };
		const path = workflow.nodes.find((node) => node.type === KEYCRATE_SYNC_TRIGGER_NODE_TYPE)?.parameters.path;
		await withActiveWorkflow(String(workflow.id), async (server, owner) => {
			const handoff = { url: `${server.url}/webhook/${String(path)}`, secret: HANDOFF_SECRET, email: 'buyer@example.com', ...license };
			// The webhook is registered while n8n finishes starting: a 404 means not yet.
			let first: { status?: number; error?: string } = {};
			await sleepUntil('the hand-off webhook to answer', async () => {
				first = await deliverWithWorkerCode(handoff);
				return first.status !== 404;
			});
			expect(first).toEqual({ status: 200 });
			await sleepUntil('the license key email', () => smtp.messages.length - mailsBefore >= 1);
			// The worker re-sends a hand-off (same webhook-id) when it is not sure it arrived: acknowledged, no second run.
			expect(await deliverWithWorkerCode(handoff)).toEqual({ status: 200 });
			// Signed with another secret: refused, and the worker does not retry a 4xx.
			expect(await deliverWithWorkerCode({ ...handoff, secret: OTHER_SECRET })).toEqual({ error: 'HandoffRejectedError', status: 401 });
			// Only the first delivery ran the workflow (the trigger answers the others itself).
			await executionsSettled(owner, String(workflow.id), 1);
			expect(await owner.executions(String(workflow.id))).toHaveLength(1);
		});
		const mails = smtp.messages.slice(mailsBefore);
		expect(mails.map((mail) => mail.to)).toEqual([['buyer@example.com']]);
		expect(smtp.texts()[mailsBefore]).toContain(license.licenseKey);
	},
};

beforeAll(async () => {
	e2e = e2eEnvironment();
	n8n = await N8nInstance.create(e2e, 'n8n-examples');
	packed = await describePackedPackage(e2e, n8n.packageDir);
	known = bundledNodeTypes(e2e.n8nBin);
	for (const node of packed.nodes) {
		known.set(`${PACKAGE_NAME}.${node.name}`, new Set(Array.isArray(node.version) ? node.version : [node.version]));
	}
	emulator = await EmulatorUnderTest.start();
	smtp = await SmtpSink.start();
	// Bulk jobs' notifications are signed with the same secret as hand-offs (LICENSE_WEBHOOK_SECRET).
	worker = await WorkerUnderTest.start(emulator, HANDOFF_SECRET);
	credentials = [
		{ ...KEYCRATE_CREDENTIAL, type: KEYCRATE_CREDENTIAL_TYPE, data: { apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId } },
		{
			...SMTP_CREDENTIAL,
			type: 'smtp',
			data: { host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true, user: '', password: '', hostName: '' },
		},
		{ ...WORKER_CREDENTIAL, type: KEYCRATE_WORKER_CREDENTIAL_TYPE, data: { workerUrl: worker.url, adminToken: worker.adminToken } },
		{ ...SYNC_CREDENTIAL, type: KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE, data: { signingSecret: HANDOFF_SECRET } },
	];
	await n8n.importCredentials(credentials);
	await seed();
});

afterAll(async () => {
	await worker?.stop();
	await emulator?.stop();
	await smtp?.stop();
});

describe(`example workflows ${ON_N8N}`, () => {
	test('examples/ holds example workflows', () => {
		expect(FILES.length).toBeGreaterThan(0);
	});

	// jest's .each refuses an empty table; the test above fails then.
	describe.each(FILES.length > 0 ? FILES : ['(none)'])('examples/%s', (file) => {
		if (file === '(none)') return;

		test('uses only node types and versions this n8n has, and only parameters the Keycrate nodes declare', () => {
			const workflow = readExample(file);
			expect(unknownNodeTypes(workflow, known)).toEqual([]);
			expect(undeclaredParameters(workflow.nodes, packed)).toEqual([]);
		});

		test('imports with `n8n import:workflow`', async () => {
			await n8n.importWorkflows([asImported(file, readExample(file))]);
		});

		test('runs against the emulator unless it needs Stripe', async () => {
			const plan = runPlan(readExample(file), runId(file), setup);
			if (!plan.runnable) {
				// Only Stripe is out of reach; any other reason is a gap in this suite.
				expect(plan.reason).toBe('needs Stripe');
				return;
			}
			const scenario = SCENARIOS[file];
			if (!scenario) throw new Error(`examples/${file} needs no Stripe: add what it must do to SCENARIOS in ${__filename}`);
			await n8n.importWorkflows([plan.workflow]);
			await scenario(plan.workflow);
		});
	});
});
