import type { IExecuteFunctions } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { LIMITS } from '../contract';
import { invalidInput } from './input';

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

export function readPagingRequest(this: IExecuteFunctions, itemIndex: number): PagingRequest {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll ? Infinity : (this.getNodeParameter('limit', itemIndex, 50) as number);
	const pageSize = this.getNodeParameter('options.pageSize', itemIndex, LIMITS.maxPerPage) as number;
	if (!returnAll && (!Number.isInteger(limit) || limit < 1)) {
		throw invalidInput(this, itemIndex, `Limit must be a whole number of at least 1, got ${limit}`);
	}
	if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > LIMITS.maxPerPage) {
		throw invalidInput(
			this,
			itemIndex,
			`Page Size must be a whole number from 1 to ${LIMITS.maxPerPage}, got ${pageSize}`,
		);
	}
	return { returnAll, limit, pageSize };
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
