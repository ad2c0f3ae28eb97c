// The cluster harness: the Keycrate emulator and the Stripe fake in-process, and REAL worker processes
// (`node worker/dist/cli.js start --role …`) on a unique queue prefix of a Redis. The fake records Stripe's
// objects and events and delivers them signed to the ingests over HTTP, as Stripe does; the harness waits until
// the queues are drained, reads the emulator's state, and cleans its own Redis keys (by prefix, never FLUSHALL
// on a shared Redis). No jest in here: the benchmark (worker/bench) drives the same harness.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type FaultRule } from '@keycrate/emulator';
import { startStripeFake, type StripeFake } from '@keycrate/stripe-fake';
import { Queue } from 'bullmq';
import Stripe from 'stripe';
import { HANDOFF_QUEUE, SYNC_QUEUE } from '../../src/jobs/queues.js';
import { connectRedis, type RedisConnection } from '../../src/redis.js';
import { createCatalogue, plansFileFor, type Tiers } from './cluster-stripe.js';
import { deleteKeysUnder, freePort } from './redis-private.js';
import { waitFor } from './wait.js';

export type Role = 'ingest' | 'process' | 'all';
export type License = ReturnType<Emulator['state']>['apps'][number]['licenses'][number];

/** worker/ (this file is worker/test/support/cluster-harness.ts). */
export const WORKER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(WORKER_DIR, 'dist', 'cli.js');
export const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function clusterPrefix(label: string): string {
	return `{kc-x1-${label}-${randomBytes(4).toString('hex')}}`;
}

export { freePort };

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** waitFor (support/wait.ts) in the shape the harness's callers use: a boolean check, a timeout, a lazy description. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string): Promise<void> {
	await waitFor(check, { timeoutMs, what });
}

/** A request to a worker's admin API with `Authorization: Bearer <token>` (none when token is null). */
export async function adminRequest(
	baseUrl: string | undefined,
	method: string,
	path: string,
	body: unknown,
	token: string | null,
): Promise<{ status: number; json: Record<string, unknown> }> {
	const reply = await fetch(`${baseUrl}${path}`, {
		method,
		headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
		...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
	});
	return { status: reply.status, json: (await reply.json()) as Record<string, unknown> };
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
	readonly redis: RedisConnection;
	readonly queue: Queue;
	readonly handoffQueue: Queue;
	tiers!: Tiers;
	private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
	private readonly dir: string;
	private readonly plansFile: string;
	stripe!: StripeFake;
	readonly handoffReceiver?: HandoffReceiver;
	private workerCount = 0;

	private constructor(
		readonly options: ClusterOptions,
		readonly emu: Emulator,
		readonly prefix: string,
		readonly redisUrl: string,
	) {
		this.dir = mkdtempSync(join(tmpdir(), 'kc-cluster-'));
		this.plansFile = join(this.dir, 'plans.json');
		// Connected as the workers are: REDIS_CLUSTER in their env makes it a Cluster client too.
		this.redis = connectRedis({ redisUrl, redisCluster: options.env?.REDIS_CLUSTER === 'true' }, { maxRetriesPerRequest: null });
		this.redis.on('error', () => undefined);
		this.queue = new Queue(SYNC_QUEUE, { connection: this.redis, prefix });
		this.queue.on('error', () => undefined);
		this.handoffQueue = new Queue(HANDOFF_QUEUE, { connection: this.redis, prefix });
		this.handoffQueue.on('error', () => undefined);
		if (options.handoff) this.handoffReceiver = new HandoffReceiver(`whsec_${randomBytes(24).toString('base64')}`, options.handoff.failRate);
	}

	static async start(options: ClusterOptions): Promise<Cluster> {
		const emu = await startEmulator({ port: 0, latencyMs: options.emulatorLatencyMs });
		const cluster = new Cluster(options, emu, clusterPrefix(options.label), options.redisUrl ?? SHARED_REDIS);
		// The endpoint's secret; deliveries go to whichever ingests run (deliver's urls).
		cluster.stripe = await startStripeFake({
			port: 0,
			apiKey: cluster.stripeApiKey,
			webhooks: [{ url: 'http://127.0.0.1:9/webhooks/stripe', secret: cluster.webhookSecret }],
		});
		await cluster.handoffReceiver?.start();
		cluster.tiers = { basic: await cluster.createTier('Basic', 1), pro: await cluster.createTier('Pro', 2) };
		writeFileSync(cluster.plansFile, JSON.stringify(plansFileFor(cluster.tiers), null, 2));
		createCatalogue(cluster.stripe, cluster.tiers);
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

	/** Stripe API calls so far, all endpoints. */
	get stripeApiCalls(): number {
		return Object.values(this.stripe.requests()).reduce((sum, count) => sum + count, 0);
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
			STRIPE_API_BASE: this.stripe.url,
			PLANS_FILE: this.plansFile,
			HOST: '127.0.0.1',
			PORT: String(port),
			// A short schedule: tests see retries in seconds (the README's default is 10 s … 24 h).
			RETRY_SCHEDULE: '100ms,500ms,1s,2s,3s,5s,5s,5s',
			// The emulator answers in milliseconds; a short timeout keeps the settle time after an unanswered
			// write (2 × timeout) short in tests.
			KEYCRATE_TIMEOUT_MS: '2000',
			// A killed process's jobs run again within ~2 × this. Not shorter: on two shared cores a starved
			// process can miss its lock renewal, and its job would then run twice at once (see README, limits).
			JOB_LOCK_MS: '8000',
			SHUTDOWN_TIMEOUT_MS: '5000',
			STRIPE_RATE_LIMIT: '0',
			LICENSE_GRACE_SECONDS: String(this.graceSeconds),
			LOG_LEVEL: 'info',
			...(this.handoffReceiver ? { LICENSE_WEBHOOK_URL: this.handoffReceiver.url, LICENSE_WEBHOOK_SECRET: this.handoffReceiver.secret } : {}),
			...this.options.env,
			...extra,
		};
	}

	/** Starts `node worker/dist/cli.js start --role <role>` (on `reusePort` if given); resolves once it logged "worker started" (and, for an ingest, /readyz answers 200). */
	async spawnWorker(role: Role, extraEnv: Record<string, string> = {}, reusePort?: number): Promise<WorkerProcess> {
		// A replacement may listen where the one it replaces did, as behind a load balancer's fixed backend list.
		const port = role === 'process' ? 0 : (reusePort ?? (await freePort()));
		const name = `${role}-${++this.workerCount}`;
		const env = this.workerEnv(port, extraEnv);
		// WORKER_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it stops (benchmarks' --cpu-prof).
		const profile = process.env.WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WORKER_CPU_PROF}`] : [];
		const child = spawn(process.execPath, [...profile, CLI_PATH, 'start', '--role', role], {
			cwd: WORKER_DIR,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const worker = new WorkerProcess(name, role, child, role === 'process' ? undefined : `http://127.0.0.1:${port}`);
		this.workers.push(worker);
		// Started = it logged "worker started" (runner.ts, level info): its signal handlers are in place from then on.
		const logsInfo = ['info', 'debug', 'trace'].includes(env.LOG_LEVEL);
		await waitFor(
			() => {
				if (!worker.running) throw new Error(`${name} exited (${worker.exitCode ?? worker.exitSignal}) while starting:\n${worker.text()}`);
				return !logsInfo || worker.text().includes('"msg":"worker started"');
			},
			{ what: () => `${name} to log "worker started":\n${worker.text()}`, timeoutMs: 20000 },
		);
		if (worker.ingestUrl !== undefined) {
			const url = `${worker.ingestUrl}/readyz`;
			await waitFor(
				async () => {
					if (!worker.running) throw new Error(`${name} exited (${worker.exitCode ?? worker.exitSignal}) before it was ready:\n${worker.text()}`);
					try {
						return (await fetch(url)).status === 200;
					} catch {
						return false;
					}
				},
				{ what: () => `${name} /readyz:\n${worker.text()}`, timeoutMs: 20000 },
			);
		}
		return worker;
	}

	ingests(): WorkerProcess[] {
		return this.workers.filter((worker) => worker.running && worker.ingestUrl !== undefined);
	}

	/** Signs like Stripe (stripe.webhooks.generateTestHeaderString) and POSTs once; resolves to the HTTP status (0: no answer). */
	postOnce(baseUrl: string, event: object | string, secret = this.webhookSecret): Promise<number> {
		const payload = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
		const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
		return new Promise((done) => {
			const req = request(
				`${baseUrl}/webhooks/stripe`,
				{
					method: 'POST',
					agent: this.agent,
					headers: {
						'content-type': 'application/json; charset=utf-8',
						'stripe-signature': signature,
						'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
					},
				},
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
	 * Delivers the Stripe fake's new events (or `events`) to the running ingests, each `copies` times in a seeded
	 * shuffled order; a non-2xx answer is re-sent (Stripe retries).
	 */
	async deliver(options: { events?: Stripe.Event[]; copies?: number; seed?: number; concurrency?: number; retries?: number } = {}): Promise<DeliveryStats> {
		const urls = this.ingests().map((worker) => `${worker.ingestUrl as string}/webhooks/stripe`);
		if (urls.length === 0) throw new Error('no running ingest to deliver to');
		const result = await this.stripe.deliver({
			...(options.events ? { events: options.events } : {}),
			copies: options.copies ?? 1,
			...(options.seed !== undefined ? { shuffleSeed: options.seed } : {}),
			urls,
			concurrency: options.concurrency ?? 16,
			retries: options.retries ?? 20,
		});
		const accepted = Object.entries(result.byStatus).reduce((sum, [status, count]) => sum + (/^2\d\d$/.test(status) ? count : 0), 0);
		return { deliveries: result.sent, accepted, redelivered: 0, byStatus: result.byStatus };
	}

	async jobCounts(queue: Queue = this.queue): Promise<Record<string, number>> {
		return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'completed', 'failed');
	}

	/** Resolves once nothing is waiting, active or delayed for `stableMs`; throws with the counts on timeout. */
	async waitForDrain(timeoutMs = 60000, stableMs = 300): Promise<Record<string, number>> {
		let counts: Record<string, number> = {};
		let quietSince: number | undefined;
		await waitFor(
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
			{ what: () => `the queue to drain: ${JSON.stringify(counts)}\n${this.tailOfLogs(4000)}`, timeoutMs: timeoutMs },
		);
		return counts;
	}

	/** The dead-letter set: failed jobs with their reasons. */
	async failedJobs(): Promise<{ root: string; reason: string; attempts: number }[]> {
		const failed = await this.queue.getFailed(0, 1000);
		return failed.map((job) => ({ root: String((job.data as { root?: string }).root), reason: job.failedReason, attempts: job.attemptsMade }));
	}

	async failedHandoffs(): Promise<{ id: string; reason: string }[]> {
		const failed = await this.handoffQueue.getFailed(0, 1000);
		return failed.map((job) => ({ id: String(job.id), reason: job.failedReason }));
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
		return this.workers
			.map((worker) => `--- ${worker.name} (${worker.running ? 'running' : `exited ${worker.exitCode ?? worker.exitSignal}`})\n${worker.text().slice(-chars)}`)
			.join('\n');
	}

	/** Every secret of this cluster that shows up in any process output (expected: none). */
	secretsInLogs(): string[] {
		const output = this.allOutput();
		return this.secrets()
			.filter((secret) => output.includes(secret))
			.map((secret) => `${secret.slice(0, 6)}… (length ${secret.length})`);
	}

	/** Counts the actions of kind `action` the workers logged ("root synced" lines, `done`). */
	countActions(action: string): number {
		return this.workers
			.flatMap((worker) => worker.logLines())
			.flatMap((line) => (Array.isArray(line.done) ? (line.done as { action: string }[]) : []))
			.filter((done) => done.action === action).length;
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
		await this.stripe.stop();
		rmSync(this.dir, { recursive: true, force: true });
	}
}
