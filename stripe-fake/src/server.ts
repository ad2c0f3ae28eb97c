/** The HTTP side: auth, API version, faults, routing to the read API, call counting, and the loopback-only admin routes. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isLoopbackAddress, parseJsonBody, readBody, sendJson, type JsonReply, type RawBody } from '@keycrate/http-kit';
import { FakeUsageError, StripeApiError } from './errors';
import type { FaultInjector } from './faults';
import { newId, redactKey } from './ids';
import { parseQuery } from './query';
import type { Api } from './routes';
import { API_VERSION } from './store';

export const ADMIN_PREFIX = '/__fake/';
const MAX_ADMIN_BODY_BYTES = 4 * 1024 * 1024;

export type Reply = JsonReply;

/** An admin route: `POST /__fake/<name>` with a JSON body, `GET /__fake/<name>`. */
export type AdminHandler = (method: string, name: string, body: unknown) => Promise<Reply>;

export { isLoopbackAddress };

/** The key from `Authorization: Bearer sk_…` or Basic auth with the key as user name (both are Stripe's). */
export function apiKeyOf(header: string | undefined): string | undefined {
	if (!header) return undefined;
	const bearer = /^Bearer\s+(\S+)$/i.exec(header);
	if (bearer) return bearer[1];
	const basic = /^Basic\s+(\S+)$/i.exec(header);
	if (basic) return Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0] || undefined;
	return undefined;
}

export interface ServerDeps {
	api: Api;
	apiKey: string;
	faults: FaultInjector;
	admin: AdminHandler;
}

export class FakeServer {
	readonly server: Server;
	private counts = new Map<string, number>();

	constructor(private readonly deps: ServerDeps) {
		this.server = createServer((request, response) => {
			this.dispatch(request, response).catch((error: unknown) => {
				process.stderr.write(`stripe-fake: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
				if (!response.headersSent) {
					const requestId = newId('request');
					send(response, { status: 500, body: new StripeApiError(500, 'api_error', 'stripe-fake internal error').toBody(requestId) }, requestId);
				}
			});
		});
		this.server.keepAliveTimeout = 5_000;
	}

	requests(): Record<string, number> {
		return Object.fromEntries(this.counts);
	}

	resetCounts(): void {
		this.counts = new Map();
	}

	private count(key: string): void {
		this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
	}

	private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const requestId = newId('request');
		const url = request.url ?? '/';
		const queryAt = url.indexOf('?');
		const path = queryAt === -1 ? url : url.slice(0, queryAt);
		const search = queryAt === -1 ? '' : url.slice(queryAt + 1);
		const method = request.method ?? 'GET';
		if (path.startsWith(ADMIN_PREFIX)) {
			const raw = await readBody(request, MAX_ADMIN_BODY_BYTES);
			send(response, await this.admin(request, method, path.slice(ADMIN_PREFIX.length), raw), requestId);
			return;
		}
		request.resume();
		await new Promise((resolve) => (request.readableEnded ? resolve(undefined) : request.once('end', resolve).once('error', resolve)));
		send(response, this.api(request, method, path, search, requestId), requestId);
	}

	private api(request: IncomingMessage, method: string, path: string, search: string, requestId: string): Reply {
		const found = this.deps.api.lookup(method, path);
		this.count(found.status === 'found' ? found.match.template : found.status === 'method' ? found.template : `${method} (unrecognized)`);
		try {
			const key = apiKeyOf(request.headers.authorization);
			if (key === undefined) {
				throw new StripeApiError(
					401,
					'invalid_request_error',
					"You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
				);
			}
			if (key !== this.deps.apiKey) throw new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${redactKey(key)}`, 'api_key_invalid');
			const version = request.headers['stripe-version'];
			if (typeof version === 'string' && version !== API_VERSION) {
				throw new StripeApiError(
					400,
					'invalid_request_error',
					`stripe-fake serves API version ${API_VERSION} only; this request asked for ${version}.`,
					'invalid_api_version',
					'Stripe-Version',
				);
			}
			if (found.status === 'none') {
				throw new StripeApiError(
					404,
					'invalid_request_error',
					`Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
				);
			}
			if (found.status === 'method') {
				throw new StripeApiError(
					405,
					'invalid_request_error',
					`stripe-fake answers GET only on ${path} (${method} is not served: change the fake's world through its world-building API).`,
					undefined,
					undefined,
					{ allow: 'GET' },
				);
			}
			this.deps.faults.check();
			return { status: 200, body: found.match.handle(parseQuery(search)) };
		} catch (error) {
			if (error instanceof StripeApiError) return { status: error.status, body: error.toBody(requestId), headers: error.headers };
			throw error;
		}
	}

	private async admin(request: IncomingMessage, method: string, name: string, raw: RawBody): Promise<Reply> {
		if (!isLoopbackAddress(request.socket.remoteAddress)) {
			return { status: 403, body: { error: { type: 'invalid_request_error', message: 'the stripe-fake admin routes answer loopback clients only' } } };
		}
		try {
			const body = parseJsonBody(raw, { emptyAs: {} });
			if (!body.ok) throw new FakeUsageError('body', body.problem);
			return await this.deps.admin(method, name, body.value);
		} catch (error) {
			if (error instanceof FakeUsageError) {
				return { status: 400, body: { error: { type: 'invalid_request_error', message: error.message, param: error.field } } };
			}
			throw error;
		}
	}
}

/** Stripe's reply headers: pretty-printed JSON without a charset, a request id, the API version. */
function send(response: ServerResponse, reply: Reply, requestId: string): void {
	sendJson(response, reply, { indent: 2, headers: { 'content-type': 'application/json', 'request-id': requestId, 'stripe-version': API_VERSION } });
}
