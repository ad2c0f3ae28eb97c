// The Keycrate Management API client of the worker: got over keep-alive agents, one timeout per call, and a
// retry policy that knows which calls may be re-sent.
//
// Retry rules, in-process and short (no wait over 1 s on the job path; longer waits are the job's backoff):
//   429 RATE_LIMITED           — refused, not applied: retried when Retry-After is at most 1 s, else thrown
//                                with retryAfterMs for the job's backoff.
//   refused connection         — nothing was sent: retried.
//   500 with an answer         — it may have been applied, but the answer settles it: reads and set-to-value
//                                writes are re-sent; create and extend are thrown (`ambiguous`), and the caller
//                                reads Keycrate before deciding (keycrate/execute.ts).
//   no answer (timeout, reset, 408/502/503/504)
//                              — it may still be applied later: reads are re-sent, every write is thrown and
//                                the caller retries the whole sync after the write must have settled.
//   other 4xx                  — permanent: the job fails at once.

import http from 'node:http';
import https from 'node:https';
import got, { RequestError, type Got } from 'got';
import type { components } from '../keycrate.js';
import { CONTRACT_LIMITS, type Config } from '../config.js';
import { KeycrateError, mayStillCommit, type KeycrateErrorCode } from './errors.js';
import { failureStatus, keycrateRequests, keycrateSeconds, secondsSince, statusLabel } from '../observe/metrics.js';

export { isKeycrateError, isPermanentKeycrateError, KeycrateError } from './errors.js';

type Schemas = components['schemas'];
export type KeycrateLicense = Schemas['License'];
export type LicenseCreateRequest = Schemas['LicenseCreateRequest'];
export type SettableStatus = Schemas['SettableStatus'];
export type LicenseCreateBulkRequest = Schemas['LicenseCreateBulkRequest'];
export type BulkItemResult = Schemas['BulkItemResult'];
/** get-bulk's filters (app, tier, status, tag): the inferred ones may be ignored, so callers check each license. */
export type LicenseListFilter = Pick<Schemas['LicenseGetBulkRequest'], 'app_id' | 'subscription_id' | 'status' | 'tag'>;
type ErrorEnvelope = Schemas['Error'];

/** In-process waits between attempts: short, so that a job never holds its slot long (the job backoff waits longer). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [50, 500];
/** A Retry-After longer than this goes to the job's backoff instead of an in-process wait. */
const MAX_IN_PROCESS_WAIT_MS = 1000;
const PAGE_SIZE = CONTRACT_LIMITS.maxPerPage;
/** A tag search that pages past this is a bug or an attack, not a seat. */
const MAX_PAGES = 1000;
/** Error connecting before any byte was sent: nothing can have been applied. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface KeycrateClientOptions {
	baseUrl: string;
	apiKey: string;
	appId: string;
	timeoutMs: number;
	/** Waits between attempts when no Retry-After is given; its length is the number of retries. */
	retryDelaysMs?: readonly number[];
	/** Injected in tests so that a retry schedule runs without waiting. */
	sleep?: (ms: number) => Promise<void>;
}

/** KEYCRATE_RATE_LIMIT spent for now (every process counted): nothing was sent; try again in a second. */
export function budgetSpent(): KeycrateError {
	return new KeycrateError({
		code: 'RATE_LIMITED',
		endpoint: '(KEYCRATE_RATE_LIMIT)',
		detail: 'the shared Keycrate request budget is spent for now',
		ambiguous: false,
		retryable: true,
		retryAfterMs: 1000,
	});
}

interface Endpoint {
	path: string;
	/**
	 * The contract's `x-keycrate-write-once`: sending it twice applies it twice (a new license, expiry + N), so it
	 * is never re-sent after a failure that may have applied. worker/test/contract-facts.test.ts keeps it equal.
	 */
	writeOnce: boolean;
}

export const ENDPOINTS = {
	create: { path: '/license/create', writeOnce: true },
	get: { path: '/license/get', writeOnce: false },
	getBulk: { path: '/license/get-bulk', writeOnce: false },
	extend: { path: '/license/extend', writeOnce: true },
	delete: { path: '/license/delete', writeOnce: false },
	updateMetadata: { path: '/license/update-metadata', writeOnce: false },
	updateStatus: { path: '/license/update-status', writeOnce: false },
	updateSubscription: { path: '/license/update-subscription', writeOnce: false },
	createBulk: { path: '/license/create-bulk', writeOnce: true },
	extendBulk: { path: '/license/extend-bulk', writeOnce: true },
	updateStatusBulk: { path: '/license/update-status-bulk', writeOnce: false },
	deleteBulk: { path: '/license/delete-bulk', writeOnce: false },
	toggleLockBulk: { path: '/hwid/toggle-lock-bulk', writeOnce: false },
} as const satisfies Record<string, Endpoint>;

/** Endpoints that change nothing: a late duplicate of them is harmless. */
const READ_ONLY: ReadonlySet<string> = new Set([ENDPOINTS.get.path, ENDPOINTS.getBulk.path]);

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class KeycrateClient {
	private readonly http: Got;
	private readonly agents: { http: http.Agent; https: https.Agent };
	private readonly retryDelaysMs: readonly number[];
	private readonly sleep: (ms: number) => Promise<void>;

	constructor(private readonly options: KeycrateClientOptions) {
		this.agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
		this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
		this.sleep = options.sleep ?? sleepFor;
		this.http = got.extend({
			headers: { 'x-api-key': options.apiKey, accept: 'application/json', 'user-agent': 'keycrate-stripe-sync-worker' },
			agent: this.agents,
			timeout: { request: options.timeoutMs },
			retry: { limit: 0 },
			throwHttpErrors: false,
			responseType: 'text',
		});
	}

	async createLicense(body: LicenseCreateRequest): Promise<KeycrateLicense> {
		return licenseOf(ENDPOINTS.create, await this.call(ENDPOINTS.create, body));
	}

	/** null when Keycrate answers LICENSE_NOT_FOUND (deleted by the seller, or never created). */
	async getLicense(licenseKey: string): Promise<KeycrateLicense | null> {
		try {
			return licenseOf(ENDPOINTS.get, await this.call(ENDPOINTS.get, { license_key: licenseKey }));
		} catch (error) {
			if (error instanceof KeycrateError && error.code === 'LICENSE_NOT_FOUND') return null;
			throw error;
		}
	}

	/** Adds `extendSeconds` to the current expiry. Not idempotent: never re-sent after an ambiguous failure. */
	async extendLicense(licenseKey: string, extendSeconds: number): Promise<KeycrateLicense> {
		const body = { license_key: licenseKey, extend_seconds: extendSeconds };
		return licenseOf(ENDPOINTS.extend, await this.call(ENDPOINTS.extend, body));
	}

	async updateStatus(licenseKey: string, status: SettableStatus): Promise<KeycrateLicense> {
		const body = { license_key: licenseKey, status };
		return licenseOf(ENDPOINTS.updateStatus, await this.call(ENDPOINTS.updateStatus, body));
	}

	/** null detaches the license from any tier. */
	async updateSubscription(licenseKey: string, subscriptionId: string | null): Promise<KeycrateLicense> {
		const body = { license_key: licenseKey, subscription_id: subscriptionId };
		return licenseOf(ENDPOINTS.updateSubscription, await this.call(ENDPOINTS.updateSubscription, body));
	}

	/**
	 * Every license of `appId` that carries `tag`, across all pages. Read tolerantly: with or without a `data`
	 * wrapper, and without `pagination` it reads on until a page comes back short.
	 */
	async findLicensesByTag(tag: string, appId = this.options.appId): Promise<unknown[]> {
		const found: unknown[] = [];
		for (let page = 1; page <= MAX_PAGES; page++) {
			const body = { app_id: appId, tag, page, per_page: PAGE_SIZE, sort_field: 'created_at', sort_order: 'asc' };
			const reply = pageOf(await this.call(ENDPOINTS.getBulk, body));
			found.push(...reply.items);
			const more = reply.hasMore ?? reply.items.length >= PAGE_SIZE;
			if (!more || reply.items.length === 0) return found;
		}
		throw new KeycrateError({
			code: 'BAD_RESPONSE',
			endpoint: ENDPOINTS.getBulk.path,
			detail: `more than ${MAX_PAGES} pages of licenses tagged ${tag}`,
			ambiguous: false,
			retryable: false,
		});
	}

	/** Creates up to max_batch licenses with the same settings. Write-once: never re-sent after an ambiguous failure. */
	async createLicensesBulk(body: LicenseCreateBulkRequest): Promise<KeycrateLicense[]> {
		const reply = await this.call(ENDPOINTS.createBulk, body);
		const list = pageOf(reply).items;
		return list.map((license) => licenseOf(ENDPOINTS.createBulk, license));
	}

	/** Adds `extendSeconds` to each key's current expiry. Write-once: never re-sent after an ambiguous failure. */
	async extendLicensesBulk(licenseKeys: string[], extendSeconds: number): Promise<BulkItemResult[]> {
		return bulkResultsOf(ENDPOINTS.extendBulk, await this.call(ENDPOINTS.extendBulk, { license_keys: licenseKeys, extend_seconds: extendSeconds }));
	}

	async updateStatusBulk(licenseKeys: string[], status: SettableStatus): Promise<BulkItemResult[]> {
		return bulkResultsOf(ENDPOINTS.updateStatusBulk, await this.call(ENDPOINTS.updateStatusBulk, { license_keys: licenseKeys, status }));
	}

	async deleteLicensesBulk(licenseKeys: string[]): Promise<BulkItemResult[]> {
		return bulkResultsOf(ENDPOINTS.deleteBulk, await this.call(ENDPOINTS.deleteBulk, { license_keys: licenseKeys }));
	}

	async toggleLockBulk(licenseKeys: string[], hwidLock: boolean): Promise<BulkItemResult[]> {
		return bulkResultsOf(ENDPOINTS.toggleLockBulk, await this.call(ENDPOINTS.toggleLockBulk, { license_keys: licenseKeys, hwid_lock: hwidLock }));
	}

	/** One page (1-based) of an app's licenses, oldest first; `more` when another page may follow. */
	async listLicensesPage(filter: LicenseListFilter, page: number): Promise<{ items: unknown[]; more: boolean }> {
		const body = { ...filter, page, per_page: PAGE_SIZE, sort_field: 'created_at', sort_order: 'asc' };
		const reply = pageOf(await this.call(ENDPOINTS.getBulk, body));
		return { items: reply.items, more: reply.items.length > 0 && (reply.hasMore ?? reply.items.length >= PAGE_SIZE) };
	}

	/** Deletes a license; one that is already gone counts as deleted. */
	async deleteLicense(licenseKey: string): Promise<void> {
		try {
			await this.call(ENDPOINTS.delete, { license_key: licenseKey });
		} catch (error) {
			if (error instanceof KeycrateError && error.code === 'LICENSE_NOT_FOUND') return;
			throw error;
		}
	}

	/** Replaces the license's metadata (a set-to-value write). */
	async updateMetadata(licenseKey: string, metadata: Record<string, unknown>): Promise<KeycrateLicense> {
		return licenseOf(ENDPOINTS.updateMetadata, await this.call(ENDPOINTS.updateMetadata, { license_key: licenseKey, metadata }));
	}

	/** Closes the keep-alive sockets. */
	close(): void {
		this.agents.http.destroy();
		this.agents.https.destroy();
	}

	/** Sends one call, retrying as the rules at the top of this file allow. Resolves to the parsed JSON body. */
	private async call(endpoint: Endpoint, body: object): Promise<unknown> {
		for (let attempt = 0; ; attempt++) {
			const outcome = await this.attempt(endpoint, body);
			if (!(outcome instanceof KeycrateError)) return outcome;
			const wait = outcome.retryAfterMs ?? this.retryDelaysMs[attempt];
			const answered = !mayStillCommit(outcome);
			const mayResend = outcome.retryable && (!outcome.ambiguous || READ_ONLY.has(endpoint.path) || (!endpoint.writeOnce && answered));
			if (!mayResend || attempt >= this.retryDelaysMs.length || wait > MAX_IN_PROCESS_WAIT_MS) throw outcome;
			await this.sleep(wait);
		}
	}

	private beforeRequest?: () => Promise<void>;

	/** Called before every request: the shared Keycrate request budget (KEYCRATE_RATE_LIMIT). */
	useBudget(acquire: () => Promise<void>): void {
		this.beforeRequest = acquire;
	}

	private async attempt(endpoint: Endpoint, body: object): Promise<unknown> {
		if (this.beforeRequest) {
			try {
				await this.beforeRequest();
			} catch (error) {
				if (error instanceof KeycrateError) return error;
				throw error;
			}
		}
		let response;
		// Metrics: every request sent (retries too), here only; a spent budget sent nothing and is not counted.
		const started = performance.now();
		try {
			response = await this.http.post(`${this.options.baseUrl}${endpoint.path}`, { json: body });
		} catch (error) {
			keycrateSeconds.observe({ endpoint: endpoint.path }, secondsSince(started));
			keycrateRequests.inc({ endpoint: endpoint.path, status: failureStatus(error instanceof RequestError ? error.code : undefined) });
			return this.networkError(endpoint, error);
		}
		keycrateSeconds.observe({ endpoint: endpoint.path }, secondsSince(started));
		keycrateRequests.inc({ endpoint: endpoint.path, status: statusLabel(response.statusCode) });
		const parsed = parseJson(response.body);
		if (response.statusCode >= 200 && response.statusCode < 300) {
			if (parsed === undefined) {
				// 2xx means it was done; we just cannot read what was done.
				return new KeycrateError({
					...badResponseInit(endpoint, 'a 2xx reply that is not JSON'),
					status: response.statusCode,
					ambiguous: true,
					retryable: true,
				});
			}
			const envelope = parsed as Partial<ErrorEnvelope> | null;
			// An error envelope under a 2xx status (a proxy, or a service that always answers 200) is still an error.
			if (typeof envelope?.error_code === 'string' && (parsed as { data?: unknown }).data === undefined) {
				const status = envelope.error_code === 'SERVER_ERROR' ? 500 : envelope.error_code === 'RATE_LIMITED' ? 429 : 400;
				return this.httpError(endpoint, status, envelope, undefined);
			}
			return parsed;
		}
		return this.httpError(endpoint, response.statusCode, parsed as Partial<ErrorEnvelope> | undefined, response.headers['retry-after']);
	}

	private httpError(endpoint: Endpoint, status: number, envelope: Partial<ErrorEnvelope> | undefined, retryAfter: string | undefined): KeycrateError {
		const code: KeycrateErrorCode =
			typeof envelope?.error_code === 'string' ? envelope.error_code : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'SERVER_ERROR' : 'BAD_RESPONSE';
		const detail = this.scrub(typeof envelope?.error === 'string' ? envelope.error : `HTTP ${status} without an error envelope`);
		const field = typeof envelope?.field === 'string' ? envelope.field : undefined;
		if (status === 429) {
			return new KeycrateError({
				code,
				endpoint: endpoint.path,
				status,
				detail,
				field,
				ambiguous: false,
				retryable: true,
				retryAfterMs: parseRetryAfter(retryAfter),
			});
		}
		if (status >= 500 || status === 408) {
			return new KeycrateError({ code, endpoint: endpoint.path, status, detail, field, ambiguous: true, retryable: true });
		}
		return new KeycrateError({ code, endpoint: endpoint.path, status, detail, field, ambiguous: false, retryable: false });
	}

	private networkError(endpoint: Endpoint, error: unknown): KeycrateError {
		const code = error instanceof RequestError ? error.code : undefined;
		const notSent = code !== undefined && NOT_SENT_CODES.has(code);
		// got's error carries the request options (with the API key header): keep only its code and message.
		const detail = this.scrub(error instanceof Error ? error.message : String(error));
		return new KeycrateError({
			code: notSent ? 'UNREACHABLE' : 'NETWORK_ERROR',
			endpoint: endpoint.path,
			detail: code === undefined ? detail : `${code}: ${detail}`,
			ambiguous: !notSent,
			retryable: true,
		});
	}

	private scrub(text: string): string {
		const short = text.length > 300 ? `${text.slice(0, 300)}…` : text;
		return this.options.apiKey === '' ? short : short.split(this.options.apiKey).join('[redacted]');
	}
}

export function createKeycrateClient(
	config: Pick<Config, 'keycrateApiUrl' | 'keycrateApiKey' | 'keycrateAppId' | 'keycrateTimeoutMs'>,
	overrides: Pick<KeycrateClientOptions, 'retryDelaysMs' | 'sleep'> = {},
): KeycrateClient {
	return new KeycrateClient({
		baseUrl: config.keycrateApiUrl.replace(/\/+$/, ''),
		apiKey: config.keycrateApiKey,
		appId: config.keycrateAppId,
		timeoutMs: config.keycrateTimeoutMs,
		...overrides,
	});
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
	if (value === undefined || value.trim() === '') return undefined;
	if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}

function badResponseInit(endpoint: Endpoint, detail: string) {
	return { code: 'BAD_RESPONSE' as const, endpoint: endpoint.path, detail };
}

function badResponse(endpoint: Endpoint, detail: string): KeycrateError {
	// The call succeeded (2xx); for a non-idempotent call it was applied, so a blind re-send would double it.
	return new KeycrateError({ ...badResponseInit(endpoint, detail), ambiguous: endpoint.writeOnce, retryable: true });
}

/** The license in a reply, with or without a `data` wrapper. */
function licenseOf(endpoint: Endpoint, reply: unknown): KeycrateLicense {
	const wrapped = (reply as { data?: unknown } | null)?.data;
	const license = (typeof wrapped === 'object' && wrapped !== null ? wrapped : reply) as { license_key?: unknown } | null;
	if (typeof license?.license_key !== 'string') throw badResponse(endpoint, 'no license in the reply');
	return license as KeycrateLicense;
}

/** The per-key results of a bulk call, with or without a `data` wrapper. */
function bulkResultsOf(endpoint: Endpoint, reply: unknown): BulkItemResult[] {
	const body = (reply as { data?: unknown } | null)?.data ?? reply;
	const results = (body as { results?: unknown } | null)?.results;
	if (!Array.isArray(results)) throw badResponse(endpoint, 'no per-key results in the reply');
	return results.filter((result): result is BulkItemResult => typeof (result as BulkItemResult | null)?.license_key === 'string');
}

/** A page of a list reply: `{data: [...], pagination?}` or a bare array; `hasMore` only when the reply says. */
function pageOf(reply: unknown): { items: unknown[]; hasMore?: boolean } {
	if (Array.isArray(reply)) return { items: reply };
	const page = reply as { data?: unknown; pagination?: { has_more?: unknown } } | null;
	if (!Array.isArray(page?.data)) throw badResponse(ENDPOINTS.getBulk, 'no list of licenses in the reply');
	const hasMore = page.pagination?.has_more;
	return typeof hasMore === 'boolean' ? { items: page.data, hasMore } : { items: page.data };
}
