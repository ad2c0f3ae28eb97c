import { batchSizes, chunk } from '../../nodes/Keycrate/helpers/batches';
import { parseList } from '../../nodes/Keycrate/helpers/input';
import { collectPages, OrderWatch } from '../../nodes/Keycrate/helpers/pagination';
import { SIMPLE_LICENSE_FIELDS, simplifyLicense } from '../../nodes/Keycrate/helpers/simplify';
import { isExpiringSoon } from '../../nodes/Keycrate/trigger/poll';
import { errorEnvelope, hasNextPage, readPage, unwrapOne } from '../../nodes/Keycrate/transport/reply';
import { decideRetry, RETRY_DELAYS_MS, retryDelayMs } from '../../nodes/Keycrate/transport/retry';

describe('parseList', () => {
	it('splits on commas and new lines, trims, and drops empty entries', () => {
		expect(parseList(' A-1, B-2\nC-3,\r\n,D-4 ')).toEqual(['A-1', 'B-2', 'C-3', 'D-4']);
		expect(parseList('')).toEqual([]);
		expect(parseList(undefined)).toEqual([]);
	});

	it('takes arrays from expressions as they are', () => {
		expect(parseList(['A-1', ' B-2 ', '', 7])).toEqual(['A-1', 'B-2', '7']);
	});
});

describe('batching', () => {
	it('chunks a list into slices of at most the batch size', () => {
		expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
		expect(
			chunk(
				Array.from({ length: 2500 }, (_, i) => i),
				1000,
			).map((c) => c.length),
		).toEqual([1000, 1000, 500]);
		expect(chunk([], 10)).toEqual([]);
	});

	it('splits an amount into call sizes', () => {
		expect(batchSizes(2500, 1000)).toEqual([1000, 1000, 500]);
		expect(batchSizes(1000, 1000)).toEqual([1000]);
		expect(batchSizes(1, 1000)).toEqual([1]);
	});
});

describe('retry policy', () => {
	const answered = (statusCode: number) => ({ kind: 'answered' as const, statusCode });
	const network = (code: string | undefined) => ({ kind: 'network' as const, code });

	it('retries a rate limit and a connection never made for every call, while retries are left', () => {
		for (const writeOnce of [false, true]) {
			expect(decideRetry(answered(429), writeOnce, 0)).toBe('retry');
			expect(decideRetry(network('ECONNREFUSED'), writeOnce, 2)).toBe('retry');
			expect(decideRetry(answered(429), writeOnce, 3)).toBe('fail');
		}
	});

	it('retries a server error or a lost answer only for calls that may be sent twice', () => {
		const table: Array<[ReturnType<typeof answered> | ReturnType<typeof network>, string, string]> = [
			[answered(500), 'retry', 'fail-may-have-applied'],
			[answered(503), 'retry', 'fail-may-have-applied'],
			[network('ECONNRESET'), 'retry', 'fail-may-have-applied'],
			[network('ETIMEDOUT'), 'retry', 'fail-may-have-applied'],
			[network(undefined), 'retry', 'fail-may-have-applied'],
			[answered(400), 'fail', 'fail'],
			[answered(404), 'fail', 'fail'],
			[answered(200), 'fail', 'fail'], // a 2xx reaches decideRetry only with an error envelope
			[network('ENOTFOUND'), 'fail', 'fail'],
		];
		for (const [outcome, forReadsAndSets, forWriteOnce] of table) {
			expect([outcome, decideRetry(outcome, false, 0), decideRetry(outcome, true, 0)]).toEqual([outcome, forReadsAndSets, forWriteOnce]);
		}
		expect(decideRetry(answered(500), false, 3)).toBe('fail');
	});

	it('waits 1 s, 4 s, 10 s unless Retry-After says otherwise (capped at a minute)', () => {
		expect(RETRY_DELAYS_MS).toEqual([1000, 4000, 10000]);
		expect([0, 1, 2].map((retry) => retryDelayMs(retry))).toEqual([1000, 4000, 10000]);
		expect(retryDelayMs(0, '7')).toBe(7000);
		expect(retryDelayMs(2, '0')).toBe(0);
		expect(retryDelayMs(0, '3600')).toBe(60_000);
		expect(retryDelayMs(1, 'Wed, 21 Oct 2015 07:28:00 GMT')).toBe(4000);
		expect(retryDelayMs(1, '')).toBe(4000);
	});
});

describe('reading replies', () => {
	it('finds the items of a list with or without a data wrapper, keeping unknown fields', () => {
		const items = [{ license_key: 'A', extra: 1 }, { license_key: 'B' }];
		expect(readPage({ data: items, pagination: { has_more: true } })).toEqual({ items, hasMore: true });
		expect(readPage(items)).toEqual({ items, hasMore: undefined });
		expect(readPage({ licenses: items, count: 2 })).toEqual({ items, hasMore: undefined });
		expect(readPage({ data: items, pagination: { page: 2, total_pages: 2 } })).toEqual({ items, hasMore: false });
		expect(readPage({ data: items, has_more: false })).toEqual({ items, hasMore: false });
		expect(readPage({})).toEqual({ items: [], hasMore: undefined });
		expect(readPage({ data: { licenses: items, pagination: { has_more: true } } })).toEqual({ items, hasMore: true });
		expect(readPage({ data: { licenses: items }, pagination: { has_more: false } })).toEqual({ items, hasMore: false });
		expect(readPage('<html>')).toEqual({ items: [], hasMore: undefined });
	});

	it('unwraps one object with or without a data wrapper', () => {
		expect(unwrapOne({ data: { license_key: 'A' } })).toEqual({ license_key: 'A' });
		expect(unwrapOne({ license_key: 'A', data_plan: 'x' })).toEqual({ license_key: 'A', data_plan: 'x' });
	});

	it('recognises the error envelope, whatever the status', () => {
		expect(errorEnvelope({ error: 'no', error_code: 'ACCESS_DENIED' })).toEqual({ error: 'no', error_code: 'ACCESS_DENIED' });
		expect(errorEnvelope({ error: 'bad field', error_code: 'INVALID_INPUT', field: 'x' })).toMatchObject({ field: 'x' });
		expect(errorEnvelope({ error: 'only a message' })).toEqual({ error: 'only a message' });
		expect(errorEnvelope({ data: { error: 'x' } })).toBeUndefined();
		expect(errorEnvelope([{ error: 'x' }])).toBeUndefined();
	});

	it('pages on while pages are full, unless the reply says otherwise or nothing new came', () => {
		const next = (itemCount: number, newItems: number, hasMore?: boolean) => hasNextPage({ itemCount, newItems, perPage: 100, hasMore });
		expect([next(100, 100), next(99, 99), next(0, 0), next(100, 0)]).toEqual([true, false, false, false]);
		expect([next(100, 100, false), next(40, 40, true), next(100, 0, true)]).toEqual([false, true, false]);
	});
});

describe('collectPages', () => {
	/** A fake API of `total` numbered items that records the pages asked for; `shape` drops parts of the reply. */
	function pagesOf(total: number, shape: 'full' | 'no-pagination' | 'bare' = 'full') {
		const asked: Array<[number, number]> = [];
		const fetchPage = async (page: number, perPage: number): Promise<unknown> => {
			asked.push([page, perPage]);
			const data = Array.from({ length: total }, (_, i) => ({ id: i })).slice((page - 1) * perPage, page * perPage);
			const totalPages = Math.ceil(total / perPage);
			if (shape === 'bare') return data;
			if (shape === 'no-pagination') return { data };
			return { data, pagination: { page, per_page: perPage, total, total_pages: totalPages, has_more: page < totalPages } };
		};
		return { asked, fetchPage };
	}
	const idOf = (item: Record<string, unknown>) => item.id;
	const all = { returnAll: true, limit: Infinity, pageSize: 100 };

	it('Return All asks for pages until has_more is false', async () => {
		const api = pagesOf(250);
		expect(await collectPages(all, idOf, api.fetchPage)).toHaveLength(250);
		expect(api.asked).toEqual([
			[1, 100],
			[2, 100],
			[3, 100],
		]);
	});

	it('without pagination, pages until a short page, or an empty one after full pages', async () => {
		for (const shape of ['no-pagination', 'bare'] as const) {
			const short = pagesOf(250, shape);
			expect(await collectPages(all, idOf, short.fetchPage)).toHaveLength(250);
			expect(short.asked).toEqual([
				[1, 100],
				[2, 100],
				[3, 100],
			]);
			const exact = pagesOf(200, shape);
			expect(await collectPages(all, idOf, exact.fetchPage)).toHaveLength(200);
			expect(exact.asked).toEqual([
				[1, 100],
				[2, 100],
				[3, 100],
			]);
		}
	});

	it('stops when a server that ignores page repeats itself, and hands each item over once', async () => {
		const asked: number[] = [];
		const result = await collectPages(all, idOf, async (page) => {
			asked.push(page);
			return { data: Array.from({ length: 100 }, (_, i) => ({ id: i })) };
		});
		expect(result).toHaveLength(100);
		expect(asked).toEqual([1, 2]);
	});

	it('Limit asks for no more pages than it needs', async () => {
		const api = pagesOf(250);
		expect(await collectPages({ returnAll: false, limit: 120, pageSize: 100 }, idOf, api.fetchPage)).toEqual(
			Array.from({ length: 120 }, (_, i) => ({ id: i })),
		);
		expect(api.asked).toEqual([
			[1, 100],
			[2, 100],
		]);
		const small = pagesOf(250);
		await collectPages({ returnAll: false, limit: 5, pageSize: 100 }, idOf, small.fetchPage);
		expect(small.asked).toEqual([[1, 5]]);
	});

	it('stops on an empty page even if has_more says otherwise', async () => {
		const asked: number[] = [];
		const result = await collectPages({ returnAll: true, limit: Infinity, pageSize: 10 }, idOf, async (page) => {
			asked.push(page);
			return { data: [], pagination: { page, per_page: 10, total: 0, total_pages: 0, has_more: true } };
		});
		expect(result).toEqual([]);
		expect(asked).toEqual([1]);
	});
});

describe('OrderWatch', () => {
	it('trusts a list only while it comes in the asked order', () => {
		const asc = new OrderWatch('asc');
		for (const value of [1, 2, undefined, 2, 5]) asc.see(value);
		expect(asc.trusted).toBe(true);
		asc.see(3);
		expect(asc.trusted).toBe(false);
		const desc = new OrderWatch('desc');
		for (const value of [5, 4, 4]) desc.see(value);
		expect(desc.trusted).toBe(true);
		desc.see(6);
		expect(desc.trusted).toBe(false);
	});
});

describe('License Expiring Soon', () => {
	const now = Date.parse('2026-01-01T00:00:00Z');
	const horizon = now + 7 * 86_400_000;
	const license = (expires_at: string | null, status = 'active') => ({ license_key: 'K-1', expires_at, status });

	it('is due when active and expiring after now and within the window, once per expiry', () => {
		expect(isExpiringSoon(license('2026-01-03T00:00:00Z'), now, horizon, {})).toBe(true);
		expect(isExpiringSoon(license('2026-01-03T00:00:00Z'), now, horizon, { 'K-1': '2026-01-03T00:00:00Z' })).toBe(false);
		expect(isExpiringSoon(license('2026-01-03T00:00:00Z'), now, horizon, { 'K-1': '2025-12-01T00:00:00Z' })).toBe(true);
		expect(isExpiringSoon(license('2026-01-03T00:00:00Z', 'paused'), now, horizon, {})).toBe(false);
		expect(isExpiringSoon(license('2026-02-01T00:00:00Z'), now, horizon, {})).toBe(false);
		expect(isExpiringSoon(license('2025-12-31T00:00:00Z'), now, horizon, {})).toBe(false);
		expect(isExpiringSoon(license(null), now, horizon, {})).toBe(false);
	});
});

describe('Simplify', () => {
	it('keeps the common license fields, in order, and only those present', () => {
		expect(simplifyLicense({ metadata: {}, status: 'active', license_key: 'K', has_password: false, tags: [] })).toEqual({
			license_key: 'K',
			status: 'active',
			tags: [],
		});
		expect(Object.keys(simplifyLicense(Object.fromEntries(SIMPLE_LICENSE_FIELDS.map((f) => [f, 1]))))).toEqual([...SIMPLE_LICENSE_FIELDS]);
	});
});
