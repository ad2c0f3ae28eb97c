import type { IExecuteFunctions, IHttpRequestOptions, ILoadOptionsFunctions, IN8nHttpFullResponse, INode, IPollFunctions, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { ENDPOINTS, WRITE_ONCE, type OperationId, type RequestBody } from './endpoints';
import { errorEnvelope, isJsonReply } from './reply';
import { decideRetry, retryDelayMs, waitBeforeRetry } from './retry';

type ErrorCode = components['schemas']['ErrorCode'];

export const CREDENTIAL_TYPE = 'keycrateApi';

export interface KeycrateCredentials {
	apiKey: string;
	baseUrl: string;
	appId?: string;
}

export type KeycrateContext = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

/** What a user can do about each error code; shown as the error's description. */
const HINTS: Record<ErrorCode, string> = {
	MISSING_AUTH: 'No API key reached Keycrate. Check the Keycrate API credential.',
	INVALID_API_KEY: 'Keycrate does not know this API key. Check the Keycrate API credential.',
	ACCESS_DENIED: 'The API key may not touch this app, license or subscription, or an HWID reset is not allowed yet.',
	APP_NOT_FOUND: 'Check the App ID (or the default App ID of the credential).',
	LICENSE_NOT_FOUND: 'Check the license key.',
	SUBSCRIPTION_NOT_FOUND: 'Check the subscription ID.',
	INVALID_INPUT: 'Keycrate refused a field of the request.',
	RATE_LIMITED: 'Keycrate kept rate-limiting the requests. Try a smaller batch size or fewer items per run.',
	SERVER_ERROR: 'Keycrate failed to process the request.',
};

/**
 * POSTs one Keycrate operation through n8n's authenticated request helper and returns the reply
 * body as sent (read it with reply.ts). Rate limits (429) and connections never made are retried
 * after 1 s, 4 s and 10 s (or Retry-After); server errors and lost answers too, except for
 * write-once calls (WRITE_ONCE), which fail saying they may have been applied. Any failure becomes
 * a NodeApiError carrying Keycrate's `error` and `error_code`; a 2xx that carries Keycrate's error
 * envelope, or that is not JSON, is a failure too.
 */
export async function keycrateRequest<Op extends OperationId>(
	context: KeycrateContext,
	operation: Op,
	body: RequestBody<Op>,
	itemIndex?: number,
): Promise<unknown> {
	return await keycratePost(context, ENDPOINTS[operation], body, WRITE_ONCE.has(operation), itemIndex);
}

/** keycrateRequest for any path (Custom API Call): the policy of the known endpoint, else write-once. */
export async function keycratePost(context: KeycrateContext, path: string, body: object, writeOnce: boolean, itemIndex?: number): Promise<unknown> {
	const { baseUrl } = await context.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE);
	const call: CallInfo = { path, baseUrl: trimBaseUrl(baseUrl), writeOnce, itemIndex, retries: 0 };
	const options: IHttpRequestOptions = {
		method: 'POST',
		url: `${call.baseUrl}${path}`,
		body,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};

	for (; ; call.retries++) {
		let response: IN8nHttpFullResponse;
		try {
			response = (await context.helpers.httpRequestWithAuthentication.call(context, CREDENTIAL_TYPE, options)) as IN8nHttpFullResponse;
		} catch (error) {
			const code = findNetworkCode(error);
			if (code === undefined) throw asNodeError(context.getNode(), error, itemIndex);
			const decision = decideRetry({ kind: 'network', code }, writeOnce, call.retries);
			if (decision === 'retry') {
				call.earlierAttemptUnanswered ||= code !== 'ECONNREFUSED' && code !== 'EAI_AGAIN';
				await waitBeforeRetry(retryDelayMs(call.retries));
				continue;
			}
			throw unreachableError(context.getNode(), call, code, decision === 'fail-may-have-applied');
		}

		const { statusCode } = response;
		const envelope = errorEnvelope(response.body);
		if (statusCode >= 200 && statusCode < 300 && !envelope) {
			if (isJsonReply(response.body)) return response.body;
			// A write-once call answered 2xx but not in JSON: it may well have been applied.
			throw notJsonError(context.getNode(), call, response, writeOnce);
		}
		const decision = decideRetry({ kind: 'answered', statusCode }, writeOnce, call.retries);
		if (decision === 'retry') {
			call.earlierAttemptUnanswered ||= statusCode >= 500;
			await waitBeforeRetry(retryDelayMs(call.retries, response.headers['retry-after']));
			continue;
		}
		const unconfirmed = decision === 'fail-may-have-applied';
		if (!envelope && !isJsonReply(response.body)) throw notJsonError(context.getNode(), call, response, unconfirmed);
		throw keycrateApiError(context.getNode(), call, response, envelope, unconfirmed);
	}
}

/** A failure that is not a network error (e.g. a missing credential), as n8n expects it. */
function asNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(node, error as Error, { itemIndex });
}

interface CallInfo {
	path: string;
	baseUrl: string;
	writeOnce: boolean;
	itemIndex?: number;
	retries: number;
	/** A retried attempt ended in a 5xx or a lost answer: it may have been applied. */
	earlierAttemptUnanswered?: boolean;
}

export function trimBaseUrl(baseUrl: string): string {
	return String(baseUrl ?? '')
		.trim()
		.replace(/\/+$/, '');
}

const afterRetries = (call: CallInfo) => (call.retries > 0 ? ` after ${call.retries} retries` : '');

/**
 * What to check before running an unconfirmed write-once call again, per endpoint: the node never
 * re-sends it, because Keycrate has no idempotency key.
 */
const CHECK_BEFORE_RERUN: Record<string, string> = {
	'/license/create':
		'Before running this item again, look for the license in Keycrate (Get Many sorted by Created At, or filtered by a tag you set), or a second license may be created.',
	'/license/create-bulk':
		'Before running this item again, count the licenses in Keycrate (Get Many sorted by Created At, or filtered by a tag you set), or up to a whole batch may be created twice.',
	'/license/extend': "Before running this item again, read the license's expires_at (Get), or it may be extended twice.",
	'/license/extend-bulk': "Before running this item again, read the licenses' expires_at (Get or Get Many), or they may be extended twice.",
};

function mayHaveApplied(call: CallInfo): string {
	return `Keycrate may have applied this call; the node does not send it again. ${
		CHECK_BEFORE_RERUN[call.path] ?? 'Check in Keycrate whether it took effect before running this item again.'
	}`;
}

function keycrateApiError(
	node: INode,
	call: CallInfo,
	response: IN8nHttpFullResponse,
	keycrateError: ReturnType<typeof errorEnvelope>,
	unconfirmed: boolean,
): NodeApiError {
	const code = keycrateError?.error_code as ErrorCode | undefined;
	const message = keycrateError ? `${keycrateError.error}${code ? ` [${code}]` : ''}` : `Keycrate answered HTTP ${response.statusCode}`;
	const description = [
		unconfirmed ? mayHaveApplied(call) : code ? HINTS[code] : undefined,
		keycrateError?.field ? `Field: ${keycrateError.field}.` : undefined,
		`POST ${call.path} answered HTTP ${response.statusCode}${afterRetries(call)}.`,
		// e.g. a delete retried after a 5xx answers LICENSE_NOT_FOUND when the first attempt did delete.
		call.earlierAttemptUnanswered && response.statusCode < 500
			? 'An earlier attempt got a server error or no answer and may have been applied: this answer may be its result.'
			: undefined,
	]
		.filter(Boolean)
		.join(' ');
	// Only Keycrate's own error body goes into the error: never the request, which holds the key.
	const error = new NodeApiError(node, { ...(keycrateError ?? {}) } as JsonObject, {
		message,
		description,
		httpCode: String(response.statusCode),
		itemIndex: call.itemIndex,
	});
	if (code) error.context.errorCode = code;
	if (unconfirmed) error.context.mayHaveApplied = true;
	return error;
}

/** A reply that is not JSON: usually a Base URL that points at a web page or a proxy, not the API. */
function notJsonError(node: INode, call: CallInfo, response: IN8nHttpFullResponse, unconfirmed: boolean): NodeApiError {
	const contentType = String(response.headers?.['content-type'] ?? 'no content type').split(';')[0];
	const applied = unconfirmed ? ` ${mayHaveApplied(call)}` : '';
	const error = new NodeApiError(node, {} as JsonObject, {
		message: `The Base URL ${call.baseUrl} did not answer like the Keycrate API (HTTP ${response.statusCode}, ${contentType} instead of JSON)`,
		description: `POST ${call.path} got a reply that is not JSON${afterRetries(call)}. Check the Base URL of the Keycrate API credential: it should be the API's address, e.g. https://api.keycrate.dev, not a web page or a proxy's error page.${applied}`,
		httpCode: String(response.statusCode),
		itemIndex: call.itemIndex,
	});
	if (applied) error.context.mayHaveApplied = true;
	return error;
}

function unreachableError(node: INode, call: CallInfo, networkCode: string, unconfirmed: boolean): NodeApiError {
	const message = unconfirmed
		? `Keycrate's answer to POST ${call.path} was lost (${networkCode})`
		: `Keycrate could not be reached at ${call.baseUrl} (${networkCode})`;
	const error = new NodeApiError(node, {} as JsonObject, {
		message,
		description: unconfirmed
			? mayHaveApplied(call)
			: `POST ${call.path} got no HTTP answer${afterRetries(call)}. Check the Base URL of the Keycrate API credential and the network.`,
		itemIndex: call.itemIndex,
	});
	// n8n swaps a message naming a network code for its generic text; keep ours, which says what was affected.
	error.message = message;
	error.context.networkCode = networkCode;
	if (unconfirmed) error.context.mayHaveApplied = true;
	return error;
}

/**
 * The Node.js network error code (ECONNRESET, …) of a failed request: n8n's NodeApiError keeps it
 * as `httpCode`; a raw error has it as `code`, possibly down its cause chain.
 */
export function findNetworkCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
		const { code, httpCode, cause } = current as { code?: unknown; httpCode?: unknown; cause?: unknown };
		for (const candidate of [httpCode, code]) {
			if (typeof candidate === 'string' && /^E[A-Z_]+$/.test(candidate)) return candidate;
		}
		current = cause;
	}
	return undefined;
}
