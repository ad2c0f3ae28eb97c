/** The HTTP side: routing, auth, contract validation, faults, call counting, and the loopback-only admin routes. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isLoopbackAddress, parseJsonBody, readBody, sendJson, type JsonReply, type RawBody } from '@keycrate/http-kit';
import { compileSchema, contractSchemaRef, isContractPath, validateRequest, validateResponse, type ContractPath } from './contract';
import { ApiError, invalidInput } from './errors';
import { decideFaults, parseFaultRules, type FaultRule } from './faults';
import { Access, handle } from './handlers';
import { Store, type AppCredentials } from './store';

export const ADMIN_PREFIX = '/__emulator/';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export type CallCounts = Record<string, Record<string, number>>;

export { isLoopbackAddress };

const appsSchema = {
	type: 'array',
	minItems: 1,
	items: {
		type: 'object',
		required: ['app_id', 'api_key'],
		additionalProperties: false,
		properties: { app_id: contractSchemaRef('Uuid'), api_key: { type: 'string', pattern: '^kc_[A-Za-z0-9_-]{8,}$' } },
	},
};
const checkResetBody = compileSchema({ type: 'object', additionalProperties: false, properties: { apps: appsSchema } });
const checkClockBody = compileSchema({ type: 'object', required: ['offset_ms'], additionalProperties: false, properties: { offset_ms: { type: 'integer' } } });

/** Throws INVALID_INPUT naming the field when the apps list is unusable. */
export function checkApps(apps: unknown): AppCredentials[] {
	const failure = checkResetBody({ apps });
	if (failure) throw invalidInput(failure.field, failure.message);
	const list = apps as AppCredentials[];
	const seen = new Set<string>();
	list.forEach((app, index) => {
		if (seen.has(app.app_id)) throw invalidInput(`apps[${index}].app_id`, 'appears twice');
		seen.add(app.app_id);
	});
	return list;
}

export interface ServerOptions {
	apps: AppCredentials[];
	latencyMs?: number;
	/** Check every response against the contract before sending it (a 500 names the violation). */
	validateResponses?: boolean;
}

export type Reply = JsonReply;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class EmulatorServer {
	store: Store;
	faultRules: FaultRule[] = [];
	readonly server: Server;
	private counts = new Map<string, Map<string, number>>();
	private readonly latencyMs: number;
	private readonly validateResponses: boolean;

	constructor(options: ServerOptions) {
		this.store = new Store(checkApps(options.apps));
		this.latencyMs = options.latencyMs ?? 0;
		this.validateResponses = options.validateResponses ?? true;
		this.server = createServer((request, response) => {
			this.dispatch(request, response).catch((error: unknown) => {
				process.stderr.write(`keycrate-emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
				if (!response.headersSent) sendJson(response, { status: 500, body: { error: 'emulator internal error', error_code: 'SERVER_ERROR' } });
			});
		});
		this.server.keepAliveTimeout = 5_000;
	}

	apps(): AppCredentials[] {
		return [...this.store.apps.values()].map(({ app_id, api_key }) => ({ app_id, api_key }));
	}

	/** Empties licenses, subscriptions, faults, call counts and the clock offset; keeps the apps unless given new ones. */
	reset(apps?: AppCredentials[]): void {
		const next = apps === undefined ? this.apps() : checkApps(apps);
		this.store = new Store(next);
		this.faultRules = [];
		this.counts = new Map();
	}

	setFaults(rules: unknown): void {
		this.faultRules = parseFaultRules({ rules });
	}

	setClockOffset(offsetMs: number): void {
		if (!Number.isInteger(offsetMs)) throw invalidInput('offset_ms', 'must be an integer number of milliseconds');
		this.store.clockOffsetMs = offsetMs;
	}

	calls(): CallCounts {
		const result: CallCounts = {};
		for (const [endpoint, outcomes] of this.counts) result[endpoint] = Object.fromEntries(outcomes);
		return result;
	}

	private count(endpoint: string, outcome: string): void {
		let outcomes = this.counts.get(endpoint);
		if (!outcomes) this.counts.set(endpoint, (outcomes = new Map()));
		outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
	}

	private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const path = (request.url ?? '/').split('?')[0];
		const raw = await readBody(request, MAX_BODY_BYTES);
		if (path.startsWith(ADMIN_PREFIX)) {
			sendJson(response, this.admin(request, path, raw));
			return;
		}
		const decision = decideFaults(isContractPath(path) ? this.faultRules : [], path);
		const delay = this.latencyMs + decision.latencyMs;
		if (delay > 0) await sleep(delay);
		const failure = decision.failure;
		if (failure?.kind === 'drop_connection') {
			this.count(path, 'dropped');
			request.socket.destroy();
			return;
		}
		let reply: Reply;
		if (failure?.kind === 'error_500') {
			reply = { status: 500, body: { error: 'injected fault: server error', error_code: 'SERVER_ERROR' } };
		} else if (failure?.kind === 'error_429') {
			const retryAfter = failure.retry_after_s ?? 1;
			reply = {
				status: 429,
				body: { error: `injected fault: rate limited, retry after ${retryAfter} s`, error_code: 'RATE_LIMITED' },
				headers: { 'retry-after': String(retryAfter) },
			};
		} else {
			reply = this.api(request, path, raw);
			if (failure?.kind === 'commit_then_500') {
				reply = { status: 500, body: { error: 'injected fault: the change was applied but the reply was lost', error_code: 'SERVER_ERROR' } };
			}
		}
		if (this.validateResponses && isContractPath(path)) reply = checkedReply(path, reply);
		this.count(path, String(reply.status));
		sendJson(response, reply);
	}

	private api(request: IncomingMessage, path: string, raw: RawBody): Reply {
		if (!isContractPath(path)) return { status: 404, body: { error: `no such endpoint: ${path}`, error_code: 'INVALID_INPUT', field: 'path' } };
		if (request.method !== 'POST') {
			return { status: 405, body: { error: `${path} only answers POST`, error_code: 'INVALID_INPUT' }, headers: { allow: 'POST' } };
		}
		try {
			const apiKey = request.headers['x-api-key'];
			if (typeof apiKey !== 'string' || apiKey === '') throw new ApiError('MISSING_AUTH', 'the x-api-key header is missing');
			if (!this.store.appsByApiKey.has(apiKey)) throw new ApiError('INVALID_API_KEY', 'the x-api-key header is not a known API key');
			const body = parseJson(raw);
			const failure = validateRequest(path, body);
			if (failure) throw new ApiError('INVALID_INPUT', failure.message, failure.field);
			return { status: 200, body: handle(path, new Access(this.store, apiKey), body) };
		} catch (error) {
			if (error instanceof ApiError) return { status: error.status, body: error.toBody() };
			throw error;
		}
	}

	private admin(request: IncomingMessage, path: string, raw: RawBody): Reply {
		if (!isLoopbackAddress(request.socket.remoteAddress)) {
			return { status: 403, body: { error: 'the emulator admin routes answer loopback clients only', error_code: 'ACCESS_DENIED' } };
		}
		const route = `${request.method ?? 'GET'} ${path}`;
		try {
			switch (route) {
				case 'GET /__emulator/state':
					return { status: 200, body: this.store.snapshot() };
				case 'GET /__emulator/calls':
					return { status: 200, body: this.calls() };
				case 'POST /__emulator/reset': {
					const body = parseJson(raw, { emptyAs: {} });
					const failure = checkResetBody(body);
					if (failure) throw invalidInput(failure.field, failure.message);
					this.reset((body as { apps?: AppCredentials[] }).apps);
					return { status: 200, body: { apps: this.apps() } };
				}
				case 'POST /__emulator/faults':
					this.faultRules = parseFaultRules(parseJson(raw));
					return { status: 200, body: { rules: this.faultRules } };
				case 'POST /__emulator/clock': {
					const body = parseJson(raw);
					const failure = checkClockBody(body);
					if (failure) throw invalidInput(failure.field, failure.message);
					this.setClockOffset((body as { offset_ms: number }).offset_ms);
					return { status: 200, body: { offset_ms: this.store.clockOffsetMs, now: new Date(this.store.now()).toISOString() } };
				}
				default:
					return { status: 404, body: { error: `no such admin route: ${route}`, error_code: 'INVALID_INPUT', field: 'path' } };
			}
		} catch (error) {
			if (error instanceof ApiError) return { status: error.status, body: error.toBody() };
			throw error;
		}
	}
}

function parseJson(raw: RawBody, options?: { emptyAs?: unknown }): unknown {
	const parsed = parseJsonBody(raw, options);
	if (!parsed.ok) throw new ApiError('INVALID_INPUT', parsed.problem, 'body');
	return parsed.value;
}

/** Development guard: a reply the contract does not allow becomes a 500 that says why. */
export function checkedReply(path: ContractPath, reply: Reply): Reply {
	const failure = validateResponse(path, reply.status, reply.body);
	if (!failure) return reply;
	const message = `emulator bug: its ${reply.status} reply to ${path} violates the contract at ${failure.field}: ${failure.message}`;
	process.stderr.write(`keycrate-emulator: ${message}\n`);
	return { status: 500, body: { error: message, error_code: 'SERVER_ERROR' } };
}
