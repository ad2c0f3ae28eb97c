/** Shared by the contract tests: real HTTP to an in-process emulator, every reply validated against the contract. */
import { randomUUID } from 'node:crypto';
import { startEmulator, validateResponse, type ContractPath, type Emulator, type RequestOf, type Schemas, type SuccessOf } from '../../emulator/src';

export const OTHER_APP_ID = randomUUID();
export const OTHER_API_KEY = `kc_${randomUUID().replace(/-/g, '')}`;

/** Two apps with two keys, so that every test can reach for "another key's" resources. The server-side guard is
 * off so that a contract violation reaches the test as itself, not as a 500. */
export async function startTwoAppEmulator(): Promise<Emulator> {
	return startEmulator({
		apps: [
			{ app_id: randomUUID(), api_key: `kc_${randomUUID().replace(/-/g, '')}` },
			{ app_id: OTHER_APP_ID, api_key: OTHER_API_KEY },
		],
		validateResponses: false,
	});
}

export interface Reply<T> {
	status: number;
	body: T;
	headers: Headers;
}

export interface CallOptions {
	/** null sends no x-api-key header; undefined sends the first app's key. */
	apiKey?: string | null;
	/** Sent as the body instead of JSON.stringify(body). */
	rawBody?: string;
}

/** Every error code any test saw, so one test can check that all of them were produced. */
export const seenErrorCodes = new Set<string>();

export async function call(emulator: Emulator, path: ContractPath, body: unknown, options: CallOptions = {}): Promise<Reply<unknown>> {
	const headers: Record<string, string> = { 'content-type': 'application/json' };
	const apiKey = options.apiKey === undefined ? emulator.apiKey : options.apiKey;
	if (apiKey !== null) headers['x-api-key'] = apiKey;
	const response = await fetch(`${emulator.url}${path}`, { method: 'POST', headers, body: options.rawBody ?? JSON.stringify(body) });
	const json: unknown = await response.json();
	const violation = validateResponse(path, response.status, json);
	if (violation) {
		throw new Error(`${path} answered ${response.status} outside the contract at ${violation.field}: ${violation.message}\n${JSON.stringify(json)}`);
	}
	const errorCode = (json as { error_code?: string }).error_code;
	if (errorCode) seenErrorCodes.add(errorCode);
	return { status: response.status, body: json, headers: response.headers };
}

/** A call that must succeed; returns its typed 200 body. */
export async function ok<P extends ContractPath>(emulator: Emulator, path: P, body: RequestOf<P>, options?: CallOptions): Promise<SuccessOf<P>> {
	const reply = await call(emulator, path, body, options);
	if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
	return reply.body as SuccessOf<P>;
}

/** A call that must fail; returns the status and the error envelope. */
export async function refused(emulator: Emulator, path: ContractPath, body: unknown, options?: CallOptions): Promise<Reply<Schemas['Error']>> {
	const reply = await call(emulator, path, body, options);
	if (reply.status === 200) throw new Error(`${path} accepted ${JSON.stringify(body)}`);
	return reply as Reply<Schemas['Error']>;
}

export async function createLicense(
	emulator: Emulator,
	fields: Partial<RequestOf<'/license/create'>> = {},
	options?: CallOptions,
): Promise<Schemas['License']> {
	const body = await ok(emulator, '/license/create', { app_id: emulator.appId, duration_unit: 'days', duration_value: 30, ...fields }, options);
	return body.data;
}

export async function createSubscription(emulator: Emulator, fields: Partial<RequestOf<'/subscription/create'>> = {}): Promise<Schemas['Subscription']> {
	const body = await ok(emulator, '/subscription/create', { app_id: emulator.appId, name: 'Pro', level: 1, ...fields });
	return body.data;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
