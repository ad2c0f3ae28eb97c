// Every setting of the worker, read from the environment once, validated with errors that name the variable.
// Secrets are kept in the config object but never echoed: errors say what is wrong, not what was given.

import { readFileSync } from 'node:fs';
import type { DurationUnit, Plan, SettableStatus } from './model.js';
import { webhookSecretProblem } from './jobs/handoff.js';

export type Role = 'ingest' | 'process' | 'all';
export type LivemodeFilter = 'live' | 'test' | 'both';
/**
 * Which disputes pause a root's licenses: `chargeback` (default: a chargeback open or lost), `inquiry` (inquiries
 * too), `lost` (only a chargeback lost). Won, prevented and closed inquiries never do.
 */
export type DisputePauses = 'chargeback' | 'inquiry' | 'lost';
export const DISPUTE_PAUSES: readonly DisputePauses[] = ['chargeback', 'inquiry', 'lost'];

export interface Config {
	redisUrl: string;
	/** REDIS_CLUSTER=true: REDIS_URL names seed nodes of a Redis Cluster (comma-separated), reached with ioredis' Cluster. */
	redisCluster: boolean;
	/** BullMQ prefix; the `{…}` hash tag keeps every key of the worker in one Redis Cluster slot. */
	queuePrefix: string;
	keycrateApiUrl: string;
	keycrateApiKey: string;
	/** The app licenses are created in unless a plan names another (`keycrate_app_id`). */
	keycrateAppId: string;
	keycrateTimeoutMs: number;
	/** Keycrate requests per second shared by every process on this Redis (0 = no limit); bulk jobs fill at most 80%. */
	keycrateRateLimit: number;
	/**
	 * SETTLE: how long a Keycrate write that got no answer may still take to land (2 × KEYCRATE_TIMEOUT_MS). A
	 * sync that sent one, or was cut off mid-run, runs again only after this, then reads what it did.
	 */
	settleMs: number;
	stripeWebhookSecrets: string[];
	/** Accepted distance of a signature's timestamp from now, in the past and in the future. */
	stripeToleranceSeconds: number;
	stripeApiKey: string;
	stripeApiBase?: string;
	/** Stripe API requests per second, shared by every process on this Redis (0 = no limit). */
	stripeRateLimit: number;
	livemode: LivemodeFilter;
	plans: PlanMap;
	port: number;
	host: string;
	bodyLimitBytes: number;
	headersTimeoutMs: number;
	bodyTimeoutMs: number;
	workerConcurrency: number;
	/** Delays before each retry of a failed sync; its length + 1 is the number of attempts. */
	retryScheduleMs: number[];
	/** BullMQ job lock and stalled-job check: a job of a killed process runs again within about twice this. */
	jobLockMs: number;
	/** How long a stop waits for active jobs before leaving them for a retry. */
	shutdownTimeoutMs: number;
	/** A root that asks for more seats is not licensed; the reason is a dead letter. */
	maxSeatsPerRoot: number;
	graceSeconds: number;
	pastDueStatus: SettableStatus;
	disputePauses: DisputePauses;
	/** How far back a subscription's payments are read for chargebacks (card networks allow ~120 days). */
	disputeWindowDays: number;
	licenseTag: string;
	licenseWebhookUrl?: string;
	licenseWebhookSecret?: string;
	/** Keys per bulk chunk: the contract's max_batch unless the real service wants fewer. */
	bulkBatchSize: number;
	/** Bulk jobs one process runs at once. */
	bulkConcurrency: number;
	/** How long a bulk job's result (and its ledger) is kept after it ends. */
	bulkResultTtlSeconds: number;
	/** Sync and hand-off entries kept per root (HISTORY_MAX_ENTRIES; 0: no history). */
	historyMaxEntries: number;
	/** How long a root's history and an event's index entry live after their last write. */
	historyTtlSeconds: number;
	/** Where export jobs write their files. */
	exportDir: string;
	/** The admin API's and dashboard's bearer token; unset = neither exists. */
	adminToken?: string;
	/** Bearer token /metrics asks for; unset = /metrics is open like the probes (a private network). */
	metricsToken?: string;
	logLevel: string;
}

/** price id (or lookup_key) → plan. */
export type PlanMap = Record<string, Plan>;

export class ConfigError extends Error {
	constructor(
		readonly variable: string,
		problem: string,
	) {
		super(`${variable}: ${problem}`);
		this.name = 'ConfigError';
	}
}

type Env = Record<string, string | undefined>;

/** The contract's DurationUnit enum and KeyPattern (worker/test/contract-facts.test.ts compares them). */
export const DURATION_UNITS: readonly DurationUnit[] = ['minutes', 'hours', 'days', 'months', 'years', 'lifetime'];
export const KEY_PATTERN = /^[A-Za-z0-9_*-]{1,64}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whole decimal numbers only: `0x10`, `1e3`, `+5` and `5.0` are refused, not reinterpreted. */
export const WHOLE_NUMBER = /^[0-9]+$/;
/**
 * The contract's `info.x-keycrate-limits` the worker relies on (worker/test/contract-facts.test.ts keeps them equal
 * to openapi/).
 */
export const CONTRACT_LIMITS = { maxBatch: 1000, maxPerPage: 100, maxTags: 20 } as const;
/** 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h: a Keycrate or Stripe outage of up to ~45 hours heals itself. */
export const DEFAULT_RETRY_SCHEDULE = '10s,1m,5m,30m,2h,6h,12h,24h';

function text(env: Env, name: string): string | undefined {
	const value = env[name]?.trim();
	return value === '' ? undefined : value;
}

function required(env: Env, name: string, what: string): string {
	const value = text(env, name);
	if (value === undefined) throw new ConfigError(name, `is required (${what})`);
	return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = text(env, name);
	if (raw === undefined) return fallback;
	if (!WHOLE_NUMBER.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
	const value = Number(raw);
	if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
	return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
	const raw = text(env, name);
	if (raw === undefined) return fallback;
	if (!(allowed as readonly string[]).includes(raw)) {
		throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
	}
	return raw as T;
}

function httpUrl(env: Env, name: string, fallback?: string): string | undefined {
	const raw = text(env, name) ?? fallback;
	if (raw === undefined) return undefined;
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new ConfigError(name, 'must be an absolute http(s) URL');
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new ConfigError(name, `must use http or https, got ${url.protocol}`);
	}
	return raw.replace(/\/+$/, '');
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

/** `10s,1m,5m,2h` → milliseconds; each entry a whole number with a unit ms, s, m, h or d. */
export function parseRetrySchedule(raw: string, variable = 'RETRY_SCHEDULE'): number[] {
	const entries = raw.split(',').map((entry) => entry.trim());
	if (entries.length < 1 || entries.length > 30) throw new ConfigError(variable, 'must list 1 to 30 delays, e.g. 10s,1m,5m');
	return entries.map((entry) => {
		const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(entry);
		if (!match) throw new ConfigError(variable, `"${entry}" is not a delay: use a whole number and ms, s, m, h or d (e.g. 30s)`);
		return Number(match[1]) * UNIT_MS[match[2]];
	});
}

/** A plan entry's fields (plans.schema.json names the same; worker/test/deploy.test.ts keeps them equal). */
export const PLAN_FIELDS = ['app_id', 'subscription_id', 'duration_unit', 'duration_value', 'key_pattern', 'hwid_lock', 'tags'];

/**
 * Validates one plan entry; `where` names it in errors (e.g. `PLANS_FILE price_123` or `price p metadata`).
 * A duration is optional here: a subscription's expiry comes from its billing period; a one-off purchase
 * without one is refused where it is used (desired.ts).
 */
export function parsePlan(input: unknown, where: string): Plan {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		throw new Error(`${where}: must be an object such as {"duration_unit": "days", "duration_value": 30}`);
	}
	const entry = input as Record<string, unknown>;
	for (const key of Object.keys(entry)) {
		if (!PLAN_FIELDS.includes(key)) throw new Error(`${where}: unknown field "${key}" (allowed: ${PLAN_FIELDS.join(', ')})`);
	}
	const plan: Plan = {};
	const unit = entry.duration_unit;
	if (unit !== undefined) {
		if (typeof unit !== 'string' || !(DURATION_UNITS as readonly string[]).includes(unit)) {
			throw new Error(`${where}.duration_unit: must be one of ${DURATION_UNITS.join(', ')}`);
		}
		plan.durationUnit = unit as DurationUnit;
	}
	if (entry.duration_value !== undefined) {
		const raw = entry.duration_value;
		const value = typeof raw === 'string' && WHOLE_NUMBER.test(raw) ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
		if (!Number.isInteger(value) || value < 1 || value > 100000) {
			throw new Error(`${where}.duration_value: must be a whole decimal number from 1 to 100000`);
		}
		plan.durationValue = value;
	}
	if (plan.durationUnit !== undefined && plan.durationUnit !== 'lifetime' && plan.durationValue === undefined) {
		throw new Error(`${where}.duration_value: is required when duration_unit is ${plan.durationUnit}`);
	}
	if (plan.durationValue !== undefined && plan.durationUnit === undefined) {
		throw new Error(`${where}.duration_unit: is required with duration_value`);
	}
	for (const field of ['subscription_id', 'app_id'] as const) {
		const value = entry[field];
		if (value === undefined) continue;
		if (typeof value !== 'string' || !UUID.test(value)) throw new Error(`${where}.${field}: must be a Keycrate id (uuid)`);
		if (field === 'app_id') plan.appId = value;
		else plan.subscriptionId = value;
	}
	if (entry.key_pattern !== undefined) {
		if (typeof entry.key_pattern !== 'string' || !KEY_PATTERN.test(entry.key_pattern)) {
			throw new Error(`${where}.key_pattern: must be 1-64 of A-Z a-z 0-9 _ - and *`);
		}
		plan.keyPattern = entry.key_pattern;
	}
	if (entry.hwid_lock !== undefined) {
		const lock = entry.hwid_lock === 'true' ? true : entry.hwid_lock === 'false' ? false : entry.hwid_lock;
		if (typeof lock !== 'boolean') throw new Error(`${where}.hwid_lock: must be true or false`);
		plan.hwidLock = lock;
	}
	if (entry.tags !== undefined) {
		if (!Array.isArray(entry.tags) || !entry.tags.every((tag) => typeof tag === 'string' && tag.length > 0 && tag.length <= 64)) {
			throw new Error(`${where}.tags: must be a list of non-empty strings of at most 64 characters`);
		}
		plan.tags = entry.tags as string[];
	}
	if (Object.keys(plan).length === 0) throw new Error(`${where}: names nothing (give at least subscription_id or duration_unit)`);
	return plan;
}

/** PLANS_FILE: `{ "<price id or lookup_key>": { "duration_unit": "days", "duration_value": 30, … } }` (plans.schema.json). */
export function loadPlans(path: string | undefined): PlanMap {
	if (path === undefined) return {};
	let raw: string;
	try {
		raw = readFileSync(path, 'utf8');
	} catch (error) {
		throw new ConfigError('PLANS_FILE', `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(raw);
	} catch (error) {
		throw new ConfigError('PLANS_FILE', `${path} is not valid JSON (${(error as Error).message})`);
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new ConfigError('PLANS_FILE', 'must hold a JSON object of price id → plan');
	}
	const plans: PlanMap = {};
	for (const [priceId, entry] of Object.entries(parsed)) {
		// `"$schema": "./plans.schema.json"` lets an editor check the file; no price id starts with `$`.
		if (priceId === '$schema') continue;
		try {
			plans[priceId] = parsePlan(entry, priceId);
		} catch (error) {
			throw new ConfigError('PLANS_FILE', `entry ${(error as Error).message}`);
		}
	}
	return plans;
}

/** ADMIN_TOKEN, METRICS_TOKEN: long enough that guessing them is hopeless. */
function token(env: Env, name: 'ADMIN_TOKEN' | 'METRICS_TOKEN'): string | undefined {
	const value = text(env, name);
	if (value !== undefined && value.length < 24) throw new ConfigError(name, 'must be at least 24 characters (e.g. openssl rand -hex 24)');
	return value;
}

/** Reads the whole configuration; `role` decides which secrets are required ('inspect': none, admin commands). */
export function loadConfig(env: Env, role: Role | 'inspect'): Config {
	const processes = role === 'process' || role === 'all';
	const ingests = role === 'ingest' || role === 'all';

	const keycrateApiKey = processes ? required(env, 'KEYCRATE_API_KEY', 'the Keycrate API key, kc_…') : (text(env, 'KEYCRATE_API_KEY') ?? '');
	if (processes && !keycrateApiKey.startsWith('kc_')) {
		throw new ConfigError('KEYCRATE_API_KEY', 'must start with kc_ (a Keycrate API key)');
	}
	const keycrateAppId = processes ? required(env, 'KEYCRATE_APP_ID', 'the Keycrate app id licenses are created in') : (text(env, 'KEYCRATE_APP_ID') ?? '');
	if (processes && !UUID.test(keycrateAppId)) throw new ConfigError('KEYCRATE_APP_ID', 'must be a uuid');

	// The sync job reads every root's current state from Stripe: no key, no licenses.
	const stripeApiKey = processes
		? required(env, 'STRIPE_API_KEY', 'a Stripe secret or restricted key with read access, sk_… or rk_…')
		: (text(env, 'STRIPE_API_KEY') ?? '');
	if (stripeApiKey !== '' && !/^(sk|rk)_(live|test)_/.test(stripeApiKey)) {
		throw new ConfigError('STRIPE_API_KEY', 'must be a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_live_…, rk_test_…)');
	}

	const secrets = (text(env, 'STRIPE_WEBHOOK_SECRETS') ?? '')
		.split(',')
		.map((secret) => secret.trim())
		.filter((secret) => secret !== '');
	if (ingests && secrets.length === 0) {
		throw new ConfigError('STRIPE_WEBHOOK_SECRETS', 'is required (comma-separated whsec_… signing secrets)');
	}
	secrets.forEach((secret, index) => {
		if (!secret.startsWith('whsec_')) {
			throw new ConfigError('STRIPE_WEBHOOK_SECRETS', `entry ${index + 1} must start with whsec_`);
		}
	});

	const queuePrefix = text(env, 'QUEUE_PREFIX') ?? '{keycrate}';
	if (!/^\{[^{}]+\}/.test(queuePrefix) && queuePrefix.includes('{')) {
		throw new ConfigError('QUEUE_PREFIX', 'a hash tag must open the prefix, e.g. {keycrate}');
	}

	const licenseWebhookUrl = httpUrl(env, 'LICENSE_WEBHOOK_URL');
	const licenseWebhookSecret = text(env, 'LICENSE_WEBHOOK_SECRET');
	if (licenseWebhookUrl !== undefined && licenseWebhookSecret === undefined) {
		throw new ConfigError('LICENSE_WEBHOOK_SECRET', 'is required when LICENSE_WEBHOOK_URL is set (signs the hand-off)');
	}
	const secretProblem = licenseWebhookSecret === undefined ? undefined : webhookSecretProblem(licenseWebhookSecret);
	if (secretProblem !== undefined) throw new ConfigError('LICENSE_WEBHOOK_SECRET', secretProblem);

	const redisUrl = text(env, 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
	const redisCluster = oneOf(env, 'REDIS_CLUSTER', ['true', 'false'] as const, 'false') === 'true';
	const redisNodes = redisUrl.split(',').map((node) => node.trim());
	if (redisNodes.some((node) => !/^rediss?:\/\//.test(node))) throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
	if (redisNodes.length > 1 && !redisCluster) throw new ConfigError('REDIS_URL', 'names several nodes: set REDIS_CLUSTER=true for a Redis Cluster');
	// BullMQ's scripts touch several keys of a queue at once; a cluster runs a script only when all its keys
	// hash to one slot, which the {…} tag at the front of every key makes sure of.
	if (redisCluster && !/^\{[^{}]+\}/.test(queuePrefix)) {
		throw new ConfigError(
			'QUEUE_PREFIX',
			'on a Redis Cluster (REDIS_CLUSTER=true) the prefix must open with a hash tag, e.g. {keycrate}, so that every key of a queue is in one slot',
		);
	}

	const keycrateTimeoutMs = integer(env, 'KEYCRATE_TIMEOUT_MS', 10000, 100, 120000);
	return {
		redisUrl,
		redisCluster,
		queuePrefix,
		keycrateApiUrl: httpUrl(env, 'KEYCRATE_API_URL', 'https://api.keycrate.dev') as string,
		keycrateApiKey,
		keycrateAppId,
		keycrateTimeoutMs,
		keycrateRateLimit: integer(env, 'KEYCRATE_RATE_LIMIT', 0, 0, 100000),
		settleMs: 2 * keycrateTimeoutMs,
		stripeWebhookSecrets: secrets,
		stripeToleranceSeconds: integer(env, 'STRIPE_TOLERANCE_SECONDS', 300, 1, 3600),
		stripeApiKey,
		stripeApiBase: httpUrl(env, 'STRIPE_API_BASE'),
		stripeRateLimit: integer(env, 'STRIPE_RATE_LIMIT', 20, 0, 10000),
		livemode: oneOf(env, 'STRIPE_LIVEMODE', ['live', 'test', 'both'] as const, 'both'),
		plans: loadPlans(text(env, 'PLANS_FILE')),
		port: integer(env, 'PORT', 3000, 0, 65535),
		host: text(env, 'HOST') ?? '0.0.0.0',
		bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
		headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', 5000, 100, 120000),
		bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_MS', 10000, 100, 300000),
		workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 10, 1, 1000),
		retryScheduleMs: parseRetrySchedule(text(env, 'RETRY_SCHEDULE') ?? DEFAULT_RETRY_SCHEDULE),
		jobLockMs: integer(env, 'JOB_LOCK_MS', 15000, 1000, 600000),
		shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
		maxSeatsPerRoot: integer(env, 'MAX_SEATS_PER_ROOT', 100, 1, 100000),
		graceSeconds: integer(env, 'LICENSE_GRACE_SECONDS', 86400, 0, 90 * 86400),
		pastDueStatus: oneOf(env, 'PAST_DUE_STATUS', ['active', 'paused'] as const, 'active'),
		disputePauses: oneOf(env, 'DISPUTE_PAUSES', DISPUTE_PAUSES, 'chargeback'),
		disputeWindowDays: integer(env, 'DISPUTE_WINDOW_DAYS', 120, 1, 730),
		licenseTag: text(env, 'LICENSE_TAG') ?? 'stripe',
		licenseWebhookUrl,
		licenseWebhookSecret,
		bulkBatchSize: integer(env, 'BULK_BATCH_SIZE', CONTRACT_LIMITS.maxBatch, 1, CONTRACT_LIMITS.maxBatch),
		bulkConcurrency: integer(env, 'BULK_CONCURRENCY', 1, 1, 100),
		bulkResultTtlSeconds: integer(env, 'BULK_RESULT_TTL_SECONDS', 7 * 86400, 60, 365 * 86400),
		historyMaxEntries: integer(env, 'HISTORY_MAX_ENTRIES', 50, 0, 1000),
		historyTtlSeconds: integer(env, 'HISTORY_TTL_SECONDS', 30 * 86400, 60, 365 * 86400),
		exportDir: text(env, 'EXPORT_DIR') ?? './exports',
		adminToken: token(env, 'ADMIN_TOKEN'),
		metricsToken: token(env, 'METRICS_TOKEN'),
		logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
	};
}
