// The admin API (openapi/worker-admin.openapi.yaml): bulk jobs, a root's resync and history, events (story,
// replay), dead letters. Served beside the
// webhook endpoint only when ADMIN_TOKEN is set; every request must carry it as a bearer token, compared in
// constant time. Bodies are validated with errors that name the field.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { BulkApi, BulkJobData, BulkResult } from '../bulk/job.js';
import { cancelBulkJob, dryRun, getBulkJob, listBulkJobs, startBulkJob, type BulkState } from '../bulk/jobs.js';
import { BulkRequestError, parseBulkRequest } from '../bulk/request.js';
import type { Config } from '../config.js';
import { listDeadLetters, parseSinceTime, retryDeadLetters } from '../jobs/dead-letters.js';
import { EVENT_ID, eventStory, readHistory, replayEvent, unknownEventMessage } from '../jobs/history.js';
import { bulkQueue, enqueueSync, handoffQueue, type SyncJobData } from '../jobs/queues.js';
import type { Logger } from '../log.js';
import { isRootId } from '../stripe/roots.js';
import { BodyTooLargeError, readRawBody } from './body.js';

/** Admin bodies are small (a list of keys is at most ~1M × 40 bytes). */
const ADMIN_BODY_LIMIT = 64 * 1024 * 1024;
const STATES: readonly BulkState[] = ['waiting', 'active', 'delayed', 'completed', 'failed', 'canceled'];

type Send = (response: ServerResponse, status: number, body: object, headers?: Record<string, string>) => void;

export interface AdminApi {
	/** Answers a request under /admin/; false when the path is not an admin route. */
	handle(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<boolean>;
	close(): Promise<void>;
}

class AdminInputError extends Error {
	constructor(
		readonly field: string,
		message: string,
	) {
		super(message);
	}
}

function digest(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

/** Bearer <ADMIN_TOKEN>, compared in constant time (over digests, so the length leaks nothing either). */
export function hasAdminToken(header: string | undefined, token: string): boolean {
	const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
	return match !== null && timingSafeEqual(digest(match[1].trim()), digest(token));
}

function integerParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
	const raw = query.get(name);
	if (raw === null) return fallback;
	if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new AdminInputError(name, `${name}: must be a whole number from 1 to ${max}`);
	return Number(raw);
}

export function createAdminApi(
	config: Config,
	connection: RedisConnection,
	syncs: Queue<SyncJobData>,
	send: Send,
	log: Logger,
	keycrate: BulkApi | undefined,
): AdminApi {
	const token = config.adminToken as string;
	const bulks = bulkQueue(config, connection) as Queue<BulkJobData, BulkResult>;
	const handoffs = handoffQueue(config, connection);
	for (const queue of [bulks, handoffs]) queue.on('error', () => undefined);

	/** The JSON body; `optional`: undefined when there is none (replay). */
	async function body(request: IncomingMessage, optional = false): Promise<unknown> {
		let raw: Buffer;
		try {
			raw = await readRawBody(request, ADMIN_BODY_LIMIT);
		} catch (error) {
			if (error instanceof BodyTooLargeError) throw new AdminInputError('body', `body: larger than ${ADMIN_BODY_LIMIT} bytes`);
			throw error;
		}
		if (optional && raw.toString('utf8').trim() === '') return undefined;
		try {
			return JSON.parse(raw.toString('utf8')) as unknown;
		} catch {
			throw new AdminInputError('body', 'body: must be JSON');
		}
	}

	async function route(request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
		const method = request.method ?? 'GET';
		const notAllowed = (allow: string) => send(response, 405, { error: 'method_not_allowed', message: `use ${allow}` }, { allow });
		if (path === '/admin/jobs') {
			if (method === 'POST') {
				const { spec, dryRun: dry } = parseBulkRequest(await body(request));
				if (dry) {
					if (spec.kind !== 'create' && keycrate === undefined)
						throw new AdminInputError('dry_run', 'dry_run: counting a selection reads Keycrate, and this process has no KEYCRATE_API_KEY');
					send(response, 200, { data: await dryRun(config, keycrate as BulkApi, spec) });
					return true;
				}
				const view = await startBulkJob(config, bulks, spec);
				log.info({ jobId: view.id, kind: spec.kind }, 'bulk job queued (admin API)');
				send(response, 202, { data: view });
				return true;
			}
			if (method !== 'GET') return (notAllowed('GET, POST'), true);
			const state = query.get('state');
			if (state !== null && !(STATES as readonly string[]).includes(state)) throw new AdminInputError('state', `state: must be one of ${STATES.join(', ')}`);
			send(response, 200, { data: await listBulkJobs(bulks, (state ?? undefined) as BulkState | undefined, integerParam(query, 'limit', 20, 100)) });
			return true;
		}
		const job = /^\/admin\/jobs\/([^/]+)(\/cancel)?$/.exec(path);
		if (job) {
			const id = decodeURIComponent(job[1]);
			if (job[2]) {
				if (method !== 'POST') return (notAllowed('POST'), true);
				const outcome = await cancelBulkJob(config, connection, bulks, id);
				if (outcome.kind === 'unknown') send(response, 404, { error: 'not_found', message: `no bulk job ${id}` });
				else if (outcome.kind === 'ended') send(response, 409, { error: 'conflict', message: `bulk job ${id} has ended (${outcome.view.state})` });
				else send(response, 200, { data: outcome.view });
				return true;
			}
			if (method !== 'GET') return (notAllowed('GET'), true);
			const view = await getBulkJob(bulks, id);
			if (view === undefined) send(response, 404, { error: 'not_found', message: `no bulk job ${id} (or it ended more than BULK_RESULT_TTL_SECONDS ago)` });
			else send(response, 200, { data: view });
			return true;
		}
		const resync = /^\/admin\/roots\/([^/]+)\/resync$/.exec(path);
		if (resync) {
			if (method !== 'POST') return (notAllowed('POST'), true);
			const root = decodeURIComponent(resync[1]);
			if (!isRootId(root)) throw new AdminInputError('root', 'root: must be a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id');
			await enqueueSync(config, syncs, root, 'resync (admin API)');
			send(response, 202, { data: { root, queued: true } });
			return true;
		}
		const history = /^\/admin\/roots\/([^/]+)\/history$/.exec(path);
		if (history) {
			if (method !== 'GET') return (notAllowed('GET'), true);
			const root = decodeURIComponent(history[1]);
			if (!isRootId(root)) throw new AdminInputError('root', 'root: must be a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id');
			const entries = await readHistory(config, connection, root, integerParam(query, 'limit', config.historyMaxEntries || 1, 1000));
			if (entries.length === 0)
				send(response, 404, {
					error: 'not_found',
					message: `no history for ${root} (kept ${config.historyMaxEntries} entries per root for HISTORY_TTL_SECONDS ${config.historyTtlSeconds} s)`,
				});
			else send(response, 200, { data: { root, entries } });
			return true;
		}
		const eventRoute = /^\/admin\/events\/([^/]+)(\/replay)?$/.exec(path);
		if (eventRoute) {
			const eventId = decodeURIComponent(eventRoute[1]);
			if (method !== (eventRoute[2] ? 'POST' : 'GET')) return (notAllowed(eventRoute[2] ? 'POST' : 'GET'), true);
			if (!EVENT_ID.test(eventId)) throw new AdminInputError('event_id', 'event_id: must be a Stripe event id (evt_…)');
			if (eventRoute[2]) {
				// No options yet: an empty body or {} only, so a field meant for something else is not ignored silently.
				const given = await body(request, true);
				if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given)))
					throw new AdminInputError('body', 'body: must be empty or {}');
				const extra = given === undefined ? undefined : Object.keys(given)[0];
				if (extra !== undefined) throw new AdminInputError(extra, `${extra}: is not a field (replay takes no body)`);
				const result = await replayEvent(config, connection, { syncs, handoffs }, eventId);
				if (result.kind === 'unknown') send(response, 404, { error: 'not_found', message: unknownEventMessage(config, eventId) });
				else send(response, 202, { data: { event_id: eventId, root: result.event.root, queued: true, dead_letter_retried: result.deadLetter } });
				return true;
			}
			const story = await eventStory(config, connection, eventId);
			if (story === undefined) send(response, 404, { error: 'not_found', message: unknownEventMessage(config, eventId) });
			else send(response, 200, { data: story });
			return true;
		}
		if (path === '/admin/dead-letters') {
			if (method !== 'GET') return (notAllowed('GET'), true);
			const { letters } = await listDeadLetters({ syncs, handoffs }, integerParam(query, 'limit', 50, 1000));
			send(response, 200, {
				data: letters.map((letter) => ({
					kind: letter.kind === 'hand-off' ? 'handoff' : 'sync',
					id: letter.id,
					attempts: letter.attempts,
					...(letter.failedAt ? { failed_at: letter.failedAt } : {}),
					reason: letter.reason,
				})),
			});
			return true;
		}
		if (path === '/admin/dead-letters/retry') {
			if (method !== 'POST') return (notAllowed('POST'), true);
			const given = (await body(request)) as { ids?: unknown; all?: unknown; since?: unknown } | null;
			if (typeof given !== 'object' || given === null || Array.isArray(given))
				throw new AdminInputError('body', 'body: must be {"ids": [...]}, {"all": true} or {"since": "2h"}');
			for (const key of Object.keys(given))
				if (key !== 'ids' && key !== 'all' && key !== 'since') throw new AdminInputError(key, `${key}: is not a field (give ids, all or since)`);
			let since: number | undefined;
			if (given.since !== undefined) {
				if (typeof given.since !== 'string') throw new AdminInputError('since', 'since: must be a string: a time back from now (2h) or an ISO date');
				if (given.ids !== undefined) throw new AdminInputError('since', 'since: goes with "all" (or alone), not with ids');
				const parsed = parseSinceTime(given.since);
				if ('error' in parsed) throw new AdminInputError('since', `since: ${parsed.error}`);
				since = parsed.ms;
			}
			// `since` alone means every dead letter since then.
			const all = given.all === true || (since !== undefined && given.all === undefined);
			if (given.all !== undefined && typeof given.all !== 'boolean') throw new AdminInputError('all', 'all: must be true or false');
			const ids = given.ids;
			if (all === (ids !== undefined)) throw new AdminInputError('ids', 'ids: give ids (roots or license keys) or "all": true, not both or neither');
			if (ids !== undefined && (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((id) => typeof id === 'string' && id !== ''))) {
				throw new AdminInputError('ids', 'ids: must be a list of 1 to 1000 roots or license keys');
			}
			const { retried } = await retryDeadLetters(config, { syncs, handoffs }, all ? undefined : (ids as string[]), since === undefined ? {} : { since });
			send(response, 200, { data: { retried: retried.length } });
			return true;
		}
		return false;
	}

	return {
		async handle(request, response, path, query) {
			if (!hasAdminToken(request.headers.authorization, token)) {
				request.resume();
				send(response, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' }, { 'www-authenticate': 'Bearer' });
				return true;
			}
			try {
				return await route(request, response, path, query);
			} catch (error) {
				if (error instanceof AdminInputError || error instanceof BulkRequestError) {
					send(response, 400, { error: 'invalid_input', field: error.field, message: error.message });
					return true;
				}
				throw error;
			}
		},
		async close() {
			await Promise.all([bulks.close(), handoffs.close()]).catch(() => undefined);
		},
	};
}
