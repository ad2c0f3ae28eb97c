// Every setting of the worker, read from the environment once, validated with errors that name the variable.
// Secrets are kept in the config object but never echoed: errors say what is wrong, not what was given.

import { readFileSync } from 'node:fs';
import type { DurationUnit, Plan, SettableStatus } from './model.js';

export type Role = 'ingest' | 'process' | 'all';
export type LivemodeFilter = 'live' | 'test' | 'both';

export interface Config {
	redisUrl: string;
	/** BullMQ prefix; the `{…}` hash tag keeps queue and ledger keys in one Redis Cluster slot. */
	queuePrefix: string;
	keycrateApiUrl: string;
	keycrateApiKey: string;
	keycrateAppId: string;
	/** Largest list per Keycrate bulk call (the contract's max_batch unless the real service differs). */
	keycrateMaxBatch: number;
	keycrateTimeoutMs: number;
	stripeWebhookSecrets: string[];
	stripeToleranceSeconds: number;
	stripeApiKey?: string;
	stripeApiBase?: string;
	livemode: LivemodeFilter;
	plans: PlanMap;
	port: number;
	host: string;
	bodyLimitBytes: number;
	workerConcurrency: number;
	jobAttempts: number;
	backoffBaseMs: number;
	/** BullMQ job lock; a job of a killed process is re-run once it lapses (stalled-job check at the same interval). */
	jobLockMs: number;
	/** Per-root lock; must outlast the settle time (2 × keycrateTimeoutMs) of an unanswered write. */
	rootLockMs: number;
	graceSeconds: number;
	pastDueStatus: SettableStatus;
	licenseTag: string;
	ledgerTtlSeconds: number;
	licenseWebhookUrl?: string;
	licenseWebhookSecret?: string;
	logLevel: string;
}

/** price id (or lookup_key) → plan. */
export type PlanMap = Record<string, Plan>;

export class ConfigError extends Error {
	constructor(readonly variable: string, problem: string) {
		super(`${variable}: ${problem}`);
		this.name = 'ConfigError';
	}
}

type Env = Record<string, string | undefined>;

/** The contract's DurationUnit enum and KeyPattern (worker/test/contract-facts.test.ts compares them). */
export const DURATION_UNITS: readonly DurationUnit[] = ['minutes', 'hours', 'days', 'months', 'years', 'lifetime'];
export const KEY_PATTERN = /^[A-Za-z0-9_*-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * The contract's `info.x-keycrate-limits` the worker relies on (worker/test/contract-facts.test.ts keeps them equal
 * to openapi/). KEYCRATE_MAX_BATCH overrides max_batch for a service that differs.
 */
export const CONTRACT_LIMITS = { maxBatch: 1000, maxPerPage: 100 } as const;

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
	if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
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

/** Validates one plan entry; `where` names it in errors (e.g. `PLANS_FILE price_123` or `metadata`). */
export function parsePlan(input: unknown, where: string): Plan {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		throw new Error(`${where}: must be an object with duration_unit (and duration_value unless lifetime)`);
	}
	const entry = input as Record<string, unknown>;
	const known = ['subscription_id', 'duration_unit', 'duration_value', 'key_pattern', 'hwid_lock', 'tags'];
	for (const key of Object.keys(entry)) {
		if (!known.includes(key)) throw new Error(`${where}: unknown field "${key}" (allowed: ${known.join(', ')})`);
	}
	const unit = entry.duration_unit;
	if (typeof unit !== 'string' || !(DURATION_UNITS as readonly string[]).includes(unit)) {
		throw new Error(`${where}.duration_unit: must be one of ${DURATION_UNITS.join(', ')}`);
	}
	const plan: Plan = { durationUnit: unit as DurationUnit };
	if (unit !== 'lifetime') {
		const value = typeof entry.duration_value === 'string' ? Number(entry.duration_value) : entry.duration_value;
		if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
			throw new Error(`${where}.duration_value: must be a whole number ≥ 1 when duration_unit is ${unit}`);
		}
		plan.durationValue = value;
	}
	if (entry.subscription_id !== undefined) {
		if (typeof entry.subscription_id !== 'string' || !UUID.test(entry.subscription_id)) {
			throw new Error(`${where}.subscription_id: must be a Keycrate subscription id (uuid)`);
		}
		plan.subscriptionId = entry.subscription_id;
	}
	if (entry.key_pattern !== undefined) {
		if (typeof entry.key_pattern !== 'string' || !KEY_PATTERN.test(entry.key_pattern)) {
			throw new Error(`${where}.key_pattern: must be 1-64 of A-Z a-z 0-9 _ - and *`);
		}
		plan.keyPattern = entry.key_pattern;
	}
	if (entry.hwid_lock !== undefined) {
		if (typeof entry.hwid_lock !== 'boolean') throw new Error(`${where}.hwid_lock: must be true or false`);
		plan.hwidLock = entry.hwid_lock;
	}
	if (entry.tags !== undefined) {
		if (!Array.isArray(entry.tags) || !entry.tags.every((tag) => typeof tag === 'string' && tag.length > 0)) {
			throw new Error(`${where}.tags: must be a list of non-empty strings`);
		}
		plan.tags = entry.tags as string[];
	}
	return plan;
}

/** PLANS_FILE: `{ "<price id or lookup_key>": { "duration_unit": "days", "duration_value": 30, … } }`. */
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
		try {
			plans[priceId] = parsePlan(entry, priceId);
		} catch (error) {
			throw new ConfigError('PLANS_FILE', `entry ${(error as Error).message}`);
		}
	}
	return plans;
}

/** Reads the whole configuration; `role` decides which secrets are required ('inspect': none, read-only commands). */
export function loadConfig(env: Env, role: Role | 'inspect'): Config {
	const processes = role === 'process' || role === 'all';
	const ingests = role === 'ingest' || role === 'all';

	const keycrateApiKey = processes
		? required(env, 'KEYCRATE_API_KEY', 'the Keycrate API key, kc_…')
		: (text(env, 'KEYCRATE_API_KEY') ?? '');
	if (processes && !keycrateApiKey.startsWith('kc_')) {
		throw new ConfigError('KEYCRATE_API_KEY', 'must start with kc_ (a Keycrate API key)');
	}
	const keycrateAppId = processes
		? required(env, 'KEYCRATE_APP_ID', 'the Keycrate app id the licenses belong to')
		: (text(env, 'KEYCRATE_APP_ID') ?? '');
	if (processes && !UUID.test(keycrateAppId)) throw new ConfigError('KEYCRATE_APP_ID', 'must be a uuid');

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

	const keycrateTimeoutMs = integer(env, 'KEYCRATE_TIMEOUT_MS', 10000, 100, 120000);
	const rootLockMs = integer(env, 'ROOT_LOCK_MS', 60000, 1000, 600000);
	if (rootLockMs <= 2 * keycrateTimeoutMs) {
		throw new ConfigError('ROOT_LOCK_MS', `must be more than 2 × KEYCRATE_TIMEOUT_MS (${2 * keycrateTimeoutMs}), got ${rootLockMs}`);
	}

	const redisUrl = text(env, 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
	if (!/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');

	return {
		redisUrl,
		queuePrefix,
		keycrateApiUrl: httpUrl(env, 'KEYCRATE_API_URL', 'https://api.keycrate.dev') as string,
		keycrateApiKey,
		keycrateAppId,
		keycrateMaxBatch: integer(env, 'KEYCRATE_MAX_BATCH', CONTRACT_LIMITS.maxBatch, 1, 100000),
		keycrateTimeoutMs,
		stripeWebhookSecrets: secrets,
		stripeToleranceSeconds: integer(env, 'STRIPE_TOLERANCE_SECONDS', 300, 1, 3600),
		stripeApiKey: text(env, 'STRIPE_API_KEY'),
		stripeApiBase: httpUrl(env, 'STRIPE_API_BASE'),
		livemode: oneOf(env, 'STRIPE_LIVEMODE', ['live', 'test', 'both'] as const, 'both'),
		plans: loadPlans(text(env, 'PLANS_FILE')),
		port: integer(env, 'PORT', 3000, 0, 65535),
		host: text(env, 'HOST') ?? '0.0.0.0',
		bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
		workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 10, 1, 1000),
		jobAttempts: integer(env, 'JOB_ATTEMPTS', 10, 1, 100),
		backoffBaseMs: integer(env, 'JOB_BACKOFF_MS', 1000, 1, 3600000),
		jobLockMs: integer(env, 'JOB_LOCK_MS', 30000, 1000, 600000),
		rootLockMs,
		graceSeconds: integer(env, 'LICENSE_GRACE_SECONDS', 86400, 0, 90 * 86400),
		pastDueStatus: oneOf(env, 'PAST_DUE_STATUS', ['active', 'paused'] as const, 'active'),
		licenseTag: text(env, 'LICENSE_TAG') ?? 'stripe',
		ledgerTtlSeconds: integer(env, 'LEDGER_TTL_DAYS', 35, 4, 3650) * 86400,
		licenseWebhookUrl,
		licenseWebhookSecret,
		logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
	};
}
