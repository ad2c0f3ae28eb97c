import type { components } from '../../../openapi/keycrate';

type Pagination = components['schemas']['Pagination'];

export interface Page<T> {
	data: T[];
	pagination: Pagination;
}

/** How many results getMany wants: all of them, or up to `limit`; fetched `pageSize` at a time. */
export interface PagingRequest {
	returnAll: boolean;
	limit: number;
	pageSize: number;
}

/**
 * Walks Keycrate's page envelope from page 1: until has_more is false for Return All, or until
 * `limit` results without asking for a page more than needed.
 */
export async function collectPages<T>(
	{ returnAll, limit, pageSize }: PagingRequest,
	fetchPage: (page: number, perPage: number) => Promise<Page<T>>,
): Promise<T[]> {
	const perPage = returnAll ? pageSize : Math.min(pageSize, limit);
	const results: T[] = [];
	for (let page = 1; ; page++) {
		const { data, pagination } = await fetchPage(page, perPage);
		results.push(...data);
		if (!returnAll && results.length >= limit) return results.slice(0, limit);
		if (!pagination.has_more || data.length === 0) return results;
	}
}
