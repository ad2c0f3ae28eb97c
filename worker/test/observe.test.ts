// What an operator sees: /metrics scraped and parsed as Prometheus text after real webhooks → syncs → a bulk job
// (worker processes from the CLI, the Keycrate emulator and the Stripe fake); /healthz and /readyz of every role,
// and /readyz 503 with its reason while Redis is away; the bull-board dashboard behind ADMIN_TOKEN; METRICS_TOKEN.

import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { startIngest, type IngestServer } from '../src/ingest/server.js';
import { stripeEndpoint, statusLabel } from '../src/observe/metrics.js';
import { Cluster, type WorkerProcess } from './support/cluster-harness.js';
import { playPhase, StoryBook } from './support/cluster-stripe.js';
import { deliver, ingestConfig, sampleEvent, SECRET_B } from './support/ingest-webhooks.js';
import { parsePrometheusText, sampleSum, sampleValue, scrape, type Family } from './support/prometheus.js';
import { deletePrefix, startPrivateRedis, type PrivateRedis } from './support/redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';

const ADMIN_TOKEN = randomBytes(24).toString('hex');
const METRICS_TOKEN = randomBytes(24).toString('hex');

async function waitFor<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 30000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/**
 * The processing role logs where its probes listen (it runs on PORT=0 in tests); resolves once its /readyz says
 * ready (its probes listen before its Redis connection is up: not ready until then).
 */
async function probeUrl(worker: WorkerProcess): Promise<string> {
	const url = await waitFor(`${worker.name} to log "probes listening"`, () => {
		const line = worker.logLines().find((entry) => entry.msg === 'probes listening');
		return typeof line?.url === 'string' ? line.url : undefined;
	});
	await waitFor(`${worker.name} /readyz 200`, async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
	return url;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
	const response = await fetch(url, { headers });
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function expectFamily(families: Map<string, Family>, name: string, type: Family['type']): Family {
	const family = families.get(name);
	if (family === undefined) throw new Error(`no ${name} in the scrape; families: ${[...families.keys()].join(', ')}`);
	expect(family.type).toBe(type);
	expect(family.help).not.toBe('');
	return family;
}

describe('label helpers', () => {
	test.each([
		['/v1/subscriptions/sub_1QxAbC2dEfGh3', '/v1/subscriptions/{id}'],
		['/v1/checkout/sessions/cs_test_a1B2c3D4e5/line_items?limit=100', '/v1/checkout/sessions/{id}/line_items'],
		['/v1/payment_intents/pi_3QxTest9?expand[]=latest_charge.refunds', '/v1/payment_intents/{id}'],
		['/v1/invoice_payments?invoice=in_1Abc', '/v1/invoice_payments'],
		['/v1/events', '/v1/events'],
	])('Stripe path %s is endpoint %s', (path, endpoint) => {
		expect(stripeEndpoint(path)).toBe(endpoint);
	});

	test('status labels are the HTTP code, anything else "other"', () => {
		expect(statusLabel(200)).toBe('200');
		expect(statusLabel(503)).toBe('503');
		expect(statusLabel(0)).toBe('other');
		expect(statusLabel(1234)).toBe('other');
	});

	test('the parser refuses what a Prometheus scraper refuses', () => {
		expect(() => parsePrometheusText('# TYPE a counter\n# TYPE a counter\na 1\n')).toThrow('second TYPE');
		expect(() => parsePrometheusText('a{b="1" 2\n')).toThrow('line 1');
		expect(() => parsePrometheusText('# TYPE a gauge\na 1\na 2\n')).toThrow('twice');
		expect(sampleValue(parsePrometheusText('# HELP a x\n# TYPE a gauge\na{q="s\\"1"} 3\n'), 'a', { q: 's"1' })).toBe(3);
	});

	test('METRICS_TOKEN shorter than 24 characters is a config error naming it', () => {
		let error: unknown;
		try {
			loadConfig({ STRIPE_WEBHOOK_SECRETS: 'whsec_x', METRICS_TOKEN: 'short-token' }, 'ingest');
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect((error as ConfigError).variable).toBe('METRICS_TOKEN');
		expect((error as Error).message).toBe('METRICS_TOKEN: must be at least 24 characters (e.g. openssl rand -hex 24)');
		expect((error as Error).message).not.toContain('short-token');
	});
});

describe('metrics and probes of real worker processes', () => {
	let cluster: Cluster;
	let ingest: WorkerProcess;
	let processor: WorkerProcess;
	let all: WorkerProcess;
	let processUrl: string;

	beforeAll(async () => {
		cluster = await Cluster.start({ label: 'observe', env: { ADMIN_TOKEN, WORKER_CONCURRENCY: '4' } });
		[ingest, processor, all] = await Promise.all([cluster.spawnWorker('ingest'), cluster.spawnWorker('process'), cluster.spawnWorker('all')]);
		processUrl = await probeUrl(processor);
	}, 60000);

	afterAll(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('/healthz and /readyz answer 200 for each role, naming the parts they checked', async () => {
		for (const [url, role] of [
			[ingest.ingestUrl as string, 'ingest'],
			[processUrl, 'process'],
			[all.ingestUrl as string, 'all'],
		] as const) {
			const health = await getJson(`${url}/healthz`);
			expect({ role, status: health.status, ok: health.body.ok }).toEqual({ role, status: 200, ok: true });
			const ready = await getJson(`${url}/readyz`);
			const expected = role === 'ingest' ? { ready: true, redis: 'up' } : { ready: true, redis: 'up', processor: 'running' };
			expect({ role, status: ready.status, body: ready.body }).toEqual({ role, status: 200, body: expected });
		}
		// The processing role serves nothing else; probes want GET.
		expect((await fetch(`${processUrl}/webhooks/stripe`, { method: 'POST' })).status).toBe(404);
		expect((await fetch(`${processUrl}/readyz`, { method: 'POST' })).status).toBe(405);
	});

	test('/metrics of every role parses as Prometheus text with the series; counters move after webhooks → syncs → a bulk job', async () => {
		const before = { ingest: await scrape(ingest.ingestUrl as string), process: await scrape(processUrl), all: await scrape(all.ingestUrl as string) };
		// Zero before anything happened, so alerts and rate() work from the start.
		expect(sampleValue(before.ingest, 'keycrate_worker_webhooks_rejected_total', { reason: 'no_matching_signature' })).toBe(0);
		expect(sampleValue(before.process, 'keycrate_worker_syncs_total', { outcome: 'failed' })).toBe(0);

		// Two purchases and a subscription, delivered by the Stripe fake to the ingest role only.
		const book = new StoryBook(cluster.stripe, 1313, cluster.tiers, cluster.graceSeconds);
		const stories = [book.oneOff({ async: false }), book.oneOff({ async: false }), book.subscription()];
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		const urls = [`${ingest.ingestUrl as string}/webhooks/stripe`];
		const sent = await cluster.stripe.deliver({ copies: 1, urls, concurrency: 4, retries: 20 });
		// And one forged delivery: refused, counted by reason.
		expect(await cluster.postOnce(ingest.ingestUrl as string, sampleEvent(), SECRET_B)).toBe(400);
		await cluster.waitForDrain(60000);

		// A bulk job through the admin API: 3 new keys in one chunk.
		const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
		const started = await fetch(`${ingest.ingestUrl as string}/admin/jobs`, {
			method: 'POST',
			headers: admin,
			body: JSON.stringify({ kind: 'create', app_id: cluster.emu.appId, count: 3, duration_unit: 'days', duration_value: 7 }),
		});
		expect(started.status).toBe(202);
		const jobId = ((await started.json()) as { data: { id: string } }).data.id;
		await waitFor('the bulk job to complete', async () => {
			const view = await getJson(`${ingest.ingestUrl as string}/admin/jobs/${jobId}`, admin);
			return (view.body.data as { state?: string } | undefined)?.state === 'completed' ? true : undefined;
		});

		// Queue gauges are read from Redis at most once a second per process: scrape until each has read the end state.
		const settled = async (url: string) =>
			waitFor(`${url}'s queue gauges to read the completed jobs`, async () => {
				const scraped = await scrape(url);
				const completed = (queue: string) => sampleValue(scraped, 'keycrate_worker_queue_jobs', { queue, state: 'completed' }) ?? 0;
				return completed('keycrate-sync') >= 3 && completed('keycrate-bulk') === 1 ? scraped : undefined;
			});
		const after = { ingest: await settled(ingest.ingestUrl as string), process: await settled(processUrl), all: await settled(all.ingestUrl as string) };
		const delta = (role: keyof typeof after, name: string, labels: Record<string, string> = {}) =>
			sampleSum(after[role], name, labels) - sampleSum(before[role], name, labels);

		// The ingest: received / verified / rejected by reason / outcome, and the ack latency.
		expectFamily(after.ingest, 'keycrate_worker_webhooks_received_total', 'counter');
		expect(delta('ingest', 'keycrate_worker_webhooks_received_total')).toBe(sent.sent + 1);
		expect(delta('ingest', 'keycrate_worker_webhooks_verified_total')).toBe(sent.sent);
		expect(delta('ingest', 'keycrate_worker_webhooks_rejected_total', { reason: 'no_matching_signature' })).toBe(1);
		expect(delta('ingest', 'keycrate_worker_webhooks_handled_total')).toBe(sent.sent);
		expect(delta('ingest', 'keycrate_worker_webhooks_handled_total', { outcome: 'queued' })).toBeGreaterThanOrEqual(3);
		expectFamily(after.ingest, 'keycrate_worker_webhook_ack_seconds', 'histogram');
		expect(delta('ingest', 'keycrate_worker_webhook_ack_seconds_count')).toBe(sent.sent + 1);
		expect(delta('ingest', 'keycrate_worker_webhook_ack_seconds_count', { status: '400' })).toBe(1);
		expect(sampleValue(after.ingest, 'keycrate_worker_webhook_ack_seconds_bucket', { status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(sent.sent);

		// The processors (the process role and the all role share the work): syncs, their duration, API calls.
		const both = (name: string, labels: Record<string, string> = {}) => delta('process', name, labels) + delta('all', name, labels);
		expectFamily(after.process, 'keycrate_worker_syncs_total', 'counter');
		expect(both('keycrate_worker_syncs_total', { outcome: 'synced' })).toBeGreaterThanOrEqual(3);
		expect(both('keycrate_worker_syncs_total', { outcome: 'failed' })).toBe(0);
		expectFamily(after.process, 'keycrate_worker_sync_duration_seconds', 'histogram');
		expect(both('keycrate_worker_sync_duration_seconds_count')).toBe(both('keycrate_worker_syncs_total'));
		expectFamily(after.process, 'keycrate_worker_keycrate_requests_total', 'counter');
		expect(both('keycrate_worker_keycrate_requests_total', { endpoint: '/license/create', status: '200' })).toBeGreaterThanOrEqual(3);
		expect(both('keycrate_worker_keycrate_requests_total', { endpoint: '/license/get-bulk', status: '200' })).toBeGreaterThanOrEqual(3);
		expectFamily(after.process, 'keycrate_worker_keycrate_request_duration_seconds', 'histogram');
		expect(both('keycrate_worker_keycrate_request_duration_seconds_count')).toBe(both('keycrate_worker_keycrate_requests_total'));
		expectFamily(after.process, 'keycrate_worker_stripe_requests_total', 'counter');
		const stripeEndpoints = new Set(
			[
				...(after.process.get('keycrate_worker_stripe_requests_total')?.samples ?? []),
				...(after.all.get('keycrate_worker_stripe_requests_total')?.samples ?? []),
			].map((sample) => sample.labels.endpoint),
		);
		expect(stripeEndpoints).toContain('/v1/subscriptions/{id}');
		for (const endpoint of stripeEndpoints) expect(endpoint).not.toMatch(/\/(sub|pi|cs|ch|in|cus)_/);
		expect(both('keycrate_worker_stripe_requests_total', { status: '200' })).toBeGreaterThanOrEqual(3);
		expect(both('keycrate_worker_stripe_request_duration_seconds_count')).toBe(both('keycrate_worker_stripe_requests_total'));
		// The bulk job's one chunk, and its keys.
		expectFamily(after.process, 'keycrate_worker_bulk_chunks_total', 'counter');
		expect(both('keycrate_worker_bulk_chunks_total', { kind: 'create', outcome: 'done' })).toBe(1);
		expect(both('keycrate_worker_bulk_keys_total', { kind: 'create', result: 'succeeded' })).toBe(3);
		expect(both('keycrate_worker_keycrate_requests_total', { endpoint: '/license/create-bulk', status: '200' })).toBe(1);
		expect(both('keycrate_worker_dead_lettered_total')).toBe(0);

		// Queue gauges, read from Redis at scrape time: the same from every role.
		for (const role of ['ingest', 'process', 'all'] as const) {
			const scraped = after[role];
			expectFamily(scraped, 'keycrate_worker_queue_jobs', 'gauge');
			for (const queue of ['keycrate-sync', 'license-handoff', 'keycrate-bulk']) {
				for (const state of ['waiting', 'active', 'delayed', 'completed', 'failed'])
					expect(sampleValue(scraped, 'keycrate_worker_queue_jobs', { queue, state })).toBeDefined();
				expect(sampleValue(scraped, 'keycrate_worker_dead_letters', { queue })).toBe(0);
				expect(sampleValue(scraped, 'keycrate_worker_queue_oldest_waiting_seconds', { queue })).toBe(0);
			}
			expect(sampleValue(scraped, 'keycrate_worker_queue_jobs', { queue: 'keycrate-sync', state: 'completed' })).toBeGreaterThanOrEqual(3);
			expect(sampleValue(scraped, 'keycrate_worker_queue_jobs', { queue: 'keycrate-bulk', state: 'completed' })).toBe(1);
			expect(sampleValue(scraped, 'keycrate_worker_redis_up')).toBe(1);
			// Node's default process metrics.
			expectFamily(scraped, 'process_cpu_user_seconds_total', 'counter');
			expectFamily(scraped, 'nodejs_eventloop_lag_seconds', 'gauge');
			// No secret in any label or value line.
			const text = [...scraped.values()].flatMap((family) => family.samples.map((sample) => JSON.stringify(sample))).join('\n');
			for (const secret of [...cluster.secrets(), ADMIN_TOKEN]) expect(text).not.toContain(secret);
		}
	}, 120000);

	test('the oldest waiting job is aged while nothing takes it', async () => {
		// A sync queued while every processor is stopped: its age grows from its creation.
		const paused = `{kc-observe-age-${randomBytes(3).toString('hex')}}`;
		const config = ingestConfig({ REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: paused });
		const server: IngestServer = await startIngest(config, pino({ level: 'silent' }));
		try {
			expect((await deliver(server.url, sampleEvent())).status).toBe(200);
			const age = await waitFor(
				'an age of at least 1 s',
				async () => {
					const value = sampleValue(await scrape(server.url), 'keycrate_worker_queue_oldest_waiting_seconds', { queue: 'keycrate-sync' });
					return value !== undefined && value >= 1 ? value : undefined;
				},
				10000,
			);
			expect(age).toBeLessThan(10);
			expect(sampleValue(await scrape(server.url), 'keycrate_worker_queue_jobs', { queue: 'keycrate-sync', state: 'waiting' })).toBe(1);
		} finally {
			await server.close();
			await deletePrefix(SHARED_REDIS_URL, paused);
		}
	});
});

describe('/readyz while Redis is away (private redis-server)', () => {
	let redis: PrivateRedis;
	let cluster: Cluster | undefined;

	beforeAll(async () => {
		redis = await startPrivateRedis();
	});

	afterAll(async () => {
		await cluster?.stop();
		await redis.stop();
	});

	test('every role answers 503 with the reason while Redis is down, /healthz stays 200, and 200 again once it is back', async () => {
		cluster = await Cluster.start({ label: 'observe-redis', redisUrl: redis.url });
		const [ingest, processor, all] = await Promise.all([cluster.spawnWorker('ingest'), cluster.spawnWorker('process'), cluster.spawnWorker('all')]);
		const urls = { ingest: ingest.ingestUrl as string, process: await probeUrl(processor), all: all.ingestUrl as string };
		for (const url of Object.values(urls)) expect((await fetch(`${url}/readyz`)).status).toBe(200);

		await redis.stop();
		for (const [role, url] of Object.entries(urls)) {
			const down = await waitFor(`${role} /readyz 503`, async () => {
				const answer = await getJson(`${url}/readyz`);
				return answer.status === 503 ? answer.body : undefined;
			});
			expect(down).toMatchObject({ ready: false, redis: 'down', reason: expect.stringMatching(/^Redis /) });
			expect(String(down.reason)).not.toContain(redis.url);
			expect((await fetch(`${url}/healthz`)).status).toBe(200);
			// A scrape still answers, saying Redis could not be read.
			expect(sampleValue(await scrape(url), 'keycrate_worker_redis_up')).toBe(0);
		}

		await redis.start();
		for (const [role, url] of Object.entries(urls)) {
			await waitFor(`${role} /readyz 200 again`, async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
		}
	}, 90000);
});

describe('dashboard and metrics token (in-process ingest)', () => {
	const prefix = uniquePrefix('kc-dash');
	let server: IngestServer | undefined;

	afterEach(async () => {
		await server?.close();
		server = undefined;
	});
	afterAll(() => deletePrefix(SHARED_REDIS_URL, prefix));

	test('/admin/queues: 401 without the token (a browser is asked for basic auth), 200 with it as bearer or basic password; read-only', async () => {
		server = await startIngest(ingestConfig({ REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_TOKEN }), pino({ level: 'silent' }));
		const page = `${server.url}/admin/queues`;
		const refused = await fetch(page);
		expect(refused.status).toBe(401);
		expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
		expect(await refused.text()).not.toContain(ADMIN_TOKEN);
		expect((await fetch(page, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
		expect((await fetch(page, { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN.slice(1)}`).toString('base64')}` } })).status).toBe(401);
		expect((await fetch(`${page}/api/queues`)).status).toBe(401);

		const bearer = await fetch(page, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
		expect(bearer.status).toBe(200);
		expect(bearer.headers.get('content-type')).toMatch(/^text\/html/);
		expect(await bearer.text()).toContain('<base href="/admin/queues/"');
		const basic = { authorization: `Basic ${Buffer.from(`operator:${ADMIN_TOKEN}`).toString('base64')}` };
		expect((await fetch(`${page}/`, { headers: basic })).status).toBe(200);
		const api = await getJson(`${page}/api/queues`, basic);
		expect(api.status).toBe(200);
		const queues = api.body.queues as { name: string; readOnlyMode: boolean }[];
		expect(queues.map((queue) => queue.name).sort()).toEqual(['keycrate-bulk', 'keycrate-sync', 'license-handoff']);
		expect(queues.every((queue) => queue.readOnlyMode)).toBe(true);
		// Read-only on the server too, not just in the UI.
		expect((await fetch(`${page}/api/queues/keycrate-sync/pause`, { method: 'PUT', headers: basic })).status).toBe(405);
		// The admin API beside it still wants the bearer token.
		expect((await fetch(`${server.url}/admin/dead-letters`)).status).toBe(401);
	});

	test('without ADMIN_TOKEN there is no dashboard (404); /metrics and the probes need no token unless METRICS_TOKEN is set', async () => {
		server = await startIngest(ingestConfig({ REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: prefix }), pino({ level: 'silent' }));
		expect((await fetch(`${server.url}/admin/queues`)).status).toBe(404);
		expect((await fetch(`${server.url}/admin/queues`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
		expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
		await server.close();

		server = await startIngest(ingestConfig({ REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: prefix, METRICS_TOKEN }), pino({ level: 'silent' }));
		const refused = await fetch(`${server.url}/metrics`);
		expect(refused.status).toBe(401);
		expect(await refused.text()).not.toContain(METRICS_TOKEN);
		expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
		const families = await scrape(server.url, { authorization: `Bearer ${METRICS_TOKEN}` });
		expect(families.has('keycrate_worker_webhooks_received_total')).toBe(true);
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
	});
});
