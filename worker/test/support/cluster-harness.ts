// The cluster harness: the Keycrate emulator in-process, a fake Stripe API (line items), and REAL worker
// processes (`node worker/dist/cli.js start --role …`) on a unique queue prefix of a Redis. Events are signed
// with the stripe package and POSTed to an ingest over HTTP, as Stripe does; the harness waits until the
// queue is drained, reads the emulator's state, and cleans its own Redis keys (by prefix, never FLUSHALL).
// No jest in here: the benchmark (worker/bench) drives the same harness.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type FaultRule } from '@keycrate/emulator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import Stripe from 'stripe';
import { plansFileFor, type SessionLineItem, type StripeEventEnvelope, type Tiers } from './cluster-stripe.js';
import { deleteKeysUnder, freePort } from '../../src/redis-private.js';

export type Role = 'ingest' | 'process' | 'all';
export type License = ReturnType<Emulator['state']>['apps'][number]['licenses'][number];

/** worker/ (this file is worker/test/support/cluster-harness.ts). */
export const WORKER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(WORKER_DIR, 'dist', 'cli.js');
export const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const EVENTS_QUEUE = 'stripe-events';
const HANDOFF_QUEUE = 'license-handoff';

export function clusterPrefix(label: string): string {
	return `{kc-x1-${label}-${randomBytes(4).toString('hex')}}`;
}

export { freePort };

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await check()) return;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
		await sleep(50);
	}
}

/** One worker process and everything it printed. */
export class WorkerProcess {
	readonly output: string[] = [];
	exitCode: number | null = null;
	exitSignal: NodeJS.Signals | null = null;
	private readonly exited: Promise<void>;

	constructor(
		readonly name: string,
		readonly role: Role,
		readonly child: ChildProcess,
		/** The ingest's base URL (roles ingest and all). */
		readonly ingestUrl: string | undefined,
	) {
		child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.output.push(chunk));
		child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.output.push(chunk));
		this.exited = new Promise((done) =>
			child.once('exit', (code, signal) => {
				this.exitCode = code;
				this.exitSignal = signal;
				done();
			}),
		);
	}

	get pid(): number {
		return this.child.pid ?? -1;
	}

	get running(): boolean {
		return this.exitCode === null && this.exitSignal === null;
	}

	text(): string {
		return this.output.join('');
	}

	/** The JSON log lines (pino) it printed; other lines are skipped. */
	logLines(): Record<string, unknown>[] {
		return this.text()
			.split('\n')
			.filter((line) => line.startsWith('{'))
			.flatMap((line) => {
				try {
					return [JSON.parse(line) as Record<string, unknown>];
				} catch {
					return [];
				}
			});
	}

	async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 20000): Promise<void> {
		if (!this.running) return;
		this.child.kill(signal);
		const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
		await this.exited;
		clearTimeout(timer);
	}

	waitForExit(): Promise<void> {
		return this.exited;
	}
}

export interface ClusterOptions {
	label: string;
	/** Defaults to the shared Redis (unique prefix); a private one for Redis-outage tests. */
	redisUrl?: string;
	graceSeconds?: number;
	/** Extra env for every worker process (JOB_ATTEMPTS, WORKER_CONCURRENCY, …). */
	env?: Record<string, string>;
	emulatorLatencyMs?: number;
	/** Run a LICENSE_WEBHOOK_URL receiver; `failRate` of its answers are 500 (the hand-off retries). */
	handoff?: { failRate: number };
}

export interface DeliveryStats {
	deliveries: number;
	accepted: number;
	/** Answers other than 200 (e.g. 503 while Redis is away) that were re-sent, as Stripe would. */
	redelivered: number;
	byStatus: Record<string, number>;
}

/** The fake Stripe API: `GET /v1/checkout/sessions/:id/line_items`, from the lifecycles' line items. */
class FakeStripeApi {
	readonly lineItems = new Map<string, SessionLineItem[]>();
	calls = 0;
	/** Added before every answer (a slow Stripe: a job then sits in its line-items fetch, before any ledger write). */
	delayMs = 0;
	private server?: Server;
	url = '';

	async start(): Promise<void> {
		this.server = createServer((req, res) => {
			this.calls += 1;
			if (this.delayMs > 0) setTimeout(() => this.answer(req, res), this.delayMs);
			else this.answer(req, res);
		});
		await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
		this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
	}

	private answer(req: IncomingMessage, res: ServerResponse): void {
		const match = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items/.exec(req.url ?? '');
		const items = match ? this.lineItems.get(decodeURIComponent(match[1])) : undefined;
		res.setHeader('content-type', 'application/json');
		if (!match || items === undefined) {
			res.statusCode = 404;
			res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: `No such checkout session: ${match?.[1] ?? req.url}` } }));
			return;
		}
		res.end(
			JSON.stringify({
				object: 'list',
				url: `/v1/checkout/sessions/${match[1]}/line_items`,
				has_more: false,
				data: items.map((item) => ({
					id: item.id,
					object: 'item',
					amount_subtotal: 1500 * item.quantity,
					amount_total: 1500 * item.quantity,
					currency: 'usd',
					description: 'Keycrate app',
					quantity: item.quantity,
					price: { id: item.priceId, object: 'price', lookup_key: null, metadata: {}, type: 'one_time', unit_amount: 1500, currency: 'usd', active: true, product: 'prod_kcx' },
				})),
			}),
		);
	}

	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		await new Promise<void>((done) => {
			server.close(() => done());
			server.closeAllConnections();
		});
	}
}

/** A LICENSE_WEBHOOK_URL receiver (e.g. an n8n Webhook node): records every hand-off, fails a share with 500. */
export class HandoffReceiver {
	/** Idempotency-Key → license keys posted under it, one entry per POST. */
	readonly posts = new Map<string, string[]>();
	failed = 0;
	url = '';
	private server?: Server;

	constructor(
		readonly secret: string,
		private readonly failRate: number,
	) {}

	async start(): Promise<void> {
		this.server = createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.on('end', () => {
				if (Math.random() < this.failRate) {
					this.failed += 1;
					res.statusCode = 500;
					res.end('{"error":"try again"}');
					return;
				}
				const key = String(req.headers['idempotency-key'] ?? '(none)');
				const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { license_key?: string } };
				this.posts.set(key, [...(this.posts.get(key) ?? []), String(body.data?.license_key)]);
				res.end('{"ok":true}');
			});
		});
		await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
		this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/webhook/keycrate-license`;
	}

	/** license key → how many distinct Idempotency-Keys it was posted under (expected: 1 each). */
	idempotencyKeysPerLicense(): Map<string, number> {
		const keys = new Map<string, Set<string>>();
		for (const [idempotencyKey, licenses] of this.posts) {
			for (const license of licenses) keys.set(license, (keys.get(license) ?? new Set()).add(idempotencyKey));
		}
		return new Map([...keys].map(([license, set]) => [license, set.size]));
	}

	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		await new Promise<void>((done) => {
			server.close(() => done());
			server.closeAllConnections();
		});
	}
}

export class Cluster {
	readonly workers: WorkerProcess[] = [];
	readonly webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
	readonly stripeApiKey = `sk_test_${randomBytes(24).toString('hex')}`;
	readonly redis: Redis;
	readonly queue: Queue;
	readonly handoffQueue: Queue;
	tiers!: Tiers;
	private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
	private readonly dir: string;
	private readonly plansFile: string;
	private readonly stripeApi = new FakeStripeApi();
	readonly handoffReceiver?: HandoffReceiver;
	private workerCount = 0;
	private nextIngest = 0;

	private constructor(
		readonly options: ClusterOptions,
		readonly emu: Emulator,
		readonly prefix: string,
		readonly redisUrl: string,
	) {
		this.dir = mkdtempSync(join(tmpdir(), 'kc-cluster-'));
		this.plansFile = join(this.dir, 'plans.json');
		this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
		this.redis.on('error', () => undefined);
		this.queue = new Queue(EVENTS_QUEUE, { connection: this.redis, prefix });
		this.queue.on('error', () => undefined);
		this.handoffQueue = new Queue(HANDOFF_QUEUE, { connection: this.redis, prefix });
		this.handoffQueue.on('error', () => undefined);
		if (options.handoff) this.handoffReceiver = new HandoffReceiver(`whsec_${randomBytes(24).toString('base64url')}`, options.handoff.failRate);
	}

	static async start(options: ClusterOptions): Promise<Cluster> {
		const emu = await startEmulator({ port: 0, latencyMs: options.emulatorLatencyMs });
		const cluster = new Cluster(options, emu, clusterPrefix(options.label), options.redisUrl ?? SHARED_REDIS);
		await cluster.stripeApi.start();
		await cluster.handoffReceiver?.start();
		cluster.tiers = { basic: await cluster.createTier('Basic', 1), pro: await cluster.createTier('Pro', 2) };
		writeFileSync(cluster.plansFile, JSON.stringify(plansFileFor(cluster.tiers), null, 2));
		return cluster;
	}

	get graceSeconds(): number {
		return this.options.graceSeconds ?? 3600;
	}

	/** The secrets no log line may carry. */
	secrets(): string[] {
		return [this.emu.apiKey, this.webhookSecret, this.stripeApiKey, ...(this.handoffReceiver ? [this.handoffReceiver.secret] : [])];
	}

	private async createTier(name: string, level: number): Promise<string> {
		const reply = await fetch(`${this.emu.url}/subscription/create`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': this.emu.apiKey },
			body: JSON.stringify({ app_id: this.emu.appId, name, level }),
		});
		const body = (await reply.json()) as { data?: { subscription_id?: string } };
		if (!reply.ok || typeof body.data?.subscription_id !== 'string') throw new Error(`cannot create tier ${name}: ${JSON.stringify(body)}`);
		return body.data.subscription_id;
	}

	addLineItems(items: Record<string, SessionLineItem[]>): void {
		for (const [session, lines] of Object.entries(items)) this.stripeApi.lineItems.set(session, lines);
	}

	get stripeApiCalls(): number {
		return this.stripeApi.calls;
	}

	setStripeApiDelay(ms: number): void {
		this.stripeApi.delayMs = ms;
	}

	workerEnv(port: number, extra: Record<string, string> = {}): Record<string, string> {
		return {
			PATH: process.env.PATH ?? '/usr/bin:/bin',
			HOME: process.env.HOME ?? tmpdir(),
			NODE_ENV: 'test',
			REDIS_URL: this.redisUrl,
			QUEUE_PREFIX: this.prefix,
			KEYCRATE_API_URL: this.emu.url,
			KEYCRATE_API_KEY: this.emu.apiKey,
			KEYCRATE_APP_ID: this.emu.appId,
			STRIPE_WEBHOOK_SECRETS: this.webhookSecret,
			STRIPE_API_KEY: this.stripeApiKey,
			STRIPE_API_BASE: this.stripeApi.url,
			PLANS_FILE: this.plansFile,
			HOST: '127.0.0.1',
			PORT: String(port),
			JOB_BACKOFF_MS: '50',
			// The emulator answers in milliseconds; a short timeout keeps the settle time after an unanswered
			// create/extend (2 × timeout) short in tests.
			KEYCRATE_TIMEOUT_MS: '2000',
			// Short locks, so a killed process's jobs and roots are free again in seconds, not a minute.
			JOB_LOCK_MS: '3000',
			ROOT_LOCK_MS: '6000',
			LICENSE_GRACE_SECONDS: String(this.graceSeconds),
			LOG_LEVEL: 'info',
			...(this.handoffReceiver ? { LICENSE_WEBHOOK_URL: this.handoffReceiver.url, LICENSE_WEBHOOK_SECRET: this.handoffReceiver.secret } : {}),
			...this.options.env,
			...extra,
		};
	}

	/** Starts `node worker/dist/cli.js start --role <role>`; resolves once it logged "worker started" (and, for an ingest, /readyz answers 200). */
	async spawnWorker(role: Role, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
		const port = role === 'process' ? 0 : await freePort();
		const name = `${role}-${++this.workerCount}`;
		const env = this.workerEnv(port, extraEnv);
		const child = spawn(process.execPath, [CLI_PATH, 'start', '--role', role], {
			cwd: WORKER_DIR,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const worker = new WorkerProcess(name, role, child, role === 'process' ? undefined : `http://127.0.0.1:${port}`);
		this.workers.push(worker);
		// Started = it logged "worker started" (runner.ts, level info): its signal handlers are in place from then on.
		const logsInfo = ['info', 'debug', 'trace'].includes(env.LOG_LEVEL);
		await waitUntil(
			() => {
				if (!worker.running) throw new Error(`${name} exited (${worker.exitCode ?? worker.exitSignal}) while starting:\n${worker.text()}`);
				return !logsInfo || worker.text().includes('"msg":"worker started"');
			},
			20000,
			() => `${name} to log "worker started":\n${worker.text()}`,
		);
		if (worker.ingestUrl !== undefined) {
			const url = `${worker.ingestUrl}/readyz`;
			await waitUntil(
				async () => {
					if (!worker.running) throw new Error(`${name} exited (${worker.exitCode ?? worker.exitSignal}) before it was ready:\n${worker.text()}`);
					try {
						return (await fetch(url)).status === 200;
					} catch {
						return false;
					}
				},
				20000,
				() => `${name} /readyz:\n${worker.text()}`,
			);
		}
		return worker;
	}

	ingests(): WorkerProcess[] {
		return this.workers.filter((worker) => worker.running && worker.ingestUrl !== undefined);
	}

	/** Signs like Stripe (stripe.webhooks.generateTestHeaderString) and POSTs once; resolves to the HTTP status (0: no answer). */
	postOnce(baseUrl: string, event: StripeEventEnvelope, secret = this.webhookSecret): Promise<number> {
		const payload = JSON.stringify(event, null, 2);
		const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
		return new Promise((done) => {
			const req = request(
				`${baseUrl}/webhooks/stripe`,
				{ method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' } },
				(res) => {
					res.resume();
					res.on('end', () => done(res.statusCode ?? 0));
				},
			);
			req.setTimeout(30000, () => req.destroy());
			req.on('error', () => done(0));
			req.end(payload);
		});
	}

	/**
	 * Delivers every entry (duplicates included) to the running ingests, round robin, `concurrency` at a time.
	 * A non-2xx answer is re-sent after `retryDelayMs` (Stripe retries), until `retryForMs` has passed.
	 */
	async deliver(
		deliveries: readonly StripeEventEnvelope[],
		options: { concurrency?: number; retryDelayMs?: number; retryForMs?: number; targets?: WorkerProcess[]; onAnswer?: (status: number) => void } = {},
	): Promise<DeliveryStats> {
		const stats: DeliveryStats = { deliveries: 0, accepted: 0, redelivered: 0, byStatus: {} };
		const concurrency = options.concurrency ?? 16;
		let next = 0;
		const sendOne = async (event: StripeEventEnvelope) => {
			const deadline = Date.now() + (options.retryForMs ?? 60000);
			for (;;) {
				const targets = options.targets ?? this.ingests();
				if (targets.length === 0) throw new Error('no running ingest to deliver to');
				const target = targets[this.nextIngest++ % targets.length];
				const status = await this.postOnce(target.ingestUrl as string, event);
				stats.deliveries += 1;
				stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
				options.onAnswer?.(status);
				if (status >= 200 && status < 300) {
					stats.accepted += 1;
					return;
				}
				if (Date.now() > deadline) throw new Error(`event ${event.id} (${event.type}) never accepted; last answer ${status}`);
				stats.redelivered += 1;
				await sleep(options.retryDelayMs ?? 200);
			}
		};
		const lanes = Array.from({ length: Math.min(concurrency, deliveries.length) }, async () => {
			while (next < deliveries.length) await sendOne(deliveries[next++]);
		});
		await Promise.all(lanes);
		return stats;
	}

	async jobCounts(queue: Queue = this.queue): Promise<Record<string, number>> {
		return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'completed', 'failed');
	}

	/** Resolves once nothing is waiting, active or delayed for `stableMs`; throws with the counts on timeout. */
	async waitForDrain(timeoutMs = 60000, stableMs = 300): Promise<Record<string, number>> {
		let counts: Record<string, number> = {};
		let quietSince: number | undefined;
		await waitUntil(
			async () => {
				counts = await this.jobCounts();
				const handoffs = await this.jobCounts(this.handoffQueue);
				const pendingOf = (c: Record<string, number>) => c.waiting + c.active + c.delayed + c.prioritized + c.paused + c['waiting-children'];
				const pending = pendingOf(counts) + pendingOf(handoffs);
				if (pending > 0) {
					quietSince = undefined;
					return false;
				}
				quietSince ??= Date.now();
				return Date.now() - quietSince >= stableMs;
			},
			timeoutMs,
			() => `the queue to drain: ${JSON.stringify(counts)}\n${this.tailOfLogs(4000)}`,
		);
		return counts;
	}

	/** The dead-letter set: failed jobs with their reasons. */
	async failedJobs(): Promise<{ id: string; type: string; reason: string; attempts: number }[]> {
		const failed = await this.queue.getFailed(0, 1000);
		return failed.map((job) => ({ id: String(job.id), type: job.name, reason: job.failedReason, attempts: job.attemptsMade }));
	}

	async failedHandoffs(): Promise<{ id: string; reason: string }[]> {
		const failed = await this.handoffQueue.getFailed(0, 1000);
		return failed.map((job) => ({ id: String(job.id), reason: job.failedReason }));
	}

	/** Forgets completed jobs, as if their retention had passed: a later redelivery is then processed again. */
	async forgetCompletedJobs(): Promise<number> {
		const removed = await this.queue.clean(0, 100000, 'completed');
		return removed.length;
	}

	setFaults(rules: FaultRule[]): void {
		this.emu.setFaults(rules);
	}

	licenses(): License[] {
		return this.emu.state().apps.flatMap((app) => app.licenses);
	}

	/** Outcome counts per endpoint, e.g. { '/license/create': { '200': 10, '500': 2 } }. */
	calls(): Record<string, Record<string, number>> {
		return this.emu.calls();
	}

	allOutput(): string {
		return this.workers.map((worker) => worker.text()).join('\n');
	}

	tailOfLogs(chars: number): string {
		return this.workers.map((worker) => `--- ${worker.name} (${worker.running ? 'running' : `exited ${worker.exitCode ?? worker.exitSignal}`})\n${worker.text().slice(-chars)}`).join('\n');
	}

	/** Every secret of this cluster that shows up in any process output (expected: none). */
	secretsInLogs(): string[] {
		const output = this.allOutput();
		return this.secrets().filter((secret) => output.includes(secret)).map((secret) => `${secret.slice(0, 6)}… (length ${secret.length})`);
	}

	/** Counts log lines whose `actions` include `action` (converge's per-seat report). */
	countSeatActions(action: string): number {
		return this.workers
			.flatMap((worker) => worker.logLines())
			.filter((line) => Array.isArray(line.actions) && (line.actions as string[]).includes(action)).length;
	}

	/** SIGTERM every running worker (graceful), SIGKILL after `timeoutMs`; returns their exit codes. */
	async stopWorkers(timeoutMs = 20000): Promise<(number | null)[]> {
		const running = this.workers.filter((worker) => worker.running);
		await Promise.all(running.map((worker) => worker.kill('SIGTERM', timeoutMs)));
		return running.map((worker) => worker.exitCode);
	}

	async stop(): Promise<void> {
		await this.stopWorkers();
		this.agent.destroy();
		await this.queue.close().catch(() => undefined);
		await this.handoffQueue.close().catch(() => undefined);
		await this.handoffReceiver?.stop();
		await deleteKeysUnder(this.redis, this.prefix).catch(() => undefined);
		this.redis.disconnect();
		await this.emu.stop().catch(() => undefined);
		await this.stripeApi.stop();
		rmSync(this.dir, { recursive: true, force: true });
	}
}
