/**
 * The Keycrate Sync Trigger inside a real n8n, fed by a real worker: a Stripe purchase (the Stripe fake's
 * checkout, delivered signed to the worker's /webhooks/stripe) becomes a license on the emulator, the worker
 * hands it off to LICENSE_WEBHOOK_URL = the trigger's production URL (Standard Webhooks), and the workflow
 * emails the key to the buyer through the SMTP sink. Then what must not run the workflow again: the worker's
 * own re-delivery of the same hand-off, a replay of the same webhook-id, a tampered body, a stale timestamp.
 */
import { randomBytes } from 'node:crypto';
import { startStripeFake, type StripeFake } from '@keycrate/stripe-fake';
import { Webhook } from 'standardwebhooks';
import { EmulatorUnderTest } from './support/emulator';
import { N8nInstance, OwnerSession, e2eEnvironment, executionsSettled, freePort, sleepUntil, webhookRegistered, type E2eEnvironment } from './support/n8n';
import { describePackedPackage, undeclaredParameters } from './support/package';
import { SmtpSink } from './support/smtp-sink';
import { deliverWithWorkerCode, WorkerUnderTest } from './support/worker';
import { KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE, KEYCRATE_SYNC_TRIGGER_NODE_TYPE, type CredentialRef, type WorkflowJson } from './support/workflows';

const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const STRIPE_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SYNC_CREDENTIAL: CredentialRef = { id: 'kcE2eSyncTrigCrd', name: 'Keycrate Sync Trigger (e2e)' };
const SMTP_CREDENTIAL: CredentialRef = { id: 'kcE2eSyncTrigSmt', name: 'SMTP (sink)' };
const WORKFLOW_ID = 'kcE2eSyncTrigger';
const HOOK_PATH = 'kce2e-sync-handoff';
const BUYER = 'ada@example.com';

let e2e: E2eEnvironment;
let emulator: EmulatorUnderTest;
let stripe: StripeFake;
let smtp: SmtpSink;
let worker: WorkerUnderTest;
let n8n: N8nInstance;
let port: number;

/** Keycrate Sync Trigger (License Created) → Send Email to the buyer with the key. */
const workflow = (): WorkflowJson => ({
	id: WORKFLOW_ID,
	name: 'E2E: worker hand-off → Keycrate Sync Trigger → email',
	active: false,
	nodes: [
		{
			id: `${WORKFLOW_ID}-trigger`,
			name: 'License Created',
			type: KEYCRATE_SYNC_TRIGGER_NODE_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: { path: HOOK_PATH, events: ['license.created'], options: {} },
			webhookId: '5d0c9a3e-8b1f-4c2d-9e3f-6a7b8c9d0e01',
			credentials: { [KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE]: SYNC_CREDENTIAL },
		},
		{
			id: `${WORKFLOW_ID}-email`,
			name: 'Send License Key',
			type: 'n8n-nodes-base.emailSend',
			typeVersion: 2.1,
			position: [260, 0],
			parameters: {
				fromEmail: 'licenses@example.com',
				toEmail: '={{ $json.email }}',
				subject: 'Your license key',
				emailFormat: 'text',
				text: '=Your license key: {{ $json.license_key }}',
				options: {},
			},
			credentials: { smtp: SMTP_CREDENTIAL },
		},
	],
	connections: { 'License Created': { main: [[{ node: 'Send License Key', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
});

/** POSTs `body` with Standard Webhooks headers signed over `signedBody` (the same, unless tampering). */
async function post(url: string, id: string, body: string, options: { signedBody?: string; at?: Date } = {}): Promise<{ status: number; body: unknown }> {
	const at = options.at ?? new Date();
	const headers = {
		'content-type': 'application/json',
		'webhook-id': id,
		'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
		'webhook-signature': new Webhook(SECRET).sign(id, at, options.signedBody ?? body),
	};
	const response = await fetch(url, { method: 'POST', headers, body });
	return { status: response.status, body: (await response.json().catch(() => undefined)) as unknown };
}

beforeAll(async () => {
	e2e = e2eEnvironment();
	emulator = await EmulatorUnderTest.start();
	smtp = await SmtpSink.start();
	// Its endpoint is given per delivery (the worker's port is known once it runs); the secret is this one.
	stripe = await startStripeFake({ port: 0, webhooks: [{ url: 'http://127.0.0.1:9/webhooks/stripe', secret: STRIPE_SECRET }] });
	port = await freePort();
	worker = await WorkerUnderTest.start(emulator, SECRET, {
		STRIPE_API_KEY: stripe.apiKey,
		STRIPE_API_BASE: stripe.url,
		STRIPE_WEBHOOK_SECRETS: STRIPE_SECRET,
		LICENSE_WEBHOOK_URL: `http://127.0.0.1:${port}/webhook/${HOOK_PATH}`,
	});
	n8n = await N8nInstance.create(e2e, 'n8n-sync-trigger');
	await n8n.importCredentials([
		{ ...SYNC_CREDENTIAL, type: KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE, data: { signingSecret: SECRET } },
		{
			...SMTP_CREDENTIAL,
			type: 'smtp',
			data: { host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true, user: '', password: '', hostName: '' },
		},
	]);
	await n8n.importWorkflows([workflow()]);
	await n8n.activate(WORKFLOW_ID);
});

afterAll(async () => {
	await worker?.stop();
	await stripe?.stop();
	await emulator?.stop();
	await smtp?.stop();
});

describe(`the Keycrate Sync Trigger fed by a running worker ${ON_N8N}`, () => {
	test('the workflow sets only parameters the packed Keycrate Sync Trigger declares', async () => {
		const packed = await describePackedPackage(e2e, n8n.packageDir);
		expect(packed.nodes.map((node) => node.name)).toContain('keycrateSyncTrigger');
		expect(undeclaredParameters(workflow().nodes, packed)).toEqual([]);
	});

	test('a purchase emails the license key once; a re-delivery, a replay, a tampered body and a stale timestamp run nothing', async () => {
		const server = await n8n.startServer(port);
		try {
			const owner = await OwnerSession.setUp(server);
			const url = `${server.url}/webhook/${HOOK_PATH}`;
			await webhookRegistered(url);

			// The purchase, as Stripe sends it: a 30-day license for the buyer.
			stripe.createPrice({ id: 'price_e2e_30d', unit_amount: 1500, metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '30' } });
			stripe.checkoutPayment({ customer: stripe.createCustomer({ email: BUYER }).id, lines: [{ price: 'price_e2e_30d', quantity: 1 }] });
			const delivered = await stripe.deliver({ urls: [`${worker.url}/webhooks/stripe`], retries: 3 });
			expect(delivered.byStatus).toEqual({ 200: delivered.sent });

			await sleepUntil('the license key email', () => smtp.messages.length >= 1);
			await executionsSettled(owner, WORKFLOW_ID, 1);
			const [license] = (await emulator.app()).licenses;
			expect(smtp.messages.map((mail) => mail.to)).toEqual([[BUYER]]);
			expect(smtp.texts()[0]).toContain(`Your license key: ${license.license_key}`);
			const executions = await owner.executions(WORKFLOW_ID);
			expect(executions.map((execution) => execution.status)).toEqual(['success']);
			const emitted = (await owner.execution(executions[0].id)).first('License Created');
			expect(emitted).toMatchObject({
				event: 'license.created',
				id: expect.stringMatching(/^kclh_/),
				license_key: license.license_key,
				email: BUYER,
				status: 'active',
			});
			const id = String(emitted.id);

			// The worker re-sends the same hand-off (same webhook-id, fresh signature): acknowledged, not run.
			expect(await deliverWithWorkerCode({ url, secret: SECRET, email: BUYER, licenseKey: license.license_key, expiresAt: license.expires_at })).toEqual({
				status: 200,
			});
			// A replay of that webhook-id within the tolerance: acknowledged as a duplicate, not run.
			const body = JSON.stringify({
				type: 'license.created',
				id,
				created: Math.floor(Date.now() / 1000),
				data: { license_key: license.license_key, email: BUYER },
			});
			expect(await post(url, id, body)).toEqual({ status: 200, body: { received: true, duplicate: id } });
			// A tampered body under a valid signature of the original: 401.
			const tampered = await post(url, 'kclh_tampered', body.replace(BUYER, 'mallory@example.com'), { signedBody: body });
			expect(tampered).toEqual({ status: 401, body: { error: expect.stringContaining('webhook-signature does not match this body') } });
			// A correctly signed delivery 10 minutes old (a replay past the tolerance): 401.
			const stale = await post(url, 'kclh_stale', body, { at: new Date(Date.now() - 600_000) });
			expect(stale).toEqual({ status: 401, body: { error: expect.stringMatching(/^webhook-timestamp is 6\d\d s old, outside the tolerance of 300 s/) } });
			// No Standard Webhooks headers at all: 400 naming them.
			const bare = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
			expect(bare.status).toBe(400);

			// Still one execution and one email.
			expect(await owner.executions(WORKFLOW_ID)).toHaveLength(1);
			expect(smtp.messages).toHaveLength(1);
		} finally {
			await server.stop();
		}
	});
});
