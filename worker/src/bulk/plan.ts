// Pure: how a bulk job is cut into chunks and what settles a chunk whose call may have applied.
//
//   chunk i           keys i×batch … (i+1)×batch−1 of the snapshot (create: that many new licenses)
//   create chunk      tagged kcbulk:<job>:<i>, so a lost reply is settled by counting what carries the tag and
//                     creating only the rest
//   extend chunk      a target per key (the expiry read into the snapshot + the duration): a lost reply is
//                     settled by reading each key and extending only what is still below its target
//   set-to-value      pause, activate, lock, retier, delete: sending again has the effect of sending once
//   export            no Keycrate call: the snapshot holds the fields; a chunk rewrites its bytes from its offset

import type { LicenseListFilter } from '../keycrate/client.js';
import type { KeycrateLicense } from '../model.js';
import { readLicense } from '../keycrate/record.js';
import type { BulkKind, BulkSpec, Selection } from './request.js';

/** One license of a selection, as the snapshot keeps it (the export writes these fields). */
export interface SnapshotEntry {
	license_key: string;
	/** Unix seconds; null = lifetime; absent = the reply did not say. */
	expires_at?: number | null;
	status?: string;
	subscription_id?: string | null;
	hwid_lock?: boolean;
	created_at?: string;
	email?: string;
	customer?: string;
	tags?: string[];
}

/** A license as the snapshot keeps it; undefined when the reply has no key. */
export function entryOf(raw: unknown): SnapshotEntry | undefined {
	const found = readLicense(raw, '');
	if (found === undefined) return undefined;
	const license = raw as Partial<KeycrateLicense> & { hwid_lock?: unknown; tags?: unknown };
	const metadata = found.metadata;
	return {
		license_key: found.licenseKey,
		...(found.expiresAt !== undefined ? { expires_at: found.expiresAt } : {}),
		...(found.status !== undefined ? { status: found.status } : {}),
		...(found.tier !== undefined ? { subscription_id: found.tier } : {}),
		...(typeof license.hwid_lock === 'boolean' ? { hwid_lock: license.hwid_lock } : {}),
		...(found.createdAt !== undefined ? { created_at: found.createdAt } : {}),
		...(typeof metadata.stripe_email === 'string' ? { email: metadata.stripe_email } : typeof metadata.email === 'string' ? { email: metadata.email } : {}),
		...(typeof metadata.stripe_customer === 'string' ? { customer: metadata.stripe_customer } : {}),
		...(Array.isArray(license.tags) ? { tags: license.tags.filter((tag): tag is string => typeof tag === 'string') } : {}),
	};
}

/** The filter's conditions, checked on each license too: get-bulk's tier and tag filters are inferred. */
export function selects(entry: SnapshotEntry, selection: Selection): boolean {
	if (!('filter' in selection)) return true;
	const { subscriptionId, status, tag } = selection.filter;
	return (
		(subscriptionId === undefined || entry.subscription_id === subscriptionId) &&
		(status === undefined || entry.status === status) &&
		(tag === undefined || (entry.tags ?? []).includes(tag))
	);
}

/** get-bulk's filter for a selection over an app (a key list reads the whole app and keeps its keys). */
export function listFilter(appId: string, selection: Selection): LicenseListFilter {
	const filter = 'filter' in selection ? selection.filter : {};
	return {
		app_id: appId,
		...(filter.subscriptionId ? { subscription_id: filter.subscriptionId } : {}),
		...(filter.status ? { status: filter.status } : {}),
		...(filter.tag ? { tag: filter.tag } : {}),
	};
}

export function chunkCount(total: number, batch: number): number {
	return Math.ceil(total / batch);
}

/** The size of chunk `index` of `total` items. */
export function chunkSize(total: number, batch: number, index: number): number {
	return Math.max(0, Math.min(batch, total - index * batch));
}

export function jobTag(jobId: string): string {
	return `kcbulk:${jobId}`;
}

export function chunkTag(jobId: string, index: number): string {
	return `kcbulk:${jobId}:${index}`;
}

/** Keycrate calls one chunk makes when nothing goes wrong. */
export function callsPerChunk(kind: BulkKind, size: number): number {
	if (kind === 'export') return 0;
	if (kind === 'retier') return size; // no bulk endpoint: one update-subscription per key
	return 1;
}

/** What settling a chunk whose call may have applied costs, in calls (README). */
export function settleCalls(kind: BulkKind, size: number, perPage: number): number {
	if (kind === 'create') return Math.ceil(size / perPage) + 1; // count by the chunk's tag, then create the rest
	if (kind === 'extend') return size + 1; // read each key, then extend what is still short (usually one group)
	return callsPerChunk(kind, size); // set-to-value: sent again
}

/**
 * An extend chunk's keys grouped by what each still lacks to reach its target (the extend-bulk call takes one
 * number of seconds): keys at or past their target, lifetime keys and keys whose expiry is unknown need nothing.
 */
export function extendGroups(targets: ReadonlyMap<string, number>, expiries: ReadonlyMap<string, number | null | undefined>): Map<number, string[]> {
	const groups = new Map<number, string[]>();
	for (const [key, target] of targets) {
		const expiry = expiries.get(key);
		if (typeof expiry !== 'number' || expiry >= target) continue;
		const missing = target - expiry;
		groups.set(missing, [...(groups.get(missing) ?? []), key]);
	}
	return groups;
}

/** The total a job works through: licenses to create, or keys in its snapshot. */
export function jobTotal(spec: BulkSpec, snapshotSize: number): number {
	return spec.kind === 'create' ? spec.count : snapshotSize;
}

/** The export's header line (CSV) and one line per license. */
export const EXPORT_COLUMNS: (keyof SnapshotEntry)[] = [
	'license_key',
	'status',
	'expires_at',
	'subscription_id',
	'hwid_lock',
	'email',
	'customer',
	'created_at',
	'tags',
];

function csvCell(value: unknown): string {
	if (value === undefined || value === null) return '';
	const text = Array.isArray(value) ? value.join(' ') : typeof value === 'number' && value > 1e9 ? new Date(value * 1000).toISOString() : String(value);
	return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function exportLine(entry: SnapshotEntry, format: 'csv' | 'jsonl'): string {
	if (format === 'jsonl') {
		const { expires_at: expiresAt, ...rest } = entry;
		return `${JSON.stringify({ ...rest, expires_at: typeof expiresAt === 'number' ? new Date(expiresAt * 1000).toISOString() : (expiresAt ?? null) })}\n`;
	}
	return `${EXPORT_COLUMNS.map((column) => csvCell(entry[column])).join(',')}\n`;
}

export function exportHeader(format: 'csv' | 'jsonl'): string {
	return format === 'csv' ? `${EXPORT_COLUMNS.join(',')}\n` : '';
}
