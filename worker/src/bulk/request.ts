// Pure: a bulk job request (the admin API's BulkJobRequest, openapi/worker-admin.openapi.yaml, and the CLI's
// flags) validated into what the job runs, with errors that name the field and say what to give.

import { DURATION_UNITS, KEY_PATTERN, UUID } from '../config.js';
import type { DurationUnit } from '../model.js';

export const BULK_KINDS = ['create', 'extend', 'pause', 'activate', 'retier', 'lock', 'delete', 'export'] as const;
export type BulkKind = (typeof BULK_KINDS)[number];
export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** At most this many licenses in one create job, and keys in one list. */
export const MAX_JOB_SIZE = 1_000_000;
const LICENSE_STATUSES = ['active', 'paused', 'expired'] as const;
/** The contract allows 20 tags; a create chunk's own tag and the job's tag take two. */
const MAX_USER_TAGS = 18;
const METADATA_MAX_CHARS = 2000;

export interface BulkFilter {
	subscriptionId?: string;
	status?: (typeof LICENSE_STATUSES)[number];
	tag?: string;
}

/** The licenses a job acts on: these keys, or a filter over the app (resolved into a snapshot at start). */
export type Selection = { keys: string[] } | { filter: BulkFilter };

interface Common {
	appId: string;
	notifyUrl?: string;
}

export type BulkSpec =
	| (Common & {
			kind: 'create';
			count: number;
			durationUnit: DurationUnit;
			durationValue?: number;
			subscriptionId?: string;
			tags: string[];
			hwidLock?: boolean;
			keyPattern?: string;
			metadata?: Record<string, unknown>;
	  })
	| (Common & { kind: 'extend'; selection: Selection; seconds: number })
	| (Common & { kind: 'pause' | 'activate' | 'delete'; selection: Selection })
	| (Common & { kind: 'retier'; selection: Selection; subscriptionId: string | null })
	| (Common & { kind: 'lock'; selection: Selection; hwidLock: boolean })
	| (Common & { kind: 'export'; selection: Selection; format: ExportFormat });

export class BulkRequestError extends Error {
	constructor(
		readonly field: string,
		problem: string,
	) {
		super(`${field}: ${problem}`);
		this.name = 'BulkRequestError';
	}
}

const FIELDS = [
	'kind',
	'app_id',
	'count',
	'subscription_id',
	'duration_unit',
	'duration_value',
	'tags',
	'hwid_lock',
	'key_pattern',
	'metadata',
	'license_keys',
	'filter',
	'format',
	'notify_url',
	'dry_run',
];

/** Seconds per unit for an extend (months and years as Keycrate's fixed 30 and 365 days: see the README). */
export const UNIT_SECONDS: Record<Exclude<DurationUnit, 'lifetime'>, number> = {
	minutes: 60,
	hours: 3600,
	days: 86400,
	months: 30 * 86400,
	years: 365 * 86400,
};

function uuid(value: unknown, field: string): string {
	if (typeof value !== 'string' || !UUID.test(value)) throw new BulkRequestError(field, 'must be a Keycrate id (uuid)');
	return value;
}

function whole(value: unknown, field: string, min: number, max: number): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
		throw new BulkRequestError(field, `must be a whole number from ${min} to ${max}`);
	return value;
}

function boolean(value: unknown, field: string): boolean {
	if (typeof value !== 'boolean') throw new BulkRequestError(field, 'must be true or false');
	return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
	if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new BulkRequestError(field, `must be one of ${allowed.join(', ')}`);
	return value as T;
}

function tagsOf(value: unknown): string[] {
	if (value === undefined) return [];
	if (!Array.isArray(value) || value.length > MAX_USER_TAGS || !value.every((tag) => typeof tag === 'string' && tag.length > 0 && tag.length <= 64)) {
		throw new BulkRequestError('tags', `must be a list of at most ${MAX_USER_TAGS} non-empty tags of at most 64 characters`);
	}
	return [...new Set(value as string[])];
}

function selectionOf(body: Record<string, unknown>): Selection {
	const { license_keys: keys, filter } = body;
	if (keys !== undefined && filter !== undefined) throw new BulkRequestError('license_keys', 'give license_keys or filter, not both');
	if (keys !== undefined) {
		if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_JOB_SIZE || !keys.every((key) => typeof key === 'string' && key.trim() !== '')) {
			throw new BulkRequestError('license_keys', `must be a list of 1 to ${MAX_JOB_SIZE} license keys`);
		}
		return { keys: [...new Set((keys as string[]).map((key) => key.trim()))] };
	}
	if (filter === undefined) return { filter: {} };
	if (typeof filter !== 'object' || filter === null || Array.isArray(filter))
		throw new BulkRequestError('filter', 'must be an object of subscription_id, status and/or tag');
	const given = filter as Record<string, unknown>;
	for (const key of Object.keys(given))
		if (!['subscription_id', 'status', 'tag'].includes(key))
			throw new BulkRequestError(`filter.${key}`, 'is not a filter (use subscription_id, status or tag)');
	const result: BulkFilter = {};
	if (given.subscription_id !== undefined) result.subscriptionId = uuid(given.subscription_id, 'filter.subscription_id');
	if (given.status !== undefined) result.status = oneOf(given.status, 'filter.status', LICENSE_STATUSES);
	if (given.tag !== undefined) {
		if (typeof given.tag !== 'string' || given.tag === '' || given.tag.length > 64)
			throw new BulkRequestError('filter.tag', 'must be a tag of 1 to 64 characters');
		result.tag = given.tag;
	}
	return { filter: result };
}

function notifyUrlOf(value: unknown): string | undefined {
	if (value === undefined) return undefined;
	let url: URL;
	try {
		url = new URL(String(value));
	} catch {
		throw new BulkRequestError('notify_url', 'must be an absolute http(s) URL');
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BulkRequestError('notify_url', 'must use http or https');
	return url.toString();
}

/** Validates a request body (JSON); `dryRun` says whether it only asks what the job would do. */
export function parseBulkRequest(input: unknown): { spec: BulkSpec; dryRun: boolean } {
	if (typeof input !== 'object' || input === null || Array.isArray(input))
		throw new BulkRequestError(
			'body',
			'must be a JSON object such as {"kind": "extend", "app_id": "…", "filter": {…}, "duration_unit": "days", "duration_value": 30}',
		);
	const body = input as Record<string, unknown>;
	for (const key of Object.keys(body))
		if (!FIELDS.includes(key)) throw new BulkRequestError(key, `is not a field of a bulk job (allowed: ${FIELDS.join(', ')})`);
	const kind = oneOf(body.kind, 'kind', BULK_KINDS);
	const common: Common = { appId: uuid(body.app_id, 'app_id') };
	const notifyUrl = notifyUrlOf(body.notify_url);
	if (notifyUrl !== undefined) common.notifyUrl = notifyUrl;
	const dryRun = body.dry_run === undefined ? false : boolean(body.dry_run, 'dry_run');
	const unit = () => oneOf(body.duration_unit, 'duration_unit', DURATION_UNITS);
	let spec: BulkSpec;
	switch (kind) {
		case 'create': {
			if (body.license_keys !== undefined || body.filter !== undefined)
				throw new BulkRequestError('license_keys', 'a create job makes new licenses: give count, not a selection');
			const durationUnit = unit();
			const metadata = body.metadata;
			if (
				metadata !== undefined &&
				(typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || JSON.stringify(metadata).length > METADATA_MAX_CHARS)
			) {
				throw new BulkRequestError('metadata', `must be a JSON object of at most ${METADATA_MAX_CHARS} characters`);
			}
			if (body.key_pattern !== undefined && (typeof body.key_pattern !== 'string' || !KEY_PATTERN.test(body.key_pattern)))
				throw new BulkRequestError('key_pattern', 'must be 1-64 of A-Z a-z 0-9 _ - and *');
			spec = {
				kind,
				...common,
				count: whole(body.count, 'count', 1, MAX_JOB_SIZE),
				durationUnit,
				...(durationUnit === 'lifetime' ? {} : { durationValue: whole(body.duration_value, 'duration_value', 1, 100000) }),
				...(body.subscription_id !== undefined ? { subscriptionId: uuid(body.subscription_id, 'subscription_id') } : {}),
				tags: tagsOf(body.tags),
				...(body.hwid_lock !== undefined ? { hwidLock: boolean(body.hwid_lock, 'hwid_lock') } : {}),
				...(body.key_pattern !== undefined ? { keyPattern: body.key_pattern as string } : {}),
				...(metadata !== undefined ? { metadata: metadata as Record<string, unknown> } : {}),
			};
			break;
		}
		case 'extend': {
			const durationUnit = unit();
			if (durationUnit === 'lifetime') throw new BulkRequestError('duration_unit', 'an extend adds a duration: minutes, hours, days, months or years');
			spec = { kind, ...common, selection: selectionOf(body), seconds: whole(body.duration_value, 'duration_value', 1, 100000) * UNIT_SECONDS[durationUnit] };
			break;
		}
		case 'retier':
			if (body.subscription_id === undefined) throw new BulkRequestError('subscription_id', 'is required: the tier to move the licenses to (null: no tier)');
			spec = {
				kind,
				...common,
				selection: selectionOf(body),
				subscriptionId: body.subscription_id === null ? null : uuid(body.subscription_id, 'subscription_id'),
			};
			break;
		case 'lock':
			spec = { kind, ...common, selection: selectionOf(body), hwidLock: boolean(body.hwid_lock, 'hwid_lock') };
			break;
		case 'export':
			spec = { kind, ...common, selection: selectionOf(body), format: body.format === undefined ? 'csv' : oneOf(body.format, 'format', EXPORT_FORMATS) };
			break;
		default:
			spec = { kind, ...common, selection: selectionOf(body) };
	}
	return { spec, dryRun };
}
