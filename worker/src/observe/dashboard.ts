// The queue dashboard (bull-board) at /admin/queues: the sync, hand-off and bulk queues, read-only. It exists only
// with ADMIN_TOKEN and every request must carry the token: as a bearer token (curl, a proxy) or, for a browser,
// as the password of HTTP basic auth (any user name), which the browser then sends with each page, asset and API
// call. Compared in constant time. Read-only because acting on a job has meanings the dashboard does not know
// (a dead sync is retried as a fresh, deduplicated sync of its root): `keycrate-worker retry` and the admin API do
// that. bull-board's Express adapter is called as a plain request handler: the ingest stays on node:http.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import type { Config } from '../config.js';
import { hasAdminToken } from '../ingest/admin.js';
import { BULK_QUEUE, HANDOFF_QUEUE, SYNC_QUEUE } from '../jobs/queues.js';

export const DASHBOARD_PATH = '/admin/queues';

type Handler = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

export interface Dashboard {
	/** Answers a request whose path is DASHBOARD_PATH or below it. */
	handle(request: IncomingMessage, response: ServerResponse): void;
	close(): Promise<void>;
}

export function isDashboardPath(path: string): boolean {
	return path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
}

function digest(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

/** `Authorization: Bearer <token>`, or `Basic base64(<any user>:<token>)`. */
export function dashboardAuthorized(header: string | undefined, token: string): boolean {
	if (hasAdminToken(header, token)) return true;
	const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
	if (basic === null) return false;
	const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
	const colon = decoded.indexOf(':');
	return colon !== -1 && timingSafeEqual(digest(decoded.slice(colon + 1)), digest(token));
}

/** Loaded only when ADMIN_TOKEN is set: without it the worker does not load bull-board at all. */
export async function createDashboard(config: Config, connection: RedisConnection): Promise<Dashboard> {
	const token = config.adminToken;
	if (token === undefined) throw new Error('the dashboard needs ADMIN_TOKEN');
	const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
		import('@bull-board/api'),
		import('@bull-board/api/bullMQAdapter'),
		import('@bull-board/express'),
	]);
	const queues = [SYNC_QUEUE, HANDOFF_QUEUE, BULK_QUEUE].map((name) => new Queue(name, { connection, prefix: config.queuePrefix }));
	for (const queue of queues) queue.on('error', () => undefined);
	const adapter = new ExpressAdapter();
	adapter.setBasePath(DASHBOARD_PATH);
	createBullBoard({
		queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
		serverAdapter: adapter,
		options: { uiConfig: { boardTitle: 'Keycrate worker' } },
	});
	const app = adapter.getRouter() as Handler & { disable(setting: string): void };
	app.disable('x-powered-by');

	return {
		handle(request, response) {
			if (!dashboardAuthorized(request.headers.authorization, token)) {
				request.resume();
				const body = JSON.stringify({
					error: 'unauthorized',
					message: 'send Authorization: Bearer <ADMIN_TOKEN>, or basic auth with ADMIN_TOKEN as the password',
				});
				response.writeHead(401, {
					'content-type': 'application/json; charset=utf-8',
					'content-length': String(Buffer.byteLength(body)),
					// Basic first: a browser shows its login prompt for it.
					'www-authenticate': 'Basic realm="keycrate-worker", charset="UTF-8"',
				});
				response.end(body);
				return;
			}
			// The adapter's routes are relative to its mount point, as under express's app.use(DASHBOARD_PATH, …).
			request.url = (request.url ?? '/').slice(DASHBOARD_PATH.length) || '/';
			if (!request.url.startsWith('/')) request.url = `/${request.url}`;
			app(request, response, (error?: unknown) => {
				if (response.headersSent) return;
				const status = error === undefined ? 404 : 500;
				const body = JSON.stringify({ error: status === 404 ? 'not_found' : 'internal' });
				response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
				response.end(body);
			});
		},
		async close() {
			await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
		},
	};
}
