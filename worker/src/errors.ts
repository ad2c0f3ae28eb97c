// The two ways a sync can fail besides a transient error, so that the job layer knows how to retry.

/** No retry can help until someone changes something (bad keycrate_* metadata, too many seats): a dead letter. */
export class PermanentError extends Error {
	constructor(
		message: string,
		readonly field?: string,
	) {
		super(message);
		this.name = 'PermanentError';
	}
}

/**
 * A write that is not idempotent (create, extend) got no answer and may still commit on Keycrate. The job is
 * retried no sooner than `settleMs`, so that the next read sees what the write finally did.
 */
export class UnsettledWriteError extends Error {
	constructor(
		readonly cause: Error,
		readonly settleMs: number,
	) {
		super(`${cause.message} (may still apply; the root is read again in ${Math.ceil(settleMs / 1000)} s)`);
		this.name = 'UnsettledWriteError';
	}
}
