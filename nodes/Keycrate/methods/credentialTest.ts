import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';

import { UUID_PATTERN } from '../contract';
import { errorEnvelope } from '../transport/reply';
import { trimBaseUrl, type KeycrateCredentials } from '../transport/request';

/** The nil UUID: any well-formed App ID lets Keycrate check the key when no default App ID is set. */
const PROBE_APP_ID = '00000000-0000-0000-0000-000000000000';

const PROBE_PATH = '/subscription/get-bulk';

export interface ProbeAnswer {
	statusCode: number;
	contentType: string;
	/** The reply as text. */
	body: string;
}

const ok = (): INodeCredentialTestResult => ({ status: 'OK', message: 'Connection successful' });
const error = (message: string): INodeCredentialTestResult => ({ status: 'Error', message });

/**
 * Judges the answer to the probe (subscription get-bulk, one tier): only a Keycrate JSON answer
 * passes. Says what it can tell apart (not JSON: wrong URL; key refused; rate limited; server
 * error) and quotes Keycrate's own message otherwise. Pure.
 */
export function judgeProbe(answer: ProbeAnswer, baseUrl: string, withDefaultAppId: boolean): INodeCredentialTestResult {
	const { statusCode } = answer;
	const contentType = answer.contentType.split(';')[0].trim() || 'no content type';
	let body: unknown;
	try {
		body = JSON.parse(answer.body);
	} catch {
		body = undefined;
	}
	if (typeof body !== 'object' || body === null) {
		return error(
			`${baseUrl} did not answer like the Keycrate API (HTTP ${statusCode}, ${contentType} instead of JSON). Check the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.`,
		);
	}
	if (statusCode === 429) {
		return error('Keycrate is rate-limiting requests (HTTP 429), so the API key could not be checked. Try again in a minute.');
	}
	if (statusCode >= 500) {
		return error(`Keycrate answered with a server error (HTTP ${statusCode}), so the API key could not be checked. Try again later.`);
	}
	const envelope = errorEnvelope(body);
	if (envelope) {
		switch (envelope.error_code) {
			case 'MISSING_AUTH':
				return error('Keycrate received no API key. Enter the API key (it starts with kc_).');
			case 'INVALID_API_KEY':
				return error('Keycrate refused the API key (INVALID_API_KEY). Check that it is a current Management API key.');
			case 'ACCESS_DENIED':
			case 'APP_NOT_FOUND':
				// Without a default App ID the probe asks for a made-up app: this answer means the key was accepted.
				if (!withDefaultAppId) return ok();
				return error(
					`Keycrate accepted the API key but refused the Default App ID: ${envelope.error} [${envelope.error_code}]`,
				);
			default:
				return error(
					`Keycrate refused the test request: ${envelope.error}${envelope.error_code ? ` [${envelope.error_code}]` : ''}`,
				);
		}
	}
	if (statusCode < 200 || statusCode >= 300) {
		return error(
			`${baseUrl} answered HTTP ${statusCode} without a Keycrate error. Check the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.`,
		);
	}
	const looksLikeKeycrate = Array.isArray(body) || Object.values(body).some((value) => Array.isArray(value));
	if (!looksLikeKeycrate) {
		return error(`${baseUrl} answered JSON that is not a Keycrate list of subscription tiers. Check the Base URL.`);
	}
	return ok();
}

/** The credential test n8n runs for "Test connection" (the nodes name it in testedBy). */
export async function keycrateApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = (credential.data ?? {}) as unknown as KeycrateCredentials;
	const baseUrl = trimBaseUrl(data.baseUrl);
	if (!/^https?:\/\/[^\s/]+/i.test(baseUrl)) {
		return error(`Base URL must start with http:// or https://, e.g. https://api.keycrate.dev`);
	}
	const defaultAppId = data.appId?.trim() ?? '';
	if (defaultAppId !== '' && !UUID_PATTERN.test(defaultAppId)) {
		return error(`The Default App ID must be a UUID or empty, got "${defaultAppId.slice(0, 60)}"`);
	}
	let answer: { statusCode: number; headers: Record<string, unknown>; body: unknown };
	try {
		// ICredentialTestFunctions offers no other request helper (n8n 1.x and 2.x).
		// eslint-disable-next-line @n8n/community-nodes/no-deprecated-workflow-functions
		answer = (await this.helpers.request({
			method: 'POST',
			uri: `${baseUrl}${PROBE_PATH}`,
			headers: { 'x-api-key': data.apiKey ?? '', 'content-type': 'application/json', accept: 'application/json' },
			body: JSON.stringify({ app_id: defaultAppId || PROBE_APP_ID, per_page: 1 }),
			json: false,
			resolveWithFullResponse: true,
			simple: false,
		})) as typeof answer;
	} catch (failure) {
		const code = (failure as { code?: unknown; cause?: { code?: unknown } }).code ?? (failure as { cause?: { code?: unknown } }).cause?.code;
		return error(`Could not reach ${baseUrl}${typeof code === 'string' ? ` (${code})` : ''}. Check the Base URL and the network.`);
	}
	return judgeProbe(
		{
			statusCode: answer.statusCode,
			contentType: String(answer.headers?.['content-type'] ?? ''),
			body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? null),
		},
		baseUrl,
		defaultAppId !== '',
	);
}
