import type { IDataObject, IPollFunctions } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { LIMITS } from '../contract';
import { collectPages, licenseKeyOf, OrderWatch, walkPages, type Item } from '../helpers/pagination';
import { keycrateRequest } from '../transport/request';

type GetBulkRequest = components['schemas']['LicenseGetBulkRequest'];

const DAY_MS = 86_400_000;

/** A date-time field of a license as epoch ms; undefined when absent or not a date. */
function timeOf(license: Item, field: 'created_at' | 'expires_at'): number | undefined {
	const value = license[field];
	if (typeof value !== 'string') return undefined;
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads get-bulk pages in the asked order. `onLicense` sees each license; after each page
 * `canStop` may end the walk, but only while the pages really come in the asked order: a server
 * that ignores sort_field (inferred, not published) is read to the end instead.
 */
async function walkLicenses(
	context: IPollFunctions,
	query: Omit<GetBulkRequest, 'page' | 'per_page'>,
	field: 'created_at' | 'expires_at',
	onLicense: (license: Item) => void,
	canStop: () => boolean,
): Promise<void> {
	const order = new OrderWatch(query.sort_order ?? 'desc');
	await walkPages(
		async (page, perPage) => await keycrateRequest(context, 'licenseGetBulk', { ...query, page, per_page: perPage }),
		LIMITS.maxPerPage,
		licenseKeyOf,
		(licenses) => {
			for (const license of licenses) {
				order.see(timeOf(license, field));
				onLicense(license);
			}
			return !(order.trusted && canStop());
		},
	);
}

/**
 * Licenses created since the last poll, oldest first. The node's static data keeps the newest
 * created_at seen and the keys created at that instant, so ties and paging overlaps are not
 * reported twice. The first poll of an active workflow only sets that mark.
 */
export async function pollNewLicenses(context: IPollFunctions, appId: string, state: IDataObject): Promise<Item[]> {
	const byNewest = { app_id: appId, sort_field: 'created_at', sort_order: 'desc' } as const;
	if (context.getMode() === 'manual') {
		// A sample for the editor: the newest license, without moving the mark.
		return await collectPages(
			{ returnAll: false, limit: 1, pageSize: 1 },
			licenseKeyOf,
			async (page, perPage) => await keycrateRequest(context, 'licenseGetBulk', { ...byNewest, page, per_page: perPage }),
		);
	}

	const storedMark = typeof state.createdAt === 'string' ? Date.parse(state.createdAt) : undefined;
	const activating = storedMark === undefined || Number.isNaN(storedMark);
	const mark = activating ? -Infinity : storedMark;
	const seenAtMark = new Set((state.keysAtCreatedAt as string[] | undefined) ?? []);
	const fresh: Item[] = [];
	let oldestOnPage = Infinity;
	await walkLicenses(
		context,
		byNewest,
		'created_at',
		(license) => {
			const createdAt = timeOf(license, 'created_at');
			if (createdAt === undefined) return;
			oldestOnPage = Math.min(oldestOnPage, createdAt);
			if (createdAt > mark || (createdAt === mark && !seenAtMark.has(String(license.license_key)))) {
				fresh.push(license);
			}
		},
		// Ordered newest first: at activation the first page holds the newest; later, stop at the mark.
		() => activating || oldestOnPage < mark,
	);
	const newestFirst = fresh.sort((a, b) => (timeOf(b, 'created_at') ?? 0) - (timeOf(a, 'created_at') ?? 0));
	if (newestFirst.length > 0) remember(state, newestFirst, Date.parse(String(newestFirst[0].created_at)) === mark ? [...seenAtMark] : []);
	else if (activating) remember(state, [], [], new Date(0).toISOString());
	return activating ? [] : newestFirst.reverse();
}

function remember(state: IDataObject, newestFirst: Item[], alsoSeen: string[], fallback?: string): void {
	const createdAt = (newestFirst[0]?.created_at as string | undefined) ?? fallback;
	state.createdAt = createdAt;
	state.keysAtCreatedAt = [...alsoSeen, ...newestFirst.filter((license) => license.created_at === createdAt).map((license) => String(license.license_key))];
}

/**
 * Whether a license is due for "License Expiring Soon": active, expiring after now and by the
 * horizon, and not yet reported for this expiry.
 */
export function isExpiringSoon(license: Item, nowMs: number, horizonMs: number, reported: Record<string, string>): boolean {
	const expiresAt = timeOf(license, 'expires_at');
	if (expiresAt === undefined || expiresAt <= nowMs || expiresAt > horizonMs) return false;
	// The status filter is sent too; checked here as well in case the server ignores it.
	if (license.status !== undefined && license.status !== 'active') return false;
	return reported[String(license.license_key)] !== license.expires_at;
}

/**
 * Active licenses whose expiry is within `withinDays`, each reported once per expiry: the static
 * data keeps key → expires_at of what was reported, so an extended license is reported again when
 * its new expiry comes near.
 */
export async function pollExpiringLicenses(context: IPollFunctions, appId: string, withinDays: number, state: IDataObject, nowMs: number): Promise<Item[]> {
	const horizon = nowMs + withinDays * DAY_MS;
	const reported = { ...((state.reported as Record<string, string> | undefined) ?? {}) };
	const due: Item[] = [];
	let latestSeen = -Infinity;
	await walkLicenses(
		context,
		{ app_id: appId, status: 'active', sort_field: 'expires_at', sort_order: 'asc' },
		'expires_at',
		(license) => {
			latestSeen = Math.max(latestSeen, timeOf(license, 'expires_at') ?? -Infinity);
			if (isExpiringSoon(license, nowMs, horizon, reported)) due.push(license);
		},
		() => latestSeen > horizon,
	);
	for (const [key, expiresAt] of Object.entries(reported)) {
		if (Date.parse(expiresAt) <= nowMs) delete reported[key];
	}
	if (context.getMode() !== 'manual') {
		for (const license of due) reported[String(license.license_key)] = String(license.expires_at);
		state.reported = reported;
	}
	return due.sort((a, b) => (timeOf(a, 'expires_at') ?? 0) - (timeOf(b, 'expires_at') ?? 0));
}
