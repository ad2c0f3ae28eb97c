import type {
	IExecuteFunctions,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	INode,
	IPollFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { ENDPOINTS, type OperationId, type RequestBody, type ResponseBody } from './endpoints';
import { RETRY_DELAYS_MS, isRetryableStatus, retryDelayMs, waitBeforeRetry } from './retry';

type ErrorCode = components['schemas']['ErrorCode'];
type KeycrateErrorBody = components['schemas']['Error'];

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
	ACCESS_DENIED:
		'The API key may not touch this app, license or subscription, or an HWID reset is not allowed yet.',
	APP_NOT_FOUND: 'Check the App ID (or the default App ID of the credential).',
	LICENSE_NOT_FOUND: 'Check the license key.',
	SUBSCRIPTION_NOT_FOUND: 'Check the subscription ID.',
	INVALID_INPUT: 'Keycrate refused a field of the request.',
	RATE_LIMITED: 'Keycrate kept rate-limiting the requests. Try a smaller batch size or fewer items per run.',
	SERVER_ERROR: 'Keycrate failed to process the request.',
};

/** Errors without an HTTP answer that a later attempt may not meet. */
const TRANSIENT_NETWORK_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * POSTs one Keycrate operation through n8n's authenticated request helper. Rate limits (429),
 * server errors (5xx) and dropped connections are retried after 1 s, 4 s and 10 s (or Retry-After);
 * any other failure becomes a NodeApiError carrying Keycrate's `error` and `error_code`.
 */
export async function keycrateRequest<Op extends OperationId>(
	context: KeycrateContext,
	operation: Op,
	body: RequestBody<Op>,
	itemIndex?: number,
): Promise<ResponseBody<Op>> {
	const { baseUrl } = await context.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE);
	const options: IHttpRequestOptions = {
		method: 'POST',
		url: `${baseUrl.replace(/\/+$/, '')}${ENDPOINTS[operation]}`,
		body,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};

	for (let retry = 0; ; retry++) {
		const mayRetry = retry < RETRY_DELAYS_MS.length;
		let response: IN8nHttpFullResponse;
		try {
			response = (await context.helpers.httpRequestWithAuthentication.call(
				context,
				CREDENTIAL_TYPE,
				options,
			)) as IN8nHttpFullResponse;
		} catch (error) {
			const networkCode = findNetworkCode(error);
			if (networkCode !== undefined && TRANSIENT_NETWORK_CODES.has(networkCode) && mayRetry) {
				await waitBeforeRetry(retryDelayMs(retry));
				continue;
			}
			throw unreachableError(context.getNode(), operation, networkCode, retry, itemIndex);
		}

		if (response.statusCode >= 200 && response.statusCode < 300) {
			return response.body as ResponseBody<Op>;
		}
		if (isRetryableStatus(response.statusCode) && mayRetry) {
			await waitBeforeRetry(retryDelayMs(retry, response.headers['retry-after']));
			continue;
		}
		throw keycrateApiError(context.getNode(), operation, response, retry, itemIndex);
	}
}

function isKeycrateErrorBody(body: unknown): body is KeycrateErrorBody {
	return (
		typeof body === 'object' &&
		body !== null &&
		typeof (body as KeycrateErrorBody).error === 'string' &&
		typeof (body as KeycrateErrorBody).error_code === 'string'
	);
}

function keycrateApiError(
	node: INode,
	operation: OperationId,
	response: IN8nHttpFullResponse,
	retries: number,
	itemIndex?: number,
): NodeApiError {
	const keycrateError = isKeycrateErrorBody(response.body) ? response.body : undefined;
	const request = `POST ${ENDPOINTS[operation]} answered HTTP ${response.statusCode}`;
	const message = keycrateError
		? `${keycrateError.error} [${keycrateError.error_code}]`
		: `Keycrate answered HTTP ${response.statusCode}`;
	const description = [
		keycrateError ? HINTS[keycrateError.error_code] : undefined,
		keycrateError?.field ? `Field: ${keycrateError.field}.` : undefined,
		`${request}${retries > 0 ? ` after ${retries} retries` : ''}.`,
	]
		.filter(Boolean)
		.join(' ');
	// Only Keycrate's own error body goes into the error: never the request, which holds the key.
	const error = new NodeApiError(node, { ...(keycrateError ?? {}) } as JsonObject, {
		message,
		description,
		httpCode: String(response.statusCode),
		itemIndex,
	});
	if (keycrateError) error.context.errorCode = keycrateError.error_code;
	return error;
}

function unreachableError(
	node: INode,
	operation: OperationId,
	networkCode: string | undefined,
	retries: number,
	itemIndex?: number,
): NodeApiError {
	const reason = networkCode ?? 'the request failed before an answer arrived';
	return new NodeApiError(node, { code: networkCode ?? null } as JsonObject, {
		message: `Keycrate could not be reached (${reason})`,
		description: `POST ${ENDPOINTS[operation]} got no HTTP answer${retries > 0 ? ` after ${retries} retries` : ''}. Check the Base URL of the Keycrate API credential and the network.`,
		itemIndex,
	});
}

/**
 * The Node.js network error code (ECONNRESET, …) of a failed request: n8n's NodeApiError keeps it
 * as `httpCode`; a raw error has it as `code`, possibly down its cause chain.
 */
function findNetworkCode(error: unknown): string | undefined {
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
