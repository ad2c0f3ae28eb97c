/** API faults: Stripe's 500 (`api_error`) at a rate, and its 429 when more calls arrive in a second than the budget allows. */
import { StripeApiError } from './errors';
import { FakeUsageError } from './errors';

export interface Faults {
  /** Probability 0..1 that an API call answers 500. */
  error500Rate?: number;
  /** Calls allowed per rolling second before 429 (Stripe's test mode allows 25); unlimited when absent. */
  rateLimitPerSecond?: number;
}

export function checkFaults(faults: Faults): Faults {
  if (typeof faults !== 'object' || faults === null) throw new FakeUsageError('faults', 'must be an object');
  for (const key of Object.keys(faults)) {
    if (key !== 'error500Rate' && key !== 'rateLimitPerSecond') throw new FakeUsageError(key, 'is not a fault (error500Rate, rateLimitPerSecond)');
  }
  const { error500Rate, rateLimitPerSecond } = faults;
  if (error500Rate !== undefined && (typeof error500Rate !== 'number' || !(error500Rate >= 0 && error500Rate <= 1))) {
    throw new FakeUsageError('error500Rate', 'must be a number from 0 to 1');
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

  /** Throws the error a faulty Stripe would answer with, or admits the call. */
  check(): void {
    const limit = this.faults.rateLimitPerSecond;
    if (limit !== undefined) {
      const now = this.clock();
      let drop = 0;
      while (drop < this.admitted.length && this.admitted[drop] <= now - 1000) drop++;
      if (drop > 0) this.admitted.splice(0, drop);
      if (this.admitted.length >= limit) {
        throw new StripeApiError(429, 'invalid_request_error', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', 'rate_limit');
      }
      this.admitted.push(now);
    }
    const rate = this.faults.error500Rate ?? 0;
    if (rate > 0 && this.random() < rate) {
      throw new StripeApiError(500, 'api_error', 'An unknown error occurred (injected by stripe-fake).');
    }
  }
}
