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

/** Network errors where the connection was never made: the request cannot have reached Keycrate. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN']);

/** Network errors after which the request may have reached Keycrate, with the answer lost. */
const LOST_REPLY_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** What one attempt ended with, as far as retrying is concerned. */
export type AttemptOutcome = { kind: 'answered'; statusCode: number } | { kind: 'network'; code: string | undefined };

export type RetryDecision =
	| 'retry'
	/** Fail with the error as it is. */
	| 'fail'
	/** Fail, saying the call may have been applied (a write-once call without a confirmed answer). */
	| 'fail-may-have-applied';

/**
 * Whether to send the call again. A rate limit (429) and a connection never made are safe to
 * retry for any call: nothing was applied. A server error or a lost answer is retried only for
 * calls that may be sent twice; a write-once call (create, extend) is failed instead.
 */
export function decideRetry(outcome: AttemptOutcome, writeOnce: boolean, retriesSoFar: number): RetryDecision {
	const budgetLeft = retriesSoFar < RETRY_DELAYS_MS.length;
	if (outcome.kind === 'answered') {
		if (outcome.statusCode === 429) return budgetLeft ? 'retry' : 'fail';
		if (outcome.statusCode >= 500) {
			if (writeOnce) return 'fail-may-have-applied';
			return budgetLeft ? 'retry' : 'fail';
		}
		return 'fail';
	}
	if (outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code)) return budgetLeft ? 'retry' : 'fail';
	// No code: nothing says whether the request left; a write-once call must assume it did.
	if (outcome.code === undefined || LOST_REPLY_CODES.has(outcome.code)) {
		if (writeOnce) return 'fail-may-have-applied';
		return budgetLeft ? 'retry' : 'fail';
	}
	return 'fail';
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
