// What a failed job leaves in Redis (failedReason, stacktrace) and in `dead-letters`: no secret, and the right
// kind; and when it runs again (the retry schedule, with a settle time or a Retry-After as a floor).

import { UnrecoverableError } from 'bullmq';
import Stripe from 'stripe';
import { parseRetrySchedule } from '../src/config.js';
import { PermanentError, UnsettledWriteError } from '../src/errors.js';
import { asJobError } from '../src/jobs/processor.js';
import { retryDelay } from '../src/jobs/queues.js';
import { KeycrateError } from '../src/keycrate/client.js';
import { secretScrubber } from '../src/log.js';

const scrub = secretScrubber(['kc_live_0123456789abcdef']);

describe('asJobError', () => {
	it('scrubs secrets from the message and the stack', () => {
		const error = asJobError(new Error('upstream said: bad key kc_live_0123456789abcdef and whsec_abcdef123456'), scrub);
		expect(error.message).toBe('upstream said: bad key [Redacted] and [Redacted]');
		expect(error.stack).not.toContain('kc_live_0123456789abcdef');
		expect(error.stack).not.toContain('whsec_abcdef123456');
		expect(error).not.toBeInstanceOf(UnrecoverableError);
	});

	it('fails at once on an event that can never be processed, keeping the field in the reason', () => {
		const error = asJobError(new PermanentError('metadata.keycrate_duration_unit: must be one of …', 'metadata.keycrate_duration_unit'), scrub);
		expect(error).toBeInstanceOf(UnrecoverableError);
		expect(error.message).toContain('metadata.keycrate_duration_unit');
	});

	it('fails at once on a permanent Keycrate error and retries an ambiguous one', () => {
		const invalid = new KeycrateError({
			code: 'INVALID_INPUT',
			endpoint: '/license/create',
			status: 400,
			detail: 'tags: too many',
			ambiguous: false,
			retryable: false,
		});
		const lost = new KeycrateError({ code: 'SERVER_ERROR', endpoint: '/license/create', status: 500, detail: 'boom', ambiguous: true, retryable: true });
		expect(asJobError(invalid, scrub)).toBeInstanceOf(UnrecoverableError);
		expect(asJobError(lost, scrub)).not.toBeInstanceOf(UnrecoverableError);
	});

	it('turns a thrown non-error into an error with its text', () => {
		expect(asJobError('plain text', scrub).message).toBe('plain text');
	});
});

describe('retryDelay: the schedule, with what the failure asks for as a floor', () => {
	const schedule = parseRetrySchedule('10s,1m,5m,30m,2h,6h,12h,24h');
	const lost = new KeycrateError({ code: 'NETWORK_ERROR', endpoint: '/license/create', detail: 'timeout', ambiguous: true, retryable: true });

	test.each([
		[1, undefined, 10_000],
		[2, undefined, 60_000],
		[8, undefined, 86_400_000],
		[9, undefined, 86_400_000],
		[1, asJobError(new UnsettledWriteError(lost, 20_000), (text) => text), 20_000],
		[2, asJobError(new UnsettledWriteError(lost, 20_000), (text) => text), 60_000],
		[1, Object.assign(new Error('429'), { retryAfterMs: 45_000 }), 45_000],
	])('retry %p after %p → %p ms', (attemptsMade, error, expected) => {
		expect(retryDelay(schedule, attemptsMade, error)).toBe(expected);
	});

	test('the default schedule reaches a day: a Keycrate outage of hours heals itself', () => {
		expect(schedule.reduce((sum, ms) => sum + ms, 0) / 3_600_000).toBeCloseTo(44.6, 1);
	});
});

describe('Stripe refusals', () => {
	test('a key Stripe refuses or lacks a permission is a dead letter at once, saying where to look; a 404 or a 500 is not', () => {
		const auth = new Stripe.errors.StripeAuthenticationError({ message: 'Invalid API Key provided: rk_test_****abcd', type: 'invalid_request_error' } as never);
		const permission = new Stripe.errors.StripePermissionError({
			message: 'The provided key does not have the required permissions for this endpoint',
			type: 'invalid_request_error',
		} as never);
		const outage = new Stripe.errors.StripeAPIError({ message: 'An unknown error occurred', type: 'api_error' } as never);
		for (const error of [auth, permission]) {
			const jobError = asJobError(error, scrub);
			expect(jobError).toBeInstanceOf(UnrecoverableError);
			expect(jobError.message).toMatch(/^Stripe refused the read \(check STRIPE_API_KEY and its read permissions\): /);
		}
		expect(asJobError(outage, scrub)).not.toBeInstanceOf(UnrecoverableError);
	});
});
