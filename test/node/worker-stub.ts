/**
 * A small stand-in for the worker's admin API (openapi/worker-admin.openapi.yaml) for the Keycrate
 * Worker node's tests. It answers like the contract and checks both sides against it with Ajv:
 * every request's path parameters, query and body, and every reply it gives. A request the contract
 * would refuse is recorded in `violations` (and answered 400 naming the field, as the worker does).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const ADMIN_CONTRACT_FILE = join(__dirname, '../../openapi/worker-admin.openapi.yaml');

type Json = Record<string, unknown>;
interface Operation {
	parameters?: Array<Json>;
	requestBody?: { content: { 'application/json': { schema: Json } } };
	responses: Record<string, Json>;
}
export interface AdminContract {
	paths: Record<string, Record<'get' | 'post', Operation>>;
	components: { schemas: Record<string, Json>; parameters: Record<string, Json>; responses: Record<string, Json> };
}

/**
 * The contract as YAML. A plain `description:` scalar inside a flow mapping that holds ": " is not
 * valid YAML (DryRunResponse.selected, "Keys selected (create: licenses to create)"); until the
 * contract quotes it, such a description is quoted here before parsing. Nothing else is changed.
 */
export function readAdminContract(text = readFileSync(ADMIN_CONTRACT_FILE, 'utf8')): AdminContract {
	const quoted = text.replace(
		/(\{[^{}\n]*\bdescription: )([^'"{}\n][^{}\n]*?: [^{}\n]*?)( \})/g,
		(_, before: string, value: string, after: string) => `${before}${JSON.stringify(value)}${after}`,
	);
	return parse(quoted) as AdminContract;
}

export const adminContract = readAdminContract();

const DOC = 'https://keycrate.invalid/worker-admin';
const ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: false });
addFormats(ajv);
ajv.addSchema({ ...adminContract, $id: DOC });

const pointer = (...segments: string[]) => `${DOC}#/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
const cache = new Map<string, ValidateFunction>();
function validatorAt(ref: string): ValidateFunction {
	let validate = cache.get(ref);
	if (!validate) cache.set(ref, (validate = ajv.compile({ $ref: ref })));
	return validate;
}

/** `/filter/status` → `filter.status`; the field an Ajv error is about (as the worker names it). */
function fieldOf(error: ErrorObject): string {
	const segments = error.instancePath.split('/').slice(1);
	const params = error.params as { missingProperty?: string; additionalProperty?: string };
	const child = params.missingProperty ?? params.additionalProperty;
	if (child) segments.push(child);
	return (
		segments
			.map((s) => (/^\d+$/.test(s) ? `[${s}]` : s))
			.join('.')
			.replace(/\.\[/g, '[') || 'body'
	);
}

export interface Violation {
	where: string;
	field: string;
	message: string;
}

function check(validate: ValidateFunction, data: unknown, where: string): Violation | null {
	if (validate(data)) return null;
	const error = validate.errors![0];
	return { where, field: fieldOf(error), message: error.message ?? 'is invalid' };
}

/** The contract's template path for a concrete path, with its path parameters. */
function route(path: string): { template: string; params: Record<string, string> } | undefined {
	for (const template of Object.keys(adminContract.paths)) {
		const names: string[] = [];
		const regex = new RegExp(`^${template.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
		const match = regex.exec(path);
		if (match) return { template, params: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])])) };
	}
	return undefined;
}

function resolveParameter(parameter: Json): Json {
	const ref = parameter.$ref as string | undefined;
	return ref ? adminContract.components.parameters[ref.split('/').pop()!] : parameter;
}

/** Checks path parameters, query and body of a request against the operation; the first violation. */
export function validateAdminRequest(
	method: 'get' | 'post',
	template: string,
	params: Record<string, string>,
	query: URLSearchParams,
	body: unknown,
): Violation | null {
	const operation = adminContract.paths[template][method];
	for (const [index, raw] of (operation.parameters ?? []).entries()) {
		const parameter = resolveParameter(raw);
		const name = parameter.name as string;
		const value = parameter.in === 'path' ? params[name] : (query.get(name) ?? undefined);
		if (value === undefined) continue;
		const schema = parameter.schema as Json;
		const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
		const ref = typeof raw.$ref === 'string' ? `${DOC}${raw.$ref}/schema` : pointer('paths', template, method, 'parameters', String(index), 'schema');
		const violation = check(validatorAt(ref), typed, `${parameter.in} ${name}`);
		if (violation) return { ...violation, field: name };
	}
	for (const name of query.keys()) {
		if (!(operation.parameters ?? []).some((p) => resolveParameter(p).name === name))
			return { where: 'query', field: name, message: 'is not a parameter of this operation' };
	}
	if (operation.requestBody)
		return check(validatorAt(pointer('paths', template, method, 'requestBody', 'content', 'application/json', 'schema')), body, 'body');
	return null;
}

/** Checks a reply against the responses the operation declares. */
export function validateAdminReply(method: 'get' | 'post', template: string, status: number, body: unknown): Violation | null {
	const response = adminContract.paths[template]?.[method]?.responses[String(status)];
	if (!response) return { where: `${method.toUpperCase()} ${template}`, field: 'status', message: `${status} is not a declared response` };
	const ref = response.$ref as string | undefined;
	const at = ref
		? pointer('components', 'responses', ref.split('/').pop()!, 'content', 'application/json', 'schema')
		: pointer('paths', template, method, 'responses', String(status), 'content', 'application/json', 'schema');
	return check(validatorAt(at), body, `reply ${status}`);
}

export interface StubJob {
	id: string;
	kind: string;
	state: string;
	request: Json;
	progress: { done: number; total: number; failed: number; rate_per_second?: number; eta_seconds?: number };
	result?: {
		succeeded: number;
		failed: number;
		canceled: boolean;
		failures?: Array<{ license_key?: string; reason: string }>;
		export_path?: string;
		calls?: number;
	};
	created_at: string;
	finished_at?: string;
}

export interface ReceivedRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	body: unknown;
	authorization?: string;
}

export interface WorkerStub {
	url: string;
	token: string;
	/** Without ADMIN_TOKEN the worker has no admin routes: every /admin path is 404. */
	adminApi: boolean;
	/** Whether the worker has LICENSE_WEBHOOK_SECRET (a notify_url needs it). */
	webhookSecret: boolean;
	jobs: StubJob[];
	deadLetters: Json[];
	received: ReceivedRequest[];
	/** Requests the contract would refuse, and replies of the stub outside the contract: both must stay empty. */
	violations: Violation[];
	/** Answers the next request with this instead (e.g. an HTML page, a 503). */
	nextReply?: { status: number; type: string; body: string };
	addJob(job: Partial<StubJob> & { kind: string; state: string }): StubJob;
	reset(): void;
	stop(): Promise<void>;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
	let text = '';
	for await (const chunk of incoming) text += chunk;
	return text;
}

export async function startWorkerStub(): Promise<WorkerStub> {
	let sequence = 0;
	const stub = {
		token: 'admin-token-for-tests-7f3a',
		adminApi: true,
		webhookSecret: true,
		jobs: [],
		deadLetters: [],
		received: [],
		violations: [],
	} as unknown as WorkerStub;
	const now = () => new Date(Date.UTC(2025, 0, 1, 12, 0, sequence)).toISOString();
	stub.addJob = (fields) => {
		sequence++;
		const job: StubJob = {
			id: `bulk_${String(sequence).padStart(4, '0')}`,
			request: { kind: fields.kind, app_id: '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11' },
			progress: { done: 0, total: 0, failed: 0 },
			created_at: now(),
			...fields,
		};
		stub.jobs.unshift(job);
		return job;
	};
	stub.reset = () => {
		sequence = 0;
		Object.assign(stub, { adminApi: true, webhookSecret: true, jobs: [], deadLetters: [], received: [], violations: [], nextReply: undefined });
	};

	const server: Server = createServer((incoming, outgoing) => {
		void handle(incoming, outgoing);
	});
	async function handle(incoming: IncomingMessage, outgoing: ServerResponse) {
		const text = await readBody(incoming);
		const url = new URL(incoming.url ?? '/', 'http://stub');
		const method = (incoming.method ?? 'GET').toLowerCase() as 'get' | 'post';
		let body: unknown;
		try {
			body = text === '' ? undefined : JSON.parse(text);
		} catch {
			body = text;
		}
		stub.received.push({
			method: method.toUpperCase(),
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			body,
			authorization: incoming.headers.authorization,
		});
		const matched = route(url.pathname);
		const reply = (status: number, json: unknown) => {
			if (matched) {
				const violation = validateAdminReply(method, matched.template, status, json);
				if (violation) stub.violations.push({ ...violation, where: `stub ${violation.where} for ${method.toUpperCase()} ${url.pathname}` });
			}
			outgoing.writeHead(status, { 'content-type': 'application/json' });
			outgoing.end(JSON.stringify(json));
		};
		if (stub.nextReply) {
			const { status, type, body: raw } = stub.nextReply;
			stub.nextReply = undefined;
			outgoing.writeHead(status, { 'content-type': type });
			outgoing.end(raw);
			return;
		}
		if (!stub.adminApi || !matched || !adminContract.paths[matched.template][method]) {
			// Without ADMIN_TOKEN the routes do not exist (the contract declares no 404 for most of them).
			outgoing.writeHead(404, { 'content-type': 'application/json' });
			outgoing.end(JSON.stringify({ error: 'not_found', message: `no route ${method.toUpperCase()} ${url.pathname}` }));
			return;
		}
		if (incoming.headers.authorization !== `Bearer ${stub.token}`) {
			reply(401, { error: 'unauthorized', message: 'a bearer token equal to ADMIN_TOKEN is required' });
			return;
		}
		const violation = validateAdminRequest(method, matched.template, matched.params, url.searchParams, body);
		if (violation) {
			stub.violations.push({ ...violation, where: `request ${violation.where} of ${method.toUpperCase()} ${url.pathname}` });
			if (matched.template !== '/admin/jobs/{id}' && matched.template !== '/admin/jobs/{id}/cancel')
				reply(400, { error: 'invalid_input', field: violation.field, message: `${violation.field} ${violation.message}` });
			else reply(404, { error: 'not_found', message: 'no such job' });
			return;
		}
		const key = `${method.toUpperCase()} ${matched.template}`;
		const { id, root } = matched.params;
		switch (key) {
			case 'POST /admin/jobs': {
				const request = body as Json;
				if (request.notify_url !== undefined && !stub.webhookSecret) {
					reply(400, { error: 'invalid_input', field: 'notify_url', message: 'needs LICENSE_WEBHOOK_SECRET on the worker (it signs the notification)' });
					return;
				}
				if (request.license_keys !== undefined && request.filter !== undefined) {
					reply(400, { error: 'invalid_input', field: 'filter', message: 'give license_keys or filter, not both' });
					return;
				}
				const selected = request.kind === 'create' ? (request.count as number) : ((request.license_keys as unknown[] | undefined)?.length ?? 25);
				if (request.dry_run === true) {
					reply(200, { data: { kind: request.kind, selected, calls: Math.ceil(selected / 1000) + (request.kind === 'create' ? 0 : 1) } });
					return;
				}
				const job = stub.addJob({ kind: request.kind as string, state: 'waiting', request, progress: { done: 0, total: selected, failed: 0 } });
				reply(202, { data: job });
				return;
			}
			case 'GET /admin/jobs': {
				const state = url.searchParams.get('state');
				const limit = Number(url.searchParams.get('limit') ?? 20);
				reply(200, { data: stub.jobs.filter((job) => !state || job.state === state).slice(0, limit) });
				return;
			}
			case 'GET /admin/jobs/{id}':
			case 'POST /admin/jobs/{id}/cancel': {
				const job = stub.jobs.find((candidate) => candidate.id === id);
				if (!job) {
					reply(404, { error: 'not_found', message: `no bulk job ${id} (or it is older than BULK_RESULT_TTL)` });
					return;
				}
				if (key.startsWith('POST')) {
					if (['completed', 'failed', 'canceled'].includes(job.state)) {
						reply(409, { error: 'conflict', message: `bulk job ${id} has ended already (${job.state})` });
						return;
					}
					Object.assign(job, {
						state: 'canceled',
						finished_at: now(),
						result: { succeeded: job.progress.done, failed: job.progress.failed, canceled: true, failures: [], calls: 1 },
					});
				}
				reply(200, { data: job });
				return;
			}
			case 'POST /admin/roots/{root}/resync':
				reply(202, { data: { root, queued: true } });
				return;
			case 'GET /admin/dead-letters':
				reply(200, { data: stub.deadLetters.slice(0, Number(url.searchParams.get('limit') ?? 50)) });
				return;
			case 'POST /admin/dead-letters/retry': {
				const request = body as { ids?: string[]; all?: boolean };
				const chosen = request.all === true ? stub.deadLetters : stub.deadLetters.filter((letter) => request.ids?.includes(letter.id as string));
				stub.deadLetters = stub.deadLetters.filter((letter) => !chosen.includes(letter));
				reply(200, { data: { retried: chosen.length } });
				return;
			}
		}
	}
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	stub.stop = async () => await new Promise<void>((resolve) => server.close(() => resolve()));
	return stub;
}
