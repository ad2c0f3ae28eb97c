/**
 * The example workflows in examples/: importable (nodes, connections), Keycrate nodes that use only
 * operations and parameters the node declares, and the Keycrate steps run as written against the emulator.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeParameters } from 'n8n-workflow';
import { Webhook } from 'standardwebhooks';

import { KeycrateWorker } from '../../nodes/KeycrateWorker/KeycrateWorker.node';
import { describeOperations } from './describe-operations';
import { useEmulator } from './fixtures';
import { createPoller, createSyncTrigger, NODE_TYPE, runKeycrateWorker, SYNC_TRIGGER_TYPE, TRIGGER_TYPE, WORKER_NODE_TYPE } from './harness';
import { startWorkerStub } from './worker-stub';

const keycrate = useEmulator();

interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: INodeParameters;
}
interface WorkflowFile {
	name: string;
	nodes: WorkflowNode[];
	connections: Record<string, { main: Array<Array<{ node: string }>> }>;
}

const dir = join(__dirname, '../../examples');
const examples = Object.fromEntries(
	readdirSync(dir)
		.filter((file) => file.endsWith('.json'))
		.map((file) => [file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as WorkflowFile]),
);
const nodeOf = (file: string, name: string) => examples[file].nodes.find((node) => node.name === name)!;

/** The Keycrate Worker node's parameters of one operation, like describeOperations (collection members as "collection.member"). */
function workerParameters(resource: string, operation: string): { required: string[]; optional: string[] } | undefined {
	const shown = new KeycrateWorker().description.properties.filter(
		(p) =>
			(p.displayOptions?.show?.resource as string[] | undefined)?.includes(resource) &&
			(p.displayOptions?.show?.operation as string[] | undefined)?.includes(operation),
	);
	if (shown.length === 0) return undefined;
	const optional = shown.flatMap((p) =>
		p.type === 'collection' ? (p.options as Array<{ name: string }>).map((member) => `${p.name}.${member.name}`) : [p.name],
	);
	return { required: [], optional };
}

describe('the example workflows', () => {
	it('are the five of the README, each listed there', () => {
		expect(Object.keys(examples).sort()).toEqual([
			'expiring-licenses-email.json',
			'extend-tier.json',
			'stripe-purchase-to-license.json',
			'worker-bulk-extend-tier.json',
			'worker-handoff-email.json',
		]);
		const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
		for (const file of Object.keys(examples)) expect(readme).toContain(`(examples/${file})`);
	});

	it('are importable: unique node names and ids, connections between existing nodes', () => {
		for (const [file, workflow] of Object.entries(examples)) {
			const names = workflow.nodes.map((node) => node.name);
			expect([file, new Set(names).size]).toEqual([file, names.length]);
			expect([file, new Set(workflow.nodes.map((node) => node.id)).size]).toEqual([file, names.length]);
			for (const node of workflow.nodes)
				expect(node).toMatchObject({ type: expect.any(String), typeVersion: expect.any(Number), position: [expect.any(Number), expect.any(Number)] });
			for (const [from, { main }] of Object.entries(workflow.connections)) {
				expect(names).toContain(from);
				for (const target of main.flat()) expect(names).toContain(target.node);
			}
		}
	});

	it('use the package node types with declared operations and parameters only', () => {
		const operations = describeOperations();
		for (const [file, workflow] of Object.entries(examples)) {
			for (const node of workflow.nodes.filter((n) => n.type.startsWith('n8n-nodes-keycrate.'))) {
				expect([NODE_TYPE, TRIGGER_TYPE, WORKER_NODE_TYPE, SYNC_TRIGGER_TYPE]).toContain(node.type);
				if (node.type === TRIGGER_TYPE || node.type === SYNC_TRIGGER_TYPE) continue;
				const { resource, operation, ...parameters } = node.parameters as Record<string, unknown>;
				const declared =
					node.type === NODE_TYPE ? operations[resource as string]?.[operation as string] : workerParameters(resource as string, operation as string);
				expect([file, node.name, declared !== undefined]).toEqual([file, node.name, true]);
				const known = new Set([...declared!.required, ...declared!.optional, ...declared!.optional.map((p) => p.split('.')[0])]);
				for (const [name, value] of Object.entries(parameters)) {
					expect([file, node.name, name, known.has(name)]).toEqual([file, node.name, name, true]);
					if (value && typeof value === 'object' && !('__rl' in value)) {
						for (const member of Object.keys(value))
							expect([file, `${name}.${member}`, known.has(`${name}.${member}`)]).toEqual([file, `${name}.${member}`, true]);
					}
				}
			}
		}
	});

	it('Stripe purchase: Create License as written, on a checkout.session.completed event', async () => {
		const event = {
			type: 'checkout.session.completed',
			data: { object: { id: 'cs_test_a1B2c3', payment_intent: 'pi_3Q1example', subscription: null, customer_details: { email: 'ada@example.com' } } },
		};
		const [license] = await keycrate.runOk(nodeOf('stripe-purchase-to-license.json', 'Create License').parameters, [{ json: event }]);
		expect(license).toMatchObject({ license_key: expect.any(String), tags: ['stripe', 'pi_3Q1example'] });
		expect(keycrate.emulator.state().apps[0].licenses[0].metadata).toEqual({ email: 'ada@example.com', checkout_session_id: 'cs_test_a1B2c3' });
	});

	it('extend a tier: refuses to run until a tier is chosen, then extends every license of it by 30 days', async () => {
		const getMany = nodeOf('extend-tier.json', 'Licenses of the Tier').parameters;
		const unset = await keycrate.run(getMany);
		expect(unset.error?.message).toBe('Filters → Subscription Tier is empty');

		const [tier] = await keycrate.runOk({ resource: 'subscription', operation: 'create', name: 'Pro', level: 2 });
		const inTier = await keycrate.runOk({
			resource: 'license',
			operation: 'createBulk',
			keyAmount: 3,
			durationUnit: 'days',
			durationValue: 10,
			additionalFields: { subscriptionId: tier.subscription_id as string },
		});
		await keycrate.runOk({ resource: 'license', operation: 'createBulk', keyAmount: 2, durationUnit: 'days', durationValue: 10 });
		const before = new Map(keycrate.emulator.state().apps[0].licenses.map((l) => [l.license_key, Date.parse(l.expires_at!)]));

		const chosen = { ...getMany, filters: { subscriptionId: { __rl: true, mode: 'list', value: tier.subscription_id as string } } };
		const listed = await keycrate.runOk(chosen);
		expect(listed.map((l) => l.license_key).sort()).toEqual(inTier.map((l) => l.license_key).sort());
		const keys = listed.map((l) => l.license_key); // what Collect Keys (Aggregate) hands on as `keys`
		const results = await keycrate.runOk(nodeOf('extend-tier.json', 'Extend by 30 Days').parameters, [{ json: { keys } }]);
		expect(results.map((r) => r.success)).toEqual([true, true, true]);
		for (const license of keycrate.emulator.state().apps[0].licenses) {
			const moved = Date.parse(license.expires_at!) - before.get(license.license_key)!;
			expect([license.license_key, moved]).toEqual([license.license_key, keys.includes(license.license_key) ? 30 * 86_400_000 : 0]);
		}
	});

	it('expiring licenses: the trigger as written reports a license due within 7 days, with its metadata email', async () => {
		await keycrate.runOk({
			resource: 'license',
			operation: 'create',
			durationUnit: 'days',
			durationValue: 3,
			additionalFields: { metadata: '{"email":"grace@example.com"}' },
		});
		await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 30 });
		const { pollTimes: _pollTimes, ...parameters } = nodeOf('expiring-licenses-email.json', 'License Expiring Soon').parameters;
		const output = await createPoller(keycrate.credentials, parameters).poll();
		expect(output?.[0].map((item) => (item.json.metadata as { email?: string }).email)).toEqual(['grace@example.com']);
	});

	it('worker hand-off: the Keycrate Sync Trigger (license.created) straight into Send License Key, no Code node', () => {
		const file = 'worker-handoff-email.json';
		expect(examples[file].nodes.map((node) => node.type)).toEqual([SYNC_TRIGGER_TYPE, 'n8n-nodes-base.emailSend']);
		expect(nodeOf(file, 'License Created').parameters).toEqual({ path: 'keycrate-handoff', events: ['license.created'], options: {} });
		expect(examples[file].connections['License Created'].main.map((branch) => branch.map((t) => t.node))).toEqual([['Send License Key']]);
	});

	it('worker hand-off: the trigger as written emits what Send License Key reads, once per license, and refuses a forged delivery', async () => {
		const file = 'worker-handoff-email.json';
		const secret = `whsec_${randomBytes(32).toString('base64')}`;
		const trigger = createSyncTrigger(secret, nodeOf(file, 'License Created').parameters);
		const payload = {
			type: 'license.created',
			id: 'kclh_1',
			created: 1,
			data: { license_key: 'K-1', email: 'ada@example.com', expires_at: null, status: 'active' },
		};
		// As the worker signs it (worker/src/jobs/handoff.ts, the same library).
		const deliver = async (signingSecret: string, body = JSON.stringify(payload)) => {
			const timestamp = new Date();
			const signature = new Webhook(signingSecret).sign(payload.id, timestamp, JSON.stringify(payload));
			const headers = { 'webhook-id': payload.id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
			return await trigger.deliver({ headers, rawBody: Buffer.from(body) });
		};
		const [item] = (await deliver(secret)).items ?? [];
		const email = nodeOf(file, 'Send License Key').parameters;
		expect(email.toEmail).toBe('={{ $json.email }}');
		for (const field of ['license_key', 'expires_at']) expect(String(email.text)).toContain(`$json.${field}`);
		expect(item.json).toMatchObject({ email: 'ada@example.com', license_key: 'K-1', expires_at: null });
		expect((await deliver(secret)).items).toBeUndefined(); // the worker's retry: no second email
		expect((await deliver(`whsec_${randomBytes(32).toString('base64')}`)).response?.status).toBe(401);
		expect((await deliver(secret, JSON.stringify({ ...payload, data: { ...payload.data, email: 'mallory@example.com' } }))).response?.status).toBe(401);
	});

	it('worker bulk job: Start as written (tier and app chosen) queues an extend of the tier that notifies the Webhook', async () => {
		const file = 'worker-bulk-extend-tier.json';
		const start = nodeOf(file, 'Extend the Tier by 30 Days').parameters;
		const webhook = nodeOf(file, 'Job Finished').parameters;
		expect(new URL(String((start.options as { notifyUrl: string }).notifyUrl)).pathname).toBe(`/webhook/${String(webhook.path)}`);
		const stub = await startWorkerStub();
		try {
			const credentials = { workerUrl: stub.url, adminToken: stub.token };
			// App ID is required and empty until chosen: n8n refuses to run the node.
			await expect(runKeycrateWorker({ credentials, parameters: start })).rejects.toThrow('The workflow has issues');
			const appId = '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11';
			const tier = '7b1e6f0a-3c2d-4e5f-8a9b-0c1d2e3f4a5b';
			const chosen = await runKeycrateWorker({ credentials, parameters: { ...start, appId, filter: { subscriptionId: tier } } });
			expect(chosen.items.map((item) => item.json)).toEqual([expect.objectContaining({ kind: 'extend', state: 'waiting' })]);
			expect(stub.received.filter((r) => r.method === 'POST').map((r) => r.body)).toEqual([
				{
					kind: 'extend',
					app_id: appId,
					filter: { subscription_id: tier },
					duration_unit: 'days',
					duration_value: 30,
					notify_url: 'http://127.0.0.1:5678/webhook/keycrate-bulk-job',
				},
			]);
			expect(stub.violations).toEqual([]);
		} finally {
			await stub.stop();
		}
	});

	it('worker bulk job: the Keycrate Sync Trigger (bulk_job.completed) on the Notify URL, and the summary reads its result', async () => {
		const file = 'worker-bulk-extend-tier.json';
		const trigger = nodeOf(file, 'Job Finished');
		expect(trigger).toMatchObject({ type: SYNC_TRIGGER_TYPE, parameters: { path: 'keycrate-bulk-job', events: ['bulk_job.completed'] } });
		expect(examples[file].connections['Job Finished'].main[0].map((t) => t.node)).toEqual(['Email Summary']);
		// The worker's notification (worker/src/jobs/handoff.ts BulkNotification), through the trigger as written.
		const secret = `whsec_${randomBytes(32).toString('base64')}`;
		const body = JSON.stringify({
			type: 'bulk_job.completed',
			id: 'job_1',
			created: 1,
			data: { job_id: 'job_1', kind: 'extend', succeeded: 3, failed: 0, canceled: false, failures: [], calls: 2 },
		});
		const now = new Date();
		const headers = {
			'webhook-id': 'job_1',
			'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
			'webhook-signature': new Webhook(secret).sign('job_1', now, body),
		};
		const [item] = (await createSyncTrigger(secret, trigger.parameters).deliver({ headers, rawBody: Buffer.from(body) })).items ?? [];
		expect(item.json).toMatchObject({ event: 'bulk_job.completed', job_id: 'job_1', succeeded: 3 });
		const email = nodeOf(file, 'Email Summary').parameters;
		for (const field of ['job_id', 'kind', 'succeeded', 'failed', 'canceled', 'calls', 'error', 'failures']) {
			expect([field, `${String(email.subject)} ${String(email.text)}`.includes(`$json.${field}`)]).toEqual([field, true]);
		}
	});
});
