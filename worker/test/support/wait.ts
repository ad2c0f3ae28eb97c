// The one polling helper of every test suite (worker, node, e2e; the bench and the demo use it too): wait on a
// condition, not a fixed sleep, so a test is as fast as the machine and says what it waited for when it is not.

export interface WaitOptions {
	/** What is waited for, named in the timeout's error; a function is asked only then (e.g. to add a log tail). */
	what: string | (() => string);
	timeoutMs?: number;
	/** Between two checks. */
	intervalMs?: number;
}

/** A condition's answer: anything but false, undefined or null means met (and is what waitFor resolves with). */
export type Condition<T> = () => T | false | undefined | null | Promise<T | false | undefined | null>;

/** Polls `condition` until it is met; throws `timed out after N s waiting for <what>` once `timeoutMs` has passed. */
export async function waitFor<T>(condition: Condition<T>, options: WaitOptions): Promise<T> {
	const { timeoutMs = 10_000, intervalMs = 50 } = options;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await condition();
		if (value !== false && value !== undefined && value !== null) return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof options.what === 'function' ? options.what() : options.what}`);
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
}
