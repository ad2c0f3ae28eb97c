// The webhook endpoint: verify → root → enqueue → acknowledge. A 2xx means sync(root) is in Redis (or one is
// already waiting, which will read the same current state); whenever Redis cannot take it the answer is 503 and
// Stripe retries later. An event that could never be processed is refused with a 4xx before anything is stored.
// node:http on purpose: the raw body must reach the signature check byte for byte, and there is little else.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type Stripe from 'stripe';
import type { Config } from '../config.js';
import { describeRedisUrl, eventFields, type Logger } from '../log.js';
import { enqueueSync, ingestConnection, recordSkipped, syncQueue, type SyncJobData } from '../jobs/queues.js';
import { rootOfEvent } from '../stripe/roots.js';
import { BodyTooLargeError, readRawBody } from './body.js';
import { checkParsedText, checkRawPayload, type PayloadProblem } from './payload.js';
import { verifyStripeWebhook, type VerifyFailureReason } from './verify.js';
import { createAdminApi, type AdminApi } from './admin.js';
import { recordEvent } from '../jobs/history.js';
import { createKeycrateClient } from '../keycrate/client.js';
import {
	enableDefaultMetrics,
	initIngestSeries,
	secondsSince,
	statusLabel,
	webhookAckSeconds,
	webhooksHandled,
	webhooksReceived,
	webhooksRejected,
	webhooksVerified,
} from '../observe/metrics.js';
import { handleProbes, listen, watchQueues, type Check, type ProbeRoutes } from '../observe/probes.js';
import { createDashboard, isDashboardPath, type Dashboard } from '../observe/dashboard.js';

export const WEBHOOK_PATH = '/webhooks/stripe';
/** Longest wait for Redis on a request; past it the answer is 503 (a late write is harmless: same job id). */
const REDIS_TIMEOUT_MS = 5000;
/** After a 413, how long the rest of an oversize body is discarded before the connection is cut. */
const OVERSIZE_DISCARD_MS = 1000;
/** How long a start waits for Redis before listening anyway. */
const STARTUP_REDIS_WAIT_MS = 2000;
/** How often node:http enforces the header and body timeouts (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;
/** How long close() lets in-flight requests finish before cutting their connections. */
const CLOSE_GRACE_MS = 10000;

export interface IngestDeps {
	/** A Redis connection to use instead of a new `ingestConnection(config)`; the caller then owns it. */
	connection?: RedisConnection;
	/** Clock in milliseconds for the signature tolerance; tests move it instead of waiting. */
	now?: () => number;
	/** More parts /readyz checks (role all: the processor). */
	checks?: readonly Check[];
}

export interface IngestCounters {
	accepted: number;
	ignoredLivemode: number;
	/** Verified events that name no root (recorded in the skipped stream). */
	skipped: number;
	rejected: Partial<Record<VerifyFailureReason | PayloadProblem['reason'] | 'too_large', number>>;
	unavailable: number;
}

export interface IngestServer {
	url: string;
	counters: IngestCounters;
	close(): Promise<void>;
}

class RedisUnavailableError extends Error {
	constructor(detail: string) {
		super(`Redis unavailable: ${detail}`);
		this.name = 'RedisUnavailableError';
	}
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new RedisUnavailableError(`${what} timed out`)), REDIS_TIMEOUT_MS);
	});
	return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function sendJson(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
	const text = JSON.stringify(body);
	response.writeHead(status, {
		'content-type': 'application/json; charset=utf-8',
		'content-length': String(Buffer.byteLength(text)),
		...headers,
	});
	response.end(text);
}

function passesLivemode(filter: Config['livemode'], event: Stripe.Event): boolean {
	return filter === 'both' || (filter === 'live') === (event.livemode === true);
}

export async function startIngest(config: Config, log: Logger, deps: IngestDeps = {}): Promise<IngestServer> {
	const ownsConnection = deps.connection === undefined;
	const connection = deps.connection ?? ingestConnection(config);
	const queue: Queue<SyncJobData> = syncQueue(config, connection);
	const now = deps.now ?? Date.now;
	const counters: IngestCounters = { accepted: 0, ignoredLivemode: 0, skipped: 0, rejected: {}, unavailable: 0 };
	const ingestLog = log.child({ component: 'ingest' });

	// Log Redis going away and coming back once each, not once per reconnect attempt.
	let redisUp = connection.status === 'ready';
	const onRedisError = (error: Error) => {
		if (redisUp || connection.status !== 'reconnecting') ingestLog.warn({ err: error.message }, 'Redis unavailable: webhooks answer 503');
		redisUp = false;
	};
	const onRedisReady = () => {
		if (!redisUp) ingestLog.info('Redis connected: accepting webhooks');
		redisUp = true;
	};
	connection.on('error', onRedisError);
	connection.on('ready', onRedisReady);
	// BullMQ re-emits connection errors on the queue; without a listener an 'error' event would crash the process.
	queue.on('error', () => undefined);

	/** Stores what the event asks for: sync(root), or a skipped record saying why there is nothing to sync. */
	async function enqueue(event: Stripe.Event): Promise<'queued' | 'skipped'> {
		if (connection.status !== 'ready') throw new RedisUnavailableError(`connection is ${connection.status}`);
		const target = rootOfEvent(event);
		if ('skip' in target) {
			await withTimeout(recordSkipped(config, connection, { reason: target.skip, detail: target.detail, eventId: event.id, eventType: event.type }), 'record');
			return 'skipped';
		}
		// Indexed beside the enqueue, not before it: the history never delays or fails the answer.
		await Promise.all([
			recordEvent(config, connection, ingestLog, event, target.root),
			withTimeout(enqueueSync(config, queue, target.root, `${event.type} ${event.id}`), 'enqueue'),
		]);
		return 'queued';
	}

	async function isReady(): Promise<boolean> {
		if (connection.status !== 'ready') return false;
		try {
			await withTimeout(queue.waitUntilReady(), 'queue init');
			return (await withTimeout(connection.ping(), 'PING')) === 'PONG';
		} catch {
			return false;
		}
	}

	function reject(
		response: ServerResponse,
		reason: VerifyFailureReason | PayloadProblem['reason'] | 'too_large',
		status: number,
		message: string,
		headers: Record<string, string> = {},
	) {
		counters.rejected[reason] = (counters.rejected[reason] ?? 0) + 1;
		webhooksRejected.inc({ reason });
		ingestLog.warn({ reason, status }, `webhook refused: ${message}`);
		sendJson(response, status, { error: reason, message }, headers);
	}

	async function handleWebhook(request: IncomingMessage, response: ServerResponse): Promise<void> {
		let body: Buffer;
		try {
			body = await readRawBody(request, config.bodyLimitBytes);
		} catch (error) {
			if (!(error instanceof BodyTooLargeError)) throw error;
			// Stop keeping the body: discard what the client still sends so it can read the 413 (cutting the
			// socket at once makes the client see a reset instead), and close the connection shortly after.
			request.resume();
			response.on('finish', () => setTimeout(() => request.destroy(), OVERSIZE_DISCARD_MS).unref());
			reject(response, 'too_large', 413, `body larger than ${config.bodyLimitBytes} bytes`, { connection: 'close' });
			return;
		}

		const rawProblem = checkRawPayload(body);
		if (rawProblem) {
			reject(response, rawProblem.reason, 400, rawProblem.message);
			return;
		}

		const verified = verifyStripeWebhook(body, request.headers['stripe-signature'], {
			secrets: config.stripeWebhookSecrets,
			toleranceSeconds: config.stripeToleranceSeconds,
			now: now(),
		});
		if (!verified.ok) {
			reject(response, verified.reason, 400, verified.message);
			return;
		}
		webhooksVerified.inc();

		const { event } = verified;
		const textProblem = checkParsedText(event);
		if (textProblem) {
			reject(response, textProblem.reason, 400, textProblem.message);
			return;
		}
		const fields = { ...eventFields(event), livemode: event.livemode };
		if (!passesLivemode(config.livemode, event)) {
			counters.ignoredLivemode += 1;
			webhooksHandled.inc({ outcome: 'ignored_livemode' });
			ingestLog.info({ ...fields, filter: config.livemode }, 'webhook ignored: livemode filtered');
			sendJson(response, 200, { received: true, ignored: 'livemode' });
			return;
		}

		let outcome: 'queued' | 'skipped';
		try {
			outcome = await enqueue(event);
		} catch (error) {
			counters.unavailable += 1;
			webhooksHandled.inc({ outcome: 'unavailable' });
			ingestLog.error({ ...fields, err: (error as Error).message }, 'webhook not queued: answering 503 so Stripe retries');
			sendJson(response, 503, { error: 'unavailable', message: 'the event could not be queued; retry later' }, { 'retry-after': '10' });
			return;
		}
		if (outcome === 'skipped') {
			counters.skipped += 1;
			webhooksHandled.inc({ outcome: 'skipped' });
			ingestLog.info({ ...fields }, 'webhook skipped: the event names nothing to license (keycrate-worker skipped)');
			sendJson(response, 200, { received: true, skipped: true });
			return;
		}
		counters.accepted += 1;
		webhooksHandled.inc({ outcome: 'queued' });
		ingestLog.info({ ...fields, secretIndex: verified.secretIndex }, 'webhook queued');
		sendJson(response, 200, { received: true });
	}

	// The admin API exists only with ADMIN_TOKEN; a dry run of a selection also needs the Keycrate key.
	const keycrate = config.keycrateApiKey.startsWith('kc_') ? createKeycrateClient(config) : undefined;
	const admin: AdminApi | undefined = config.adminToken ? createAdminApi(config, connection, queue, sendJson, ingestLog, keycrate) : undefined;
	// The dashboard, like the admin API, exists only with ADMIN_TOKEN (bull-board is not even loaded without it).
	// Loaded beside the start, not before it: bull-board takes a second or two to load, webhooks should not wait.
	const dashboard: Promise<Dashboard> | undefined = config.adminToken ? createDashboard(config, connection) : undefined;
	dashboard?.catch((error: unknown) => ingestLog.error({ err: (error as Error).message }, 'the dashboard could not be loaded'));

	const redisReady: Check = async () => {
		if (await isReady()) return { name: 'redis', ok: true, state: 'up' };
		return {
			name: 'redis',
			ok: false,
			state: 'down',
			reason: connection.status === 'ready' ? 'Redis did not answer in time' : `Redis connection is ${connection.status}`,
		};
	};
	const probes: ProbeRoutes = {
		checks: [redisReady, ...(deps.checks ?? [])],
		health: () => ({ counters }),
		...(config.metricsToken !== undefined ? { metricsToken: config.metricsToken } : {}),
	};
	enableDefaultMetrics();
	initIngestSeries();
	const stopWatchingQueues = watchQueues(config, connection);

	async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const [path, search] = (request.url ?? '/').split('?');
		const method = request.method ?? 'GET';
		if (dashboard !== undefined && isDashboardPath(path)) return (await dashboard).handle(request, response);
		if (admin !== undefined && path.startsWith('/admin/') && (await admin.handle(request, response, path, new URLSearchParams(search ?? '')))) return;
		if (path === WEBHOOK_PATH) {
			if (method !== 'POST') return sendJson(response, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
			webhooksReceived.inc();
			const started = performance.now();
			try {
				return await handleWebhook(request, response);
			} finally {
				// Every path of handleWebhook has answered when it returns; one that threw is answered 500 below.
				webhookAckSeconds.observe({ status: statusLabel(response.headersSent ? response.statusCode : 500) }, secondsSince(started));
			}
		}
		if (await handleProbes(request, response, path, probes)) return;
		return sendJson(response, 404, { error: 'not_found', message: `no route ${method} ${path}` });
	}

	// Give Redis a moment so the first webhook after a start is not refused; start anyway when it is away
	// (/readyz says so, and webhooks answer 503 until it is back).
	if (connection.status !== 'ready') {
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, STARTUP_REDIS_WAIT_MS);
			connection.once('ready', () => {
				clearTimeout(timer);
				resolve();
			});
		});
	}
	if (!(await isReady())) ingestLog.warn({ redis: describeRedisUrl(config.redisUrl) }, 'Redis not reachable yet');

	// Seconds, not minutes: a client trickling headers or a body cannot hold a connection (408 after the limit).
	const server = createServer(
		{ headersTimeout: config.headersTimeoutMs, requestTimeout: config.headersTimeoutMs + config.bodyTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
		(request, response) => {
			route(request, response).catch((error: unknown) => {
				ingestLog.error({ err: (error as Error).message }, 'request failed');
				if (!response.headersSent) sendJson(response, 500, { error: 'internal' });
				else response.destroy();
			});
		},
	);

	async function releaseRedis(): Promise<void> {
		await queue.close().catch(() => undefined);
		await stopWatchingQueues();
		await dashboard?.then(
			(loaded) => loaded.close(),
			() => undefined,
		);
		await admin?.close();
		keycrate?.close();
		connection.off('error', onRedisError);
		connection.off('ready', onRedisReady);
		if (ownsConnection) {
			if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
			else connection.disconnect();
		}
	}

	let url: string;
	try {
		url = await listen(server, config);
	} catch (error) {
		await releaseRedis();
		throw error;
	}
	ingestLog.info({ url, path: WEBHOOK_PATH, livemode: config.livemode, signingSecretCount: config.stripeWebhookSecrets.length }, 'ingest listening');

	let closing: Promise<void> | undefined;
	async function close(): Promise<void> {
		// Stop accepting, let in-flight webhooks get their answer, then release Redis.
		await new Promise<void>((resolve) => {
			const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
			server.close(() => {
				clearTimeout(force);
				resolve();
			});
			server.closeIdleConnections();
		});
		await releaseRedis();
		ingestLog.info('ingest closed');
	}

	return {
		url,
		counters,
		close: () => (closing ??= close()),
	};
}
