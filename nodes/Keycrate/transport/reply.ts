/**
 * Tolerant reading of Keycrate's replies. Keycrate's response shapes are not published (the
 * contract infers them), so the node accepts a reply with or without a `data` wrapper and with or
 * without `pagination`, keeps fields it does not know, and treats an error envelope as an error
 * whatever the HTTP status. Pure functions: no I/O.
 */

/** A reply body that is not JSON arrives as a string (n8n parses JSON when it can). */
export function isJsonReply(body: unknown): boolean {
	return typeof body === 'object' && body !== null;
}

/** Keycrate's error envelope `{error, error_code}`; an `error` string alone counts too. */
export function errorEnvelope(body: unknown): { error: string; error_code?: string; field?: string } | undefined {
	if (!isJsonReply(body) || Array.isArray(body)) return undefined;
	const { error, error_code: errorCode, field } = body as Record<string, unknown>;
	if (typeof error !== 'string' || error === '') return undefined;
	return {
		error,
		...(typeof errorCode === 'string' ? { error_code: errorCode } : {}),
		...(typeof field === 'string' ? { field } : {}),
	};
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object a single-item call answered: `{data: {...}}` or the bare object. */
export function unwrapOne(body: unknown): Record<string, unknown> {
	if (!isObject(body)) return {};
	return isObject(body.data) ? body.data : body;
}

export interface PageReading {
	items: Array<Record<string, unknown>>;
	/** What the reply says about further pages; undefined when it says nothing usable. */
	hasMore: boolean | undefined;
}

/**
 * The items of a list reply: a bare array, `{data: [...]}`, the one array-valued field of an
 * object (e.g. `{licenses: [...]}`), or either inside `data`; and whether more pages follow, from `pagination.has_more`,
 * or `page`/`total_pages`, when present.
 */
export function readPage(body: unknown): PageReading {
	let list: unknown[] = [];
	let envelope: Record<string, unknown> = {};
	if (Array.isArray(body)) list = body;
	else if (isObject(body)) {
		envelope = body;
		if (Array.isArray(body.data)) list = body.data;
		else if (isObject(body.data)) {
			// {data: {licenses: [...], pagination}}: one level down.
			const inner = readPage(body.data);
			return { items: inner.items, hasMore: readHasMore(body) ?? inner.hasMore };
		} else {
			const arrays = Object.values(body).filter((value): value is unknown[] => Array.isArray(value));
			if (arrays.length === 1) list = arrays[0];
		}
	}
	return { items: list.filter(isObject), hasMore: readHasMore(envelope) };
}

function readHasMore(envelope: Record<string, unknown>): boolean | undefined {
	const pagination = isObject(envelope.pagination) ? envelope.pagination : envelope;
	if (typeof pagination.has_more === 'boolean') return pagination.has_more;
	const page = Number(pagination.page);
	const totalPages = Number(pagination.total_pages);
	if (Number.isInteger(page) && Number.isInteger(totalPages) && pagination.total_pages !== null) return page < totalPages;
	return undefined;
}

/**
 * Whether to ask for the next page: never after a page with nothing new (an empty page, or a
 * server that ignores `page` and repeats itself); else what the reply says; else only after a
 * full page (a short page is the last one).
 */
export function hasNextPage(reading: { itemCount: number; newItems: number; perPage: number; hasMore: boolean | undefined }): boolean {
	if (reading.newItems === 0) return false;
	if (reading.hasMore !== undefined) return reading.hasMore;
	return reading.itemCount >= reading.perPage;
}
