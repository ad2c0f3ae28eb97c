import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, IN8nHttpFullResponse, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { errorEnvelope, isJsonReply } from '../../Keycrate/transport/reply';
import { findNetworkCode, trimBaseUrl } from '../../Keycrate/transport/request';

export const WORKER_CREDENTIAL_TYPE = 'keycrateWorkerApi';

export interface WorkerCredentials {
	workerUrl: string;
	adminToken: string;
}

/** One call of the worker's admin API. */
export interface WorkerCall {
	method: 'GET' | 'POST';
	/** e.g. /admin/jobs/bulk_123/cancel */
	path: string;
	body?: object;
	qs?: IDataObject;
	/** The job the path names (Get, Cancel): a 404 then means this job is unknown, or no admin API. */
	jobId?: string;
	/** A call that starts work (Start): a lost answer may mean the job was queued all the same. */
	startsWork?: boolean;
}

/** The worker's field names → the node's parameters, so that a 400 says what to change. */
const FIELD_PARAMETERS: Record<string, string> = {
	kind: 'Kind',
	app_id: 'App ID',
	count: 'Number of Licenses',
	subscription_id: 'Subscription Tier ID',
	duration_unit: 'Duration Unit',
	duration_value: 'Duration Value',
	tags: 'Additional Fields → Tags',
	hwid_lock: 'HWID Lock',
	key_pattern: 'Additional Fields → Key Pattern',
	metadata: 'Additional Fields → Metadata',
	license_keys: 'License Keys',
	filter: 'Filter',
	'filter.subscription_id': 'Filter → Subscription Tier ID',
	'filter.status': 'Filter → Status',
	'filter.tag': 'Filter → Tag',
	format: 'Format',
	notify_url: 'Options → Notify URL',
	dry_run: 'Options → Dry Run',
	state: 'Filters → State',
	limit: 'Limit',
	root: 'Root',
	ids: 'IDs',
	all: 'Retry',
};

function parameterOf(field: string): string | undefined {
	const plain = field.replace(/\[\d+\]/g, '');
	return FIELD_PARAMETERS[plain] ?? FIELD_PARAMETERS[plain.split('.')[0]];
}

/**
 * Sends one admin API call through n8n's authenticated request helper (the credential adds the
 * bearer token) and returns the `data` of the answer. Nothing is retried: a start has no
 * idempotency key, and the node waits for nothing. Every failure becomes an error that says what
 * to do; it carries only the worker's own error body, never the request or the token.
 */
export async function workerRequest(context: IExecuteFunctions, call: WorkerCall, itemIndex: number): Promise<unknown> {
	const { workerUrl } = await context.getCredentials<WorkerCredentials>(WORKER_CREDENTIAL_TYPE, itemIndex);
	const baseUrl = trimBaseUrl(workerUrl);
	const response = await send(context, baseUrl, call, itemIndex);
	const { statusCode, body } = response;
	if (statusCode >= 200 && statusCode < 300 && isJsonReply(body) && !errorEnvelope(body)) {
		const data = (body as { data?: unknown }).data;
		return data === undefined ? body : data;
	}
	if (statusCode === 404 && call.jobId !== undefined) {
		// A job path answers 404 for an unknown job and when the admin API is off: the list tells them apart.
		const probe = await send(context, baseUrl, { method: 'GET', path: '/admin/jobs', qs: { limit: 1 } }, itemIndex);
		if (probe.statusCode >= 200 && probe.statusCode < 300 && isJsonReply(probe.body)) {
			throw apiError(context.getNode(), call, response, itemIndex, {
				message: `The worker has no bulk job ${call.jobId}`,
				description:
					"Check the Job ID: the worker does not know it, or the job ended longer ago than the worker's BULK_RESULT_TTL and its result was dropped. Bulk Job → Get Many lists the jobs it keeps.",
			});
		}
	}
	throw answerError(context.getNode(), baseUrl, call, response, itemIndex);
}

async function send(context: IExecuteFunctions, baseUrl: string, call: WorkerCall, itemIndex: number): Promise<IN8nHttpFullResponse> {
	const options: IHttpRequestOptions = {
		method: call.method,
		url: `${baseUrl}${call.path}`,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		...(call.body !== undefined ? { body: call.body } : {}),
		...(call.qs !== undefined ? { qs: call.qs } : {}),
	};
	try {
		return (await context.helpers.httpRequestWithAuthentication.call(context, WORKER_CREDENTIAL_TYPE, options)) as IN8nHttpFullResponse;
	} catch (error) {
		const code = findNetworkCode(error);
		if (code === undefined) throw asNodeError(context.getNode(), error, itemIndex);
		throw unreachableError(context.getNode(), baseUrl, call, code, itemIndex);
	}
}

/** A failure that is not a network error (e.g. a missing credential), as n8n expects it. */
function asNodeError(node: INode, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(node, error as Error, { itemIndex });
}

interface Explained {
	message: string;
	description: string;
}

/** What a refusal or a failure of the worker means for the user, by status. Pure. */
export function explainAnswer(baseUrl: string, call: WorkerCall, statusCode: number, body: unknown): Explained {
	const envelope = errorEnvelope(body);
	const said = typeof (body as { message?: unknown } | undefined)?.message === 'string' ? (body as { message: string }).message : undefined;
	const where = `${call.method} ${call.path} answered HTTP ${statusCode}.`;
	if (!isJsonReply(body) && statusCode !== 404) {
		return {
			message: `The Worker URL ${baseUrl} did not answer like the Keycrate worker (HTTP ${statusCode}, not JSON)`,
			description: `${where} Check the Worker URL of the Keycrate Worker API credential: it is the address of the worker's ingest role, e.g. http://127.0.0.1:3000.`,
		};
	}
	switch (statusCode) {
		case 401:
			return {
				message: "The Admin Token is not the worker's ADMIN_TOKEN",
				description: `${where} Set the Admin Token of the Keycrate Worker API credential to the value of ADMIN_TOKEN in the worker's environment.`,
			};
		case 404:
			return {
				message: `The worker at ${baseUrl} has no admin API (ADMIN_TOKEN is not set on it)`,
				description: `${where} The /admin routes exist only while the worker runs with ADMIN_TOKEN set: set it and restart the worker, or check the Worker URL of the credential.`,
			};
		case 400: {
			const field = envelope?.field;
			const parameter = field ? parameterOf(field) : undefined;
			return {
				message: field
					? `The worker refused ${field}: ${said ?? envelope?.error ?? 'invalid'}`
					: `The worker refused the request: ${said ?? envelope?.error ?? 'invalid input'}`,
				description: `${where} ${parameter ? `Change the node's ${parameter} parameter.` : 'Change the parameter the message names.'}`,
			};
		}
		case 409:
			return {
				message: `${said ?? 'The job has ended already'}`,
				description: `${where} The job had ended before the cancel: nothing was stopped. Bulk Job → Get gives its result.`,
			};
		default:
			return {
				message: `The worker answered HTTP ${statusCode}${said ? `: ${said}` : ''}`,
				description: `${where} ${statusCode >= 500 ? 'The worker failed (its log says why; e.g. Redis unreachable): try again later.' : 'See the message.'}${
					call.startsWork && statusCode >= 500
						? ' The job may have been queued all the same: look for it with Bulk Job → Get Many before running this item again.'
						: ''
				}`,
			};
	}
}

function answerError(node: INode, baseUrl: string, call: WorkerCall, response: IN8nHttpFullResponse, itemIndex: number): NodeApiError {
	return apiError(node, call, response, itemIndex, explainAnswer(baseUrl, call, response.statusCode, response.body));
}

function apiError(node: INode, call: WorkerCall, response: IN8nHttpFullResponse, itemIndex: number, explained: Explained): NodeApiError {
	const envelope = errorEnvelope(response.body);
	const said = isJsonReply(response.body) ? (response.body as { message?: unknown }).message : undefined;
	// Only the worker's own error body goes into the error: never the request, nor the token.
	const error = new NodeApiError(node, { ...(envelope ?? {}), ...(typeof said === 'string' ? { message: said } : {}) } as JsonObject, {
		message: explained.message,
		description: explained.description,
		httpCode: String(response.statusCode),
		itemIndex,
	});
	// n8n replaces some messages by its generic text for the status; keep ours, which says what to do.
	error.message = explained.message;
	if (envelope?.error) error.context.errorCode = envelope.error;
	return error;
}

/** Network errors where the connection was never made: nothing reached the worker. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

function unreachableError(node: INode, baseUrl: string, call: WorkerCall, code: string, itemIndex: number): NodeApiError {
	const lost = call.startsWork === true && !NOT_SENT_CODES.has(code);
	const message = lost ? `The worker's answer to ${call.method} ${call.path} was lost (${code})` : `The worker could not be reached at ${baseUrl} (${code})`;
	const error = new NodeApiError(node, {} as JsonObject, {
		message,
		description: lost
			? 'The job may have been queued all the same: look for it with Bulk Job → Get Many before running this item again, or it may run twice.'
			: "Check the Worker URL of the Keycrate Worker API credential and that the worker's ingest role is running.",
		itemIndex,
	});
	error.message = message;
	error.context.networkCode = code;
	return error;
}
