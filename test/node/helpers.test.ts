import { batchSizes, chunk } from '../../nodes/Keycrate/helpers/batches';
import { parseList } from '../../nodes/Keycrate/helpers/input';
import { collectPages, type Page } from '../../nodes/Keycrate/helpers/pagination';
import { isRetryableStatus, RETRY_DELAYS_MS, retryDelayMs } from '../../nodes/Keycrate/transport/retry';

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
		expect(chunk(Array.from({ length: 2500 }, (_, i) => i), 1000).map((c) => c.length)).toEqual([1000, 1000, 500]);
		expect(chunk([], 10)).toEqual([]);
	});

	it('splits an amount into call sizes', () => {
		expect(batchSizes(2500, 1000)).toEqual([1000, 1000, 500]);
		expect(batchSizes(1000, 1000)).toEqual([1000]);
		expect(batchSizes(1, 1000)).toEqual([1]);
	});
});

describe('retry policy', () => {
	it('retries 429 and 5xx only', () => {
		expect([429, 500, 502, 503].map(isRetryableStatus)).toEqual([true, true, true, true]);
		expect([400, 401, 403, 404, 409].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
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

describe('collectPages', () => {
	/** A fake API of `total` numbered items that records the pages asked for. */
	function pagesOf(total: number) {
		const asked: Array<[number, number]> = [];
		const fetchPage = async (page: number, perPage: number): Promise<Page<number>> => {
			asked.push([page, perPage]);
			const data = Array.from({ length: total }, (_, i) => i).slice((page - 1) * perPage, page * perPage);
			const totalPages = Math.ceil(total / perPage);
			return { data, pagination: { page, per_page: perPage, total, total_pages: totalPages, has_more: page < totalPages } };
		};
		return { asked, fetchPage };
	}

	it('Return All asks for pages until has_more is false', async () => {
		const api = pagesOf(250);
		expect(await collectPages({ returnAll: true, limit: Infinity, pageSize: 100 }, api.fetchPage)).toHaveLength(250);
		expect(api.asked).toEqual([[1, 100], [2, 100], [3, 100]]);
	});

	it('Limit asks for no more pages than it needs', async () => {
		const api = pagesOf(250);
		expect(await collectPages({ returnAll: false, limit: 120, pageSize: 100 }, api.fetchPage)).toEqual(
			Array.from({ length: 120 }, (_, i) => i),
		);
		expect(api.asked).toEqual([[1, 100], [2, 100]]);
		const small = pagesOf(250);
		await collectPages({ returnAll: false, limit: 5, pageSize: 100 }, small.fetchPage);
		expect(small.asked).toEqual([[1, 5]]);
	});

	it('stops on an empty page even if has_more says otherwise', async () => {
		const asked: number[] = [];
		const result = await collectPages({ returnAll: true, limit: Infinity, pageSize: 10 }, async (page) => {
			asked.push(page);
			return { data: [], pagination: { page, per_page: 10, total: 0, total_pages: 0, has_more: true } };
		});
		expect(result).toEqual([]);
		expect(asked).toEqual([1]);
	});
});
