import { hasNextPage, readPage } from '../transport/reply';

/** How many results a Get Many wants: all of them, or up to `limit`; fetched `pageSize` at a time. */
export interface PagingRequest {
	returnAll: boolean;
	limit: number;
	pageSize: number;
}

export type Item = Record<string, unknown>;

/**
 * The one reader of Keycrate's list endpoints (Get Many, the subscription list, the trigger).
 * Asks for pages 1, 2, … of `perPage` and hands each page's new items to `onPage` until it
 * returns false or the pages end: when `pagination` says so, else at a short or empty page, or
 * a page with nothing new (a server that ignores `page`). Items are told apart by `keyOf`, so an
 * item seen twice (pages shifting under concurrent writes) is handed over once.
 */
export async function walkPages(
	fetchPage: (page: number, perPage: number) => Promise<unknown>,
	perPage: number,
	keyOf: (item: Item) => unknown,
	onPage: (items: Item[]) => boolean,
): Promise<void> {
	const seen = new Set<unknown>();
	for (let page = 1; ; page++) {
		const { items, hasMore } = readPage(await fetchPage(page, perPage));
		const fresh = items.filter((item) => {
			const key = keyOf(item) ?? JSON.stringify(item);
			if (seen.has(key)) return false;
			seen.add(key);
			return true;
		});
		if (fresh.length > 0 && !onPage(fresh)) return;
		if (!hasNextPage({ itemCount: items.length, newItems: fresh.length, perPage, hasMore })) return;
	}
}

/** Return All, or up to `limit` results without asking for a page more than needed. */
export async function collectPages(
	{ returnAll, limit, pageSize }: PagingRequest,
	keyOf: (item: Item) => unknown,
	fetchPage: (page: number, perPage: number) => Promise<unknown>,
): Promise<Item[]> {
	const perPage = returnAll ? pageSize : Math.min(pageSize, limit);
	const results: Item[] = [];
	await walkPages(fetchPage, perPage, keyOf, (items) => {
		results.push(...items);
		return returnAll || results.length < limit;
	});
	return returnAll ? results : results.slice(0, limit);
}

export const licenseKeyOf = (item: Item): unknown => item.license_key;
export const subscriptionIdOf = (item: Item): unknown => item.subscription_id;

/**
 * Watches whether a list asked for in `direction` order really comes back in it, over the values
 * `valueOf` gives (undefined values are ignored). A reader may stop early only while `trusted`.
 */
export class OrderWatch {
	private last: number | undefined;

	trusted = true;

	constructor(private readonly direction: 'asc' | 'desc') {}

	see(value: number | undefined): void {
		if (value === undefined || Number.isNaN(value)) return;
		if (this.last !== undefined && (this.direction === 'asc' ? value < this.last : value > this.last)) {
			this.trusted = false;
		}
		this.last = value;
	}
}
