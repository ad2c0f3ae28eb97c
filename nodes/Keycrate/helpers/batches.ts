import { NodeApiError, type IExecuteFunctions, type JsonObject } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import type { RequestBody } from '../transport/endpoints';
import { readPage } from '../transport/reply';
import { keycrateRequest } from '../transport/request';

type BulkItemResult = components['schemas']['BulkItemResult'];

/** The bulk endpoints that take a `license_keys` list and answer one result per key. */
export type BulkKeyOperation = 'licenseExtendBulk' | 'licenseDeleteBulk' | 'licenseUpdateStatusBulk' | 'hwidToggleLockBulk';

/** Consecutive slices of at most `size` elements. */
export function chunk<T>(list: readonly T[], size: number): T[][] {
	const chunks: T[][] = [];
	for (let start = 0; start < list.length; start += size) {
		chunks.push(list.slice(start, start + size));
	}
	return chunks;
}

/** Sizes of the calls that together create `total` things, none above `batchSize`. */
export function batchSizes(total: number, batchSize: number): number[] {
	const sizes: number[] = [];
	for (let left = total; left > 0; left -= batchSize) sizes.push(Math.min(left, batchSize));
	return sizes;
}

/**
 * Sends `keys` in calls of at most `batchSize` and returns one result per key, in order.
 * When a whole call fails: with Continue On Fail its keys become failed results and the next
 * batch still runs; otherwise the error says how many keys were already processed.
 */
export async function runBulkKeyOperation<Op extends BulkKeyOperation>(
	context: IExecuteFunctions,
	operation: Op,
	keys: string[],
	fields: Omit<RequestBody<Op>, 'license_keys'>,
	batchSize: number,
	itemIndex: number,
): Promise<BulkItemResult[]> {
	const results: BulkItemResult[] = [];
	for (const batch of chunk(keys, batchSize)) {
		try {
			const body = { ...fields, license_keys: batch } as RequestBody<Op>;
			results.push(...readBulkResults(await keycrateRequest(context, operation, body, itemIndex), batch));
		} catch (error) {
			const apiError = asNodeApiError(context, error);
			apiError.description = `${apiError.description ?? ''} ${results.length} of ${keys.length} keys were processed before this call failed.`.trim();
			if (!context.continueOnFail()) throw apiError;
			const errorCode = apiError.context.errorCode as BulkItemResult['error_code'];
			const unconfirmed = apiError.context.mayHaveApplied === true ? { may_have_applied: true } : {};
			for (const key of batch) {
				results.push({
					license_key: key,
					success: false,
					error: apiError.message,
					...(errorCode ? { error_code: errorCode } : {}),
					...unconfirmed,
				} as BulkItemResult);
			}
		}
	}
	return results;
}

/**
 * One result per key of a bulk reply: its `results` list (or a bare/`data` list), with unknown
 * fields kept. A reply that lists no result for a key says nothing about it: that key is reported
 * as unconfirmed rather than guessed.
 */
export function readBulkResults(body: unknown, keys: string[]): BulkItemResult[] {
	const listed = readPage(
		typeof body === 'object' && body !== null && Array.isArray((body as { results?: unknown }).results) ? (body as { results: unknown[] }).results : body,
	).items as unknown as BulkItemResult[];
	const byKey = new Map(listed.map((result) => [result.license_key, result]));
	return keys.map(
		(key) => byKey.get(key) ?? ({ license_key: key, success: false, error: 'Keycrate listed no result for this key; check it with Get' } as BulkItemResult),
	);
}

/** keycrateRequest throws NodeApiError; anything else (a credential failure) is wrapped alike. */
export function asNodeApiError(context: IExecuteFunctions, error: unknown): NodeApiError {
	return error instanceof NodeApiError ? error : new NodeApiError(context.getNode(), error as JsonObject);
}
