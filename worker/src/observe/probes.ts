// What every role serves for its operator: /healthz (the process runs), /readyz (Redis answers and the role's parts
// run; 503 with the reason otherwise) and /metrics (Prometheus text). The ingest serves them on its own port; the
// processing role, which has no webhook server, gets a small HTTP server of its own (startProbeServer).
// Queue gauges are read from Redis when Prometheus scrapes (collect callbacks), never on a timer.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import { Gauge } from 'prom-client';
import type { Config } from '../config.js';
import { hasAdminToken } from '../ingest/admin.js';
import { BULK_QUEUE, HANDOFF_QUEUE, SYNC_QUEUE } from '../jobs/queues.js';
import type { Logger } from '../log.js';
import { enableDefaultMetrics, registry } from './metrics.js';

/** A readiness check: its name is a field of /readyz's body, `state` its value. */
export interface CheckResult {
	name: string;
	ok: boolean;
	state: string;
	/** Why it is not ok, for the 503's `reason` (no secret: a state, never a URL or a message from Redis). */
	reason?: string;
}
export type Check = () => Promise<CheckResult>;

/** Longest a probe or a scrape waits for Redis: a probe must answer even while Redis hangs. */
const REDIS_PROBE_TIMEOUT_MS = 2000;
/** One Redis read serves every queue gauge of a scrape (prom-client collects them in parallel). */
const SNAPSHOT_REUSE_MS = 1000;
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'completed', 'failed'] as const;

function withTimeout<T>(work: Promise<T>, what: string, ms = REDIS_PROBE_TIMEOUT_MS): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
	});
	return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Redis answers PING. A connection that is not ready is not asked (a worker connection would queue the command
 * until Redis is back, and the probe would hang).
 */
export function redisCheck(connection: RedisConnection): Check {
	return async () => {
		if (connection.status !== 'ready') return { name: 'redis', ok: false, state: 'down', reason: `Redis connection is ${connection.status}` };
		try {
			const pong = await withTimeout(connection.ping(), 'Redis PING');
			return pong === 'PONG' ? { name: 'redis', ok: true, state: 'up' } : { name: 'redis', ok: false, state: 'down', reason: 'Redis did not answer PONG' };
		} catch (error) {
			const timedOut = (error as Error).message.endsWith('timed out');
			return { name: 'redis', ok: false, state: 'down', reason: timedOut ? 'Redis PING timed out' : 'Redis PING failed' };
		}
	};
}

/** Runs every check; ready when all pass. The body names each part's state and, when not ready, why. */
export async function readiness(checks: readonly Check[]): Promise<{ ready: boolean; body: Record<string, unknown> }> {
	const results = await Promise.all(checks.map((check) => check()));
	const ready = results.every((result) => result.ok);
	const body: Record<string, unknown> = { ready };
	for (const result of results) body[result.name] = result.state;
	const reasons = results.filter((result) => !result.ok).map((result) => result.reason ?? `${result.name} is ${result.state}`);
	if (!ready) body.reason = reasons.join('; ');
	return { ready, body };
}

// ---- Queue gauges -------------------------------------------------------------------------------------------

interface QueueSource {
	connection: RedisConnection;
	queues: Queue[];
	refs: number;
}

interface QueueSnapshot {
	redisUp: boolean;
	queues: { name: string; counts: Record<string, number>; oldestWaitingSeconds: number }[];
}

/** Queue prefix → the queues read at scrape time (one source per prefix however many parts of a process watch it). */
const sources = new Map<string, QueueSource>();
let snapshot: { at: number; value: Promise<QueueSnapshot[]> } | undefined;

/**
 * Seconds the next job to run has been waiting: since it was created, or since its last attempt began if it ran
 * before (so a retry's backoff counts as waiting: approximate, see README). BullMQ pushes on the left and takes
 * from the right of the wait list.
 */
async function oldestWaiting(connection: RedisConnection, queue: Queue, now: number): Promise<number> {
	const id = await connection.lindex(queue.keys.wait, -1);
	if (id === null) return 0;
	const [timestamp, processedOn] = await connection.hmget(queue.toKey(id), 'timestamp', 'processedOn');
	const since = Math.max(Number(timestamp ?? 0) || 0, Number(processedOn ?? 0) || 0);
	return since === 0 ? 0 : Math.max(0, (now - since) / 1000);
}

async function readSource(source: QueueSource): Promise<QueueSnapshot> {
	if (source.connection.status !== 'ready') return { redisUp: false, queues: [] };
	try {
		const now = Date.now();
		const queues = await withTimeout(
			Promise.all(
				source.queues.map(async (queue) => ({
					name: queue.name,
					counts: await queue.getJobCounts(...JOB_STATES),
					oldestWaitingSeconds: await oldestWaiting(source.connection, queue, now),
				})),
			),
			'queue gauges',
		);
		return { redisUp: true, queues };
	} catch {
		return { redisUp: false, queues: [] };
	}
}

function readSources(): Promise<QueueSnapshot[]> {
	const now = performance.now();
	if (snapshot === undefined || now - snapshot.at > SNAPSHOT_REUSE_MS) {
		snapshot = { at: now, value: Promise.all([...sources.values()].map(readSource)) };
	}
	return snapshot.value;
}

const queueJobs: Gauge<'queue' | 'state'> = new Gauge({
	name: 'keycrate_worker_queue_jobs',
	help: 'Jobs per queue (keycrate-sync, license-handoff, keycrate-bulk) and state, read from Redis at scrape time (the same from every process: aggregate with max)',
	labelNames: ['queue', 'state'] as const,
	registers: [registry],
	async collect() {
		const read = await readSources();
		queueJobs.reset();
		for (const source of read)
			for (const queue of source.queues) for (const state of JOB_STATES) queueJobs.set({ queue: queue.name, state }, queue.counts[state] ?? 0);
	},
});

const deadLetters: Gauge<'queue'> = new Gauge({
	name: 'keycrate_worker_dead_letters',
	help: 'Dead letters per queue: jobs failed for good, kept until retried (keycrate-worker dead-letters) or 30 days old',
	labelNames: ['queue'] as const,
	registers: [registry],
	async collect() {
		const read = await readSources();
		deadLetters.reset();
		for (const source of read) for (const queue of source.queues) deadLetters.set({ queue: queue.name }, queue.counts.failed ?? 0);
	},
});

const oldestWaitingSeconds: Gauge<'queue'> = new Gauge({
	name: 'keycrate_worker_queue_oldest_waiting_seconds',
	help: 'Age of the next waiting job per queue (0: none waiting): since it was created, or since its last attempt began',
	labelNames: ['queue'] as const,
	registers: [registry],
	async collect() {
		const read = await readSources();
		oldestWaitingSeconds.reset();
		for (const source of read) for (const queue of source.queues) oldestWaitingSeconds.set({ queue: queue.name }, queue.oldestWaitingSeconds);
	},
});

const redisUp: Gauge = new Gauge({
	name: 'keycrate_worker_redis_up',
	help: '1 when this scrape could read the queues from Redis, 0 when it could not (the queue gauges are then absent)',
	registers: [registry],
	async collect() {
		const read = await readSources();
		redisUp.set(read.length > 0 && read.every((source) => source.redisUp) ? 1 : 0);
	},
});

/**
 * Reads the sync, hand-off and bulk queues of `config.queuePrefix` over `connection` when /metrics is scraped;
 * the returned function stops (the connection stays the caller's).
 */
export function watchQueues(config: Pick<Config, 'queuePrefix'>, connection: RedisConnection): () => Promise<void> {
	let source = sources.get(config.queuePrefix);
	if (source === undefined) {
		const queues = [SYNC_QUEUE, HANDOFF_QUEUE, BULK_QUEUE].map((name) => new Queue(name, { connection, prefix: config.queuePrefix }));
		for (const queue of queues) queue.on('error', () => undefined);
		source = { connection, queues, refs: 0 };
		sources.set(config.queuePrefix, source);
	}
	source.refs += 1;
	const watched = source;
	let stopped = false;
	return async () => {
		if (stopped) return;
		stopped = true;
		watched.refs -= 1;
		if (watched.refs > 0) return;
		sources.delete(config.queuePrefix);
		snapshot = undefined;
		await Promise.all(watched.queues.map((queue) => queue.close().catch(() => undefined)));
	};
}

// ---- HTTP -------------------------------------------------------------------------------------------------

function send(response: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
	response.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers });
	response.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

export interface ProbeRoutes {
	/** The parts /readyz checks. */
	checks: readonly Check[];
	/** /healthz's body (the ingest adds its counters). */
	health(): object;
	/** METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
	metricsToken?: string;
}

/** Answers /healthz, /readyz and /metrics; false for any other path. */
export async function handleProbes(request: IncomingMessage, response: ServerResponse, path: string, routes: ProbeRoutes): Promise<boolean> {
	if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
	const method = request.method ?? 'GET';
	if (method !== 'GET' && method !== 'HEAD') {
		send(response, 405, JSON.stringify({ error: 'method_not_allowed' }), JSON_TYPE, { allow: 'GET, HEAD' });
		return true;
	}
	if (path === '/healthz') {
		send(response, 200, JSON.stringify({ ok: true, ...routes.health() }), JSON_TYPE);
		return true;
	}
	if (path === '/readyz') {
		const { ready, body } = await readiness(routes.checks);
		send(response, ready ? 200 : 503, JSON.stringify(body), JSON_TYPE);
		return true;
	}
	if (routes.metricsToken !== undefined && !hasAdminToken(request.headers.authorization, routes.metricsToken)) {
		send(response, 401, JSON.stringify({ error: 'unauthorized', message: 'send Authorization: Bearer <METRICS_TOKEN>' }), JSON_TYPE, {
			'www-authenticate': 'Bearer',
		});
		return true;
	}
	send(response, 200, await registry.metrics(), registry.contentType);
	return true;
}

/**
 * Listens on PORT and HOST; resolves to the base URL (a wildcard host is reached over 127.0.0.1). A port taken is
 * an error naming PORT: every role listens now, and two on one host need a port each.
 */
export async function listen(server: Server, config: Pick<Config, 'port' | 'host'>): Promise<string> {
	await new Promise<void>((resolve, reject) => {
		const refuse = (error: NodeJS.ErrnoException) =>
			reject(
				error.code === 'EADDRINUSE'
					? new Error(
							`PORT: ${config.host}:${config.port} is in use (another process on this host? give each keycrate-worker its own PORT, or 0 for any free port)`,
						)
					: error,
			);
		server.once('error', refuse);
		server.listen(config.port, config.host, () => {
			server.off('error', refuse);
			resolve();
		});
	});
	const address = server.address() as AddressInfo;
	const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
	return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
}

export interface ProbeServer {
	url: string;
	close(): Promise<void>;
}

/**
 * The processing role's HTTP server: /healthz, /readyz and /metrics on PORT (HOST), nothing else. The queue gauges
 * read Redis over `connection`.
 */
export async function startProbeServer(config: Config, log: Logger, connection: RedisConnection, checks: readonly Check[]): Promise<ProbeServer> {
	enableDefaultMetrics();
	const stopWatching = watchQueues(config, connection);
	const probeLog = log.child({ component: 'probes' });
	const routes: ProbeRoutes = {
		checks,
		health: () => ({ role: 'process' }),
		...(config.metricsToken !== undefined ? { metricsToken: config.metricsToken } : {}),
	};
	const server = createServer(
		{ headersTimeout: config.headersTimeoutMs, requestTimeout: config.headersTimeoutMs + config.bodyTimeoutMs },
		(request, response) => {
			request.resume();
			const path = (request.url ?? '/').split('?')[0];
			handleProbes(request, response, path, routes)
				.then((handled) => {
					if (!handled)
						send(
							response,
							404,
							JSON.stringify({
								error: 'not_found',
								message: `no route ${request.method ?? 'GET'} ${path} (this is the processing role: /healthz, /readyz, /metrics)`,
							}),
							JSON_TYPE,
						);
				})
				.catch((error: unknown) => {
					probeLog.error({ err: (error as Error).message }, 'probe request failed');
					if (!response.headersSent) send(response, 500, JSON.stringify({ error: 'internal' }), JSON_TYPE);
					else response.destroy();
				});
		},
	);
	let url: string;
	try {
		url = await listen(server, config);
	} catch (error) {
		await stopWatching();
		throw error;
	}
	probeLog.info({ url }, 'probes listening');
	let closing: Promise<void> | undefined;
	return {
		url,
		close: () =>
			(closing ??= (async () => {
				await new Promise<void>((resolve) => {
					server.close(() => resolve());
					server.closeAllConnections();
				});
				await stopWatching();
			})()),
	};
}
