// How a failed Keycrate call is described to its caller: what the retry policy needs to know, and nothing secret.

import type { components } from '../keycrate.js';

export type KeycrateErrorCode =
	| components['schemas']['ErrorCode']
	/** The request may have reached Keycrate, but no reply came (reset, hang-up, timeout). */
	| 'NETWORK_ERROR'
	/** The request never left: nothing listens at KEYCRATE_API_URL, or its name does not resolve. */
	| 'UNREACHABLE'
	/** A reply that is not the contract's JSON. */
	| 'BAD_RESPONSE';

export interface KeycrateErrorInit {
	code: KeycrateErrorCode;
	endpoint: string;
	status?: number;
	detail: string;
	/** The request may have been applied although it failed (5xx, lost reply): re-sending it can double-apply. */
	ambiguous: boolean;
	/** Trying again later can succeed. */
	retryable: boolean;
	retryAfterMs?: number;
	/** The Error envelope's `field`, for INVALID_INPUT. */
	field?: string;
}

export class KeycrateError extends Error {
	readonly code: KeycrateErrorCode;
	readonly endpoint: string;
	readonly status?: number;
	readonly ambiguous: boolean;
	readonly retryable: boolean;
	/** No retry can succeed (bad input, bad credentials, missing app): fail the job at once. */
	readonly permanent: boolean;
	readonly retryAfterMs?: number;
	readonly field?: string;

	constructor(init: KeycrateErrorInit) {
		const status = init.status === undefined ? '' : ` (HTTP ${init.status})`;
		super(`Keycrate ${init.endpoint}: ${init.code}${status}: ${init.detail}`);
		this.name = 'KeycrateError';
		this.code = init.code;
		this.endpoint = init.endpoint;
		this.status = init.status;
		this.ambiguous = init.ambiguous;
		this.retryable = init.retryable;
		this.permanent = !init.retryable;
		this.retryAfterMs = init.retryAfterMs;
		this.field = init.field;
	}
}

export function isKeycrateError(error: unknown): error is KeycrateError {
	return error instanceof KeycrateError;
}

/** A Keycrate refusal no retry can fix (bad input, bad key, missing app): the job should fail at once. */
export function isPermanentKeycrateError(error: unknown): error is KeycrateError {
	return error instanceof KeycrateError && error.permanent;
}

/** HTTP statuses that are no answer from Keycrate (a timeout, or a gateway's reply instead of Keycrate's). */
export const NO_ANSWER_STATUSES: ReadonlySet<number> = new Set([408, 502, 503, 504]);

/** No answer came (or a gateway's instead of Keycrate's): the request may still be executing on Keycrate. */
export function mayStillCommit(error: unknown): boolean {
	return isKeycrateError(error) && (error.code === 'NETWORK_ERROR' || NO_ANSWER_STATUSES.has(error.status ?? 0));
}
