// History and replay end to end: a real worker process (node dist/cli.js start) on the shared Redis (unique
// prefix), the Keycrate emulator and the Stripe fake. `root` and `events` tell a purchase's story after a refund
// (created → handed off → paused by the refund); `replay` of a dead-lettered event (a plan without a duration,
// a Keycrate refusal), once its cause is fixed, applies it once (one license, however often it is replayed); the
// admin API says the same and refuses unknown events and roots; `retry --failed --since` retries what failed
// since then.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import type Stripe from 'stripe';
import type { HistoryEntry, SyncEntry } from '../src/jobs/history.js';
import { adminRequest, CLI_PATH, Cluster, waitUntil, WORKER_DIR, type WorkerProcess } from './support/cluster-harness.js';
import { PRICES } from './support/cluster-stripe.js';

const TOKEN = 'test-admin-token-history-0123456789';
const exec = promisify(execFile);

async function cli(cluster: Cluster, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: cluster.redisUrl, QUEUE_PREFIX: cluster.prefix };
	try {
		const { stdout, stderr } = await exec(process.execPath, [CLI_PATH, ...args], { cwd: WORKER_DIR, env });
		return { code: 0, stdout, stderr };
	} catch (error) {
		const failed = error as { code?: number; stdout?: string; stderr?: string };
		return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
	}
}

// The answers must be what openapi/worker-admin.openapi.yaml says they are.
const CONTRACT = 'https://keycrate.invalid/worker-admin';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ ...(parse(readFileSync(join(WORKER_DIR, '..', 'openapi', 'worker-admin.openapi.yaml'), 'utf8')) as object), $id: CONTRACT });

function expectContract(path: string, method: string, status: string, body: unknown): void {
	const pointer = ['paths', path, method, 'responses', status, 'content', 'application/json', 'schema']
		.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1'))
		.join('/');
	const validate = ajv.compile({ $ref: `${CONTRACT}#/${pointer}` });
	expect(validate(body) ? [] : validate.errors).toEqual([]);
}

function admin(worker: WorkerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
	return adminRequest(worker.ingestUrl, method, path, body, TOKEN);
}

/** The value `check` gives once it gives one. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
	let value: T | undefined;
	await waitUntil(
		async () => (value = await check()) !== undefined,
		timeoutMs,
		() => what,
	);
	return value as T;
}

async function historyOf(cluster: Cluster, root: string): Promise<HistoryEntry[]> {
	const { stdout } = await cli(cluster, ['root', root, '--json']);
	return stdout.trim() === ''
		? []
		: stdout
				.trim()
				.split('\n')
				.map((line) => JSON.parse(line) as HistoryEntry);
}

function eventOf(cluster: Cluster, type: string, objectId: string): Stripe.Event {
	const event = cluster.stripe.events().find((candidate) => candidate.type === type && (candidate.data.object as { id?: string }).id === objectId);
	if (event === undefined) throw new Error(`no ${type} event for ${objectId}`);
	return event;
}

describe('history and replay', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('root and events tell a purchase’s story after a refund: created → handed off → paused by the refund', async () => {
		cluster = await Cluster.start({ label: 'history', handoff: { failRate: 0 }, env: { ADMIN_TOKEN: TOKEN } });
		const worker = await cluster.spawnWorker('all');
		const customer = cluster.stripe.createCustomer({ email: 'story@example.com' });
		const bought = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: PRICES.app30Days, quantity: 1 }] });
		const root = bought.payment_intent?.id as string;
		await cluster.deliver();
		await cluster.waitForDrain();
		const [license] = cluster.licenses();
		expect(cluster.licenses()).toHaveLength(1);
		// The hand-off's entry is written when its job completes: wait for it, not for a fixed time.
		await until('the hand-off entry', async () => ((await historyOf(cluster, root)).some((entry) => entry.kind === 'handoff') ? true : undefined));

		cluster.stripe.refund({ payment_intent: root });
		await cluster.deliver();
		await cluster.waitForDrain();
		expect(cluster.licenses().map((l) => l.status)).toEqual(['paused']);
		const entries = await until('the refund’s entry', async () => {
			const all = await historyOf(cluster, root);
			return all.some((entry) => entry.kind === 'sync' && entry.done?.some((done) => done.action === 'setStatus')) ? all : undefined;
		});

		// The story in order: the purchase's sync created and queued the hand-off, the hand-off was delivered, the
		// refund's sync paused the license. The purchase's other events add syncs that did nothing or queued the
		// same hand-off again (one job per license).
		const acting = entries.filter((entry) => entry.kind === 'handoff' || entry.done?.some((done) => done.action === 'create' || done.action === 'setStatus'));
		expect(acting.map((entry) => (entry.kind === 'handoff' ? `handoff ${entry.outcome}` : (entry.done ?? []).map((done) => done.action).join('+')))).toEqual([
			'create+handoff',
			'handoff delivered',
			'setStatus',
		]);
		const [created, , paused] = acting as [SyncEntry, HistoryEntry, SyncEntry];
		expect(created).toMatchObject({
			outcome: 'done',
			state: { kind: 'payment', paid: true, refunded: [] },
			entitlement: { status: 'active' },
			seats: { total: 1, active: 1 },
		});
		expect(created.done?.[0].license_key).toBe(license.license_key);
		expect(created.calls.stripe).toBeGreaterThan(0);
		expect(created.calls.keycrate).toBeGreaterThan(0);
		expect(paused).toMatchObject({
			outcome: 'done',
			state: { kind: 'payment', refunded: [root] },
			entitlement: { status: 'paused', reason: `${root} was refunded in full` },
			planned: [{ type: 'setStatus', status: 'paused', license_key: license.license_key }],
		});
		// Every event the ingest received for the root is taken by exactly one attempt.
		const taken = entries.flatMap((entry) => (entry.kind === 'sync' ? (entry.events ?? []).map((event) => event.id) : []));
		expect(new Set(taken).size).toBe(taken.length);
		const refundEvent = eventOf(cluster, 'charge.refunded', bought.charge?.id as string);
		expect(taken).toContain(refundEvent.id);

		const story = await cli(cluster, ['root', root]);
		expect(story.code).toBe(0);
		const text = story.stdout;
		expect(text.split('\n')[0]).toMatch(new RegExp(`^History of ${root}, oldest first \\(\\d+ entries; at most 50 kept\\):$`));
		expect(text).toContain(`hand-off  delivered  ${license.license_key}`);
		expect(text).toMatch(new RegExp(`done\\s+create \\S+ ${license.license_key}, handoff`));
		expect(text).toMatch(new RegExp(`stripe\\s+payment paid; refunded: ${root}`));
		expect(text.indexOf('create ')).toBeLessThan(text.indexOf('hand-off  delivered'));
		expect(text.indexOf('hand-off  delivered')).toBeLessThan(text.indexOf(`refunded: ${root}`));

		const told = await cli(cluster, ['events', refundEvent.id]);
		expect(told.code).toBe(0);
		expect(told.stdout.split('\n')[0]).toMatch(new RegExp(`^${refundEvent.id} \\(charge.refunded\\) → root ${root}, received \\S+Z$`));
		expect(told.stdout).toMatch(new RegExp(`done\\s+setStatus \\S+ ${license.license_key}`));
		const toldJson = JSON.parse((await cli(cluster, ['events', refundEvent.id, '--json'])).stdout) as { root: string; entries: SyncEntry[]; pending: boolean };
		expect(toldJson).toMatchObject({ event_id: refundEvent.id, type: 'charge.refunded', root, pending: false });
		expect(toldJson.entries).toHaveLength(1);

		// The CLI's refusals: one line, what to do.
		expect(await cli(cluster, ['events', 'evt_nothere'])).toEqual({
			code: 1,
			stdout: '',
			stderr: expect.stringMatching(/^keycrate-worker: evt_nothere is not in the history: .* run: keycrate-worker resync --root <root>\n$/),
		});
		expect(await cli(cluster, ['replay', 'evt_nothere'])).toMatchObject({ code: 1, stderr: expect.stringContaining('keycrate-worker resync --root <root>') });
		expect(await cli(cluster, ['events', 'pi_123'])).toEqual({
			code: 2,
			stdout: '',
			stderr: 'keycrate-worker: events: "pi_123" is not a Stripe event id (evt_…)\n',
		});
		expect(await cli(cluster, ['root'])).toEqual({
			code: 2,
			stdout: '',
			stderr: 'keycrate-worker: root: give one a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id\n',
		});
		expect(await cli(cluster, ['root', 'sub_none'])).toMatchObject({
			code: 0,
			stdout: 'No history for sub_none (kept 50 entries per root for 2592000 s after the last).\n',
		});

		// The admin API: the same stories, and refusals that name the field or say what is unknown.
		const history = await admin(worker, 'GET', `/admin/roots/${root}/history`);
		expect(history.status).toBe(200);
		expect((history.json.data as { entries: HistoryEntry[] }).entries).toEqual(
			entries.slice(-(history.json.data as { entries: HistoryEntry[] }).entries.length),
		);
		expectContract('/admin/roots/{root}/history', 'get', '200', history.json);
		const event = await admin(worker, 'GET', `/admin/events/${refundEvent.id}`);
		expectContract('/admin/events/{event_id}', 'get', '200', event.json);
		expect(event).toEqual({ status: 200, json: { data: toldJson } });
		expect(await admin(worker, 'GET', '/admin/roots/sub_none/history')).toMatchObject({
			status: 404,
			json: { error: 'not_found', message: expect.stringContaining('no history for sub_none') },
		});
		expect(await admin(worker, 'GET', '/admin/events/evt_nothere')).toMatchObject({
			status: 404,
			json: { error: 'not_found', message: expect.stringContaining('resync --root <root>') },
		});
		expect(await admin(worker, 'POST', '/admin/events/evt_nothere/replay')).toMatchObject({ status: 404, json: { error: 'not_found' } });
		expect(await admin(worker, 'GET', '/admin/events/pi_1')).toMatchObject({ status: 400, json: { error: 'invalid_input', field: 'event_id' } });
		expect(await admin(worker, 'GET', '/admin/roots/in_1/history')).toMatchObject({ status: 400, json: { field: 'root' } });
		expect(await admin(worker, 'GET', `/admin/roots/${root}/history?limit=0`)).toMatchObject({ status: 400, json: { field: 'limit' } });
		expect(await admin(worker, 'POST', `/admin/events/${refundEvent.id}/replay`, { force: true })).toMatchObject({ status: 400, json: { field: 'force' } });
		expect(await admin(worker, 'POST', `/admin/events/${refundEvent.id}`)).toMatchObject({ status: 405 });
		expect(await admin(worker, 'POST', '/admin/dead-letters/retry', { since: 'yesterday' })).toMatchObject({
			status: 400,
			json: { field: 'since', message: expect.stringContaining('"yesterday" is neither a time back from now') },
		});
		expect(await admin(worker, 'POST', '/admin/dead-letters/retry', { since: '2h', ids: [root] })).toMatchObject({ status: 400, json: { field: 'since' } });
		expect(await admin(worker, 'POST', '/admin/dead-letters/retry', { since: '2h' })).toMatchObject({ status: 200, json: { data: { retried: 0 } } });
		expect((await admin(worker, 'GET', `/admin/events/${refundEvent.id}`)).status).toBe(200);
		const noToken = await fetch(`${worker.ingestUrl}/admin/events/${refundEvent.id}`);
		expect(noToken.status).toBe(401);
	}, 120000);

	test('replay of a dead-lettered event, once its cause is fixed, applies it once; retry --failed --since retries what failed since then', async () => {
		cluster = await Cluster.start({ label: 'replay', env: { ADMIN_TOKEN: TOKEN } });
		const worker = await cluster.spawnWorker('all');
		// A price whose plan names a tier but no duration: a one-off purchase of it cannot be licensed (a dead letter).
		cluster.stripe.createPrice({ id: 'price_kcx_no_duration', unit_amount: 500, metadata: { keycrate_subscription_id: cluster.tiers.basic } });
		const customer = cluster.stripe.createCustomer({ email: 'replay@example.com' });
		const bought = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_kcx_no_duration', quantity: 1 }] });
		const root = bought.payment_intent?.id as string;
		await cluster.deliver();
		await cluster.waitForDrain();
		const letters = await cluster.failedJobs();
		expect(letters.length).toBeGreaterThanOrEqual(1);
		expect(letters[0]).toMatchObject({ root, reason: expect.stringContaining('names no duration') });
		expect(cluster.licenses()).toEqual([]);
		const dead = (await historyOf(cluster, root)).filter((entry): entry is SyncEntry => entry.kind === 'sync' && entry.outcome === 'dead-lettered');
		expect(dead.length).toBeGreaterThanOrEqual(1);
		expect(dead[0].reason).toContain('names no duration');

		// The operator fixes the price, then replays the purchase's event: one license.
		cluster.stripe.updatePrice('price_kcx_no_duration', { metadata: { keycrate_duration_unit: 'lifetime' } });
		const completed = eventOf(cluster, 'checkout.session.completed', bought.session.id);
		const replayed = await cli(cluster, ['replay', completed.id]);
		expect(replayed).toEqual({ code: 0, stdout: `Queued a sync of ${root} (its dead letter retried): keycrate-worker root ${root}\n`, stderr: '' });
		await cluster.waitForDrain();
		expect(cluster.licenses()).toHaveLength(1);
		expect(cluster.licenses()[0].status).toBe('active');
		expect(await cluster.failedJobs()).toEqual([]);
		const replaySyncs = (await historyOf(cluster, root)).filter(
			(entry): entry is SyncEntry => entry.kind === 'sync' && entry.cause === `replay of checkout.session.completed ${completed.id}`,
		);
		expect(replaySyncs).toHaveLength(1);
		expect(replaySyncs[0]).toMatchObject({ outcome: 'done', events: [expect.objectContaining({ id: completed.id })] });
		expect(replaySyncs[0].done?.map((done) => done.action)).toEqual(['create']);

		// Replayed again (CLI and admin API): the sync reads the same state and finds nothing to do.
		expect((await cli(cluster, ['replay', completed.id])).stdout).toBe(
			`Queued a sync of ${root} (from Stripe's current state): keycrate-worker root ${root}\n`,
		);
		await cluster.waitForDrain();
		const again = await admin(worker, 'POST', `/admin/events/${completed.id}/replay`);
		expectContract('/admin/events/{event_id}/replay', 'post', '202', again.json);
		expect(again).toMatchObject({ status: 202, json: { data: { event_id: completed.id, root, queued: true, dead_letter_retried: false } } });
		await cluster.waitForDrain();
		expect(cluster.licenses()).toHaveLength(1);
		expect(cluster.calls()['/license/create']).toEqual({ '200': 1 });

		// A second purchase of such a price dead-letters too; retry --failed --since retries what failed since then.
		cluster.stripe.createPrice({ id: 'price_kcx_no_duration_2', unit_amount: 500, metadata: { keycrate_subscription_id: cluster.tiers.basic } });
		const second = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_kcx_no_duration_2', quantity: 1 }] });
		await cluster.deliver();
		await cluster.waitForDrain();
		expect((await cluster.failedJobs()).map((letter) => letter.root)).toContain(second.payment_intent?.id);
		const afterFailure = new Date().toISOString();
		expect(await cli(cluster, ['retry', '--failed', '--since', 'yesterday'])).toEqual({
			code: 2,
			stdout: '',
			stderr: 'keycrate-worker: --since: "yesterday" is neither a time back from now (90s, 30m, 2h, 7d) nor an ISO date (2026-11-01, 2026-11-01T12:00:00Z)\n',
		});
		expect(await cli(cluster, ['retry', second.payment_intent?.id as string, '--since', '2h'])).toMatchObject({
			code: 2,
			stderr: 'keycrate-worker: --since: goes with --failed (or --all), e.g. retry --failed --since 2h\n',
		});
		// Since a time after the failure: nothing; since 1 hour ago: it.
		expect(await cli(cluster, ['retry', '--failed', '--since', new Date(Date.now() + 3600000).toISOString()])).toMatchObject({
			code: 2,
			stderr: expect.stringContaining('is in the future'),
		});
		expect(await cli(cluster, ['retry', '--failed', '--since', afterFailure])).toEqual({ code: 0, stdout: 'Queued again: nothing\n', stderr: '' });
		cluster.stripe.updatePrice('price_kcx_no_duration_2', { metadata: { keycrate_duration_unit: 'lifetime' } });
		const retried = await cli(cluster, ['retry', '--failed', '--since', '1h']);
		expect(retried.stdout).toMatch(new RegExp(`^Queued again: (${second.payment_intent?.id}(, )?)+\\n$`));
		await cluster.waitForDrain();
		expect(await cluster.failedJobs()).toEqual([]);
		expect(cluster.licenses()).toHaveLength(2);
	}, 120000);
	test('replay through the admin API of a purchase Keycrate refused (a tier that does not exist), once the price names a real one: one license', async () => {
		cluster = await Cluster.start({ label: 'replay-refused', env: { ADMIN_TOKEN: TOKEN } });
		const worker = await cluster.spawnWorker('all');
		cluster.stripe.createPrice({
			id: 'price_kcx_bad_tier',
			unit_amount: 500,
			metadata: { keycrate_duration_unit: 'lifetime', keycrate_subscription_id: '99999999-9999-4999-8999-999999999999' },
		});
		const customer = cluster.stripe.createCustomer({ email: 'refused@example.com' });
		const bought = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_kcx_bad_tier', quantity: 1 }] });
		const root = bought.payment_intent?.id as string;
		await cluster.deliver();
		await cluster.waitForDrain();
		expect((await cluster.failedJobs()).map((letter) => letter.root)).toContain(root);
		expect(cluster.licenses()).toEqual([]);
		const refused = (await historyOf(cluster, root)).find((entry): entry is SyncEntry => entry.kind === 'sync' && entry.outcome === 'dead-lettered');
		expect(refused).toMatchObject({ planned: [{ type: 'create', seat: expect.any(String) }], reason: expect.stringContaining('SUBSCRIPTION_NOT_FOUND') });
		expect(refused?.done).toBeUndefined();

		cluster.stripe.updatePrice('price_kcx_bad_tier', { metadata: { keycrate_subscription_id: cluster.tiers.basic } });
		const succeeded = eventOf(cluster, 'payment_intent.succeeded', root);
		const replayed = await admin(worker, 'POST', `/admin/events/${succeeded.id}/replay`, {});
		expect(replayed).toEqual({ status: 202, json: { data: { event_id: succeeded.id, root, queued: true, dead_letter_retried: true } } });
		await cluster.waitForDrain();
		expect(await cluster.failedJobs()).toEqual([]);
		expect(cluster.licenses().map((license) => [license.status, license.subscription_id])).toEqual([['active', cluster.tiers.basic]]);
		const story = (await admin(worker, 'GET', `/admin/events/${succeeded.id}`)).json.data as { entries: SyncEntry[] };
		expect(story.entries.map((entry) => entry.outcome)).toContain('done');
	}, 120000);
});
