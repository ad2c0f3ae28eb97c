// What a failed job leaves in Redis (failedReason, stacktrace) and in `dead-letters`: no secret, and the right kind.

import { UnrecoverableError } from 'bullmq';
import { PermanentEventError } from '../src/handlers/index.js';
import { KeycrateError } from '../src/keycrate/client.js';
import { secretScrubber } from '../src/log.js';
import { asJobError } from '../src/process.js';

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
		const error = asJobError(new PermanentEventError('metadata.keycrate_duration_unit: must be one of …', 'metadata.keycrate_duration_unit'), scrub);
		expect(error).toBeInstanceOf(UnrecoverableError);
		expect(error.message).toContain('metadata.keycrate_duration_unit');
	});

	it('fails at once on a permanent Keycrate error and retries an ambiguous one', () => {
		const invalid = new KeycrateError({ code: 'INVALID_INPUT', endpoint: '/license/create', status: 400, detail: 'tags: too many', ambiguous: false, retryable: false });
		const lost = new KeycrateError({ code: 'SERVER_ERROR', endpoint: '/license/create', status: 500, detail: 'boom', ambiguous: true, retryable: true });
		expect(asJobError(invalid, scrub)).toBeInstanceOf(UnrecoverableError);
		expect(asJobError(lost, scrub)).not.toBeInstanceOf(UnrecoverableError);
	});

	it('turns a thrown non-error into an error with its text', () => {
		expect(asJobError('plain text', scrub).message).toBe('plain text');
	});
});
