/**
 * API faults: Stripe's 500 (`api_error`) and 429 (`rate_limit`) at a rate each, and its 429 when more calls arrive in
 * a second than the budget allows. `injected()` counts what was answered, for runs that report their faults.
 */
import { StripeApiError } from './errors';
import { FakeUsageError } from './errors';

export interface Faults {
	/** Probability 0..1 that an API call answers 500. */
	error500Rate?: number;
	/** Probability 0..1 that an API call answers 429 (a rate limit at random, whatever the call rate). */
	error429Rate?: number;
	/** Calls allowed per rolling second before 429 (Stripe's test mode allows 25); unlimited when absent. */
	rateLimitPerSecond?: number;
}

const FAULT_NAMES: readonly string[] = ['error500Rate', 'error429Rate', 'rateLimitPerSecond'];

/** Faults answered so far, by status. */
export interface InjectedFaults {
	'429': number;
	'500': number;
}

export function checkFaults(faults: Faults): Faults {
	if (typeof faults !== 'object' || faults === null) throw new FakeUsageError('faults', 'must be an object');
	for (const key of Object.keys(faults)) {
		if (!FAULT_NAMES.includes(key)) throw new FakeUsageError(key, `is not a fault (${FAULT_NAMES.join(', ')})`);
	}
	const { rateLimitPerSecond } = faults;
	for (const name of ['error500Rate', 'error429Rate'] as const) {
		const rate = faults[name];
		if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) throw new FakeUsageError(name, 'must be a number from 0 to 1');
	}
	if (rateLimitPerSecond !== undefined && (typeof rateLimitPerSecond !== 'number' || !Number.isSafeInteger(rateLimitPerSecond) || rateLimitPerSecond < 1)) {
		throw new FakeUsageError('rateLimitPerSecond', 'must be a positive integer');
	}
	return { ...faults };
}

export class FaultInjector {
	private faults: Faults = {};
	/** Times (ms) of the calls admitted in the last second. */
	private admitted: number[] = [];
	private readonly counts: InjectedFaults = { '429': 0, '500': 0 };

	constructor(
		private readonly random: () => number = Math.random,
		private readonly clock: () => number = Date.now,
	) {}

	set(faults: Faults): void {
		this.faults = checkFaults(faults);
		this.admitted = [];
	}

	get(): Faults {
		return { ...this.faults };
	}

	injected(): InjectedFaults {
		return { ...this.counts };
	}

	private rateLimited(): StripeApiError {
		this.counts['429'] += 1;
		return new StripeApiError(
			429,
			'invalid_request_error',
			'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
			'rate_limit',
		);
	}

	/** Throws the error a faulty Stripe would answer with, or admits the call. */
	check(): void {
		const limit = this.faults.rateLimitPerSecond;
		if (limit !== undefined) {
			const now = this.clock();
			let drop = 0;
			while (drop < this.admitted.length && this.admitted[drop] <= now - 1000) drop++;
			if (drop > 0) this.admitted.splice(0, drop);
			if (this.admitted.length >= limit) throw this.rateLimited();
			this.admitted.push(now);
		}
		// One draw decides both rates: [0, 500 rate) answers 500, the next 429 rate's width answers 429.
		const rate500 = this.faults.error500Rate ?? 0;
		const rate429 = this.faults.error429Rate ?? 0;
		if (rate500 + rate429 <= 0) return;
		const draw = this.random();
		if (draw < rate500) {
			this.counts['500'] += 1;
			throw new StripeApiError(500, 'api_error', 'An unknown error occurred (injected by stripe-fake).');
		}
		if (draw < rate500 + rate429) throw this.rateLimited();
	}
}
