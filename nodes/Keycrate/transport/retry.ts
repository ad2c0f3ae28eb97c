import { sleep } from 'n8n-workflow';

/** Keycrate's advice for rate limits and server errors: retry after 1 s, 4 s, then 10 s. */
export const RETRY_DELAYS_MS: readonly number[] = [1000, 4000, 10000];

/** A Retry-After beyond this is not waited for in full: a workflow should not hang for long. */
const MAX_RETRY_AFTER_MS = 60_000;

type Wait = (ms: number) => Promise<void>;

let wait: Wait = sleep;

/**
 * Replaces n8n's sleep between retries; tests use it to run retries instantly and to record the
 * delays asked for. Passing nothing restores sleep.
 */
export function setRetryWait(replacement?: Wait): void {
	wait = replacement ?? sleep;
}

/** Status codes worth another attempt: the request was not processed, or the server failed. */
export function isRetryableStatus(statusCode: number): boolean {
	return statusCode === 429 || statusCode >= 500;
}

/** How long to wait before retry number `retry` (0-based), honouring a Retry-After in seconds. */
export function retryDelayMs(retry: number, retryAfterHeader?: unknown): number {
	const retryAfterSeconds = Number(retryAfterHeader);
	if (retryAfterHeader !== undefined && retryAfterHeader !== '' && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
		return Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
	}
	return RETRY_DELAYS_MS[Math.min(retry, RETRY_DELAYS_MS.length - 1)];
}

export async function waitBeforeRetry(ms: number): Promise<void> {
	await wait(ms);
}
