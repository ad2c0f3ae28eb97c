import type { IDataObject, IPollFunctions } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { LIMITS } from '../contract';
import { collectPages } from '../helpers/pagination';
import { keycrateRequest } from '../transport/request';

type License = components['schemas']['License'];
type GetBulkRequest = components['schemas']['LicenseGetBulkRequest'];

const DAY_MS = 86_400_000;

/** Walks get-bulk pages in the given order until `keepGoing` says stop (or the pages end). */
async function walkLicenses(
	context: IPollFunctions,
	query: Omit<GetBulkRequest, 'page' | 'per_page'>,
	keepGoing: (license: License) => boolean,
): Promise<License[]> {
	const walked: License[] = [];
	for (let page = 1; ; page++) {
		const { data, pagination } = await keycrateRequest(context, 'licenseGetBulk', {
			...query,
			page,
			per_page: LIMITS.maxPerPage,
		});
		for (const license of data) {
			if (!keepGoing(license)) return walked;
			walked.push(license);
		}
		if (!pagination.has_more || data.length === 0) return walked;
	}
}

/**
 * Licenses created since the last poll, oldest first. The node's static data keeps the newest
 * created_at seen and the keys created at that instant, so ties and paging overlaps are not
 * reported twice. The first poll of an active workflow only sets that mark.
 */
export async function pollNewLicenses(
	context: IPollFunctions,
	appId: string,
	state: IDataObject,
): Promise<License[]> {
	const byNewest = { app_id: appId, sort_field: 'created_at', sort_order: 'desc' } as const;
	if (context.getMode() === 'manual') {
		// A sample for the editor: the newest license, without moving the mark.
		return await collectPages({ returnAll: false, limit: 1, pageSize: 1 }, async (page, perPage) =>
			await keycrateRequest(context, 'licenseGetBulk', { ...byNewest, page, per_page: perPage }),
		);
	}

	const mark = typeof state.createdAt === 'string' ? Date.parse(state.createdAt) : undefined;
	const seenAtMark = new Set((state.keysAtCreatedAt as string[] | undefined) ?? []);
	if (mark === undefined) {
		// Licenses that exist at activation are not news: mark the newest of them (or the epoch).
		const { data } = await keycrateRequest(context, 'licenseGetBulk', {
			...byNewest,
			page: 1,
			per_page: LIMITS.maxPerPage,
		});
		remember(state, data, new Date(0).toISOString());
		return [];
	}

	const fresh = new Map<string, License>();
	await walkLicenses(context, byNewest, (license) => {
		const createdAt = Date.parse(license.created_at);
		if (createdAt < mark) return false;
		if (!(createdAt === mark && seenAtMark.has(license.license_key))) fresh.set(license.license_key, license);
		return true;
	});
	const newestFirst = [...fresh.values()];
	if (newestFirst.length > 0) {
		const keepSeen = Date.parse(newestFirst[0].created_at) === mark ? [...seenAtMark] : [];
		remember(state, newestFirst, undefined, keepSeen);
	}
	return newestFirst.reverse();
}

function remember(state: IDataObject, newestFirst: License[], fallback?: string, alsoSeen: string[] = []): void {
	const createdAt = newestFirst[0]?.created_at ?? fallback;
	state.createdAt = createdAt;
	state.keysAtCreatedAt = [
		...alsoSeen,
		...newestFirst.filter((license) => license.created_at === createdAt).map((license) => license.license_key),
	];
}

/**
 * Active licenses whose expiry is within `withinDays`, each reported once per expiry: the static
 * data keeps key → expires_at of what was reported, so an extended license is reported again when
 * its new expiry comes near.
 */
export async function pollExpiringLicenses(
	context: IPollFunctions,
	appId: string,
	withinDays: number,
	state: IDataObject,
	nowMs: number,
): Promise<License[]> {
	const horizon = nowMs + withinDays * DAY_MS;
	const reported = { ...((state.reported as Record<string, string> | undefined) ?? {}) };
	const due: License[] = [];
	await walkLicenses(
		context,
		{ app_id: appId, status: 'active', sort_field: 'expires_at', sort_order: 'asc' },
		(license) => {
			if (license.expires_at === null) return true;
			const expiresAt = Date.parse(license.expires_at);
			if (expiresAt > horizon) return false;
			if (expiresAt > nowMs && reported[license.license_key] !== license.expires_at) due.push(license);
			return true;
		},
	);
	for (const [key, expiresAt] of Object.entries(reported)) {
		if (Date.parse(expiresAt) <= nowMs) delete reported[key];
	}
	if (context.getMode() !== 'manual') {
		for (const license of due) reported[license.license_key] = license.expires_at as string;
		state.reported = reported;
	}
	return due;
}
