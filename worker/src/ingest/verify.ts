// Verifies a Stripe webhook delivery: the `Stripe-Signature` header against the RAW body, with the stripe
// package, trying every configured signing secret so that a secret can be rotated without dropping events.
// Failures are typed and their messages never quote a secret, a signature or the body.

import Stripe from 'stripe';

export type VerifyFailureReason =
	'missing_signature' | 'malformed_signature' | 'no_matching_signature' | 'stale_timestamp' | 'future_timestamp' | 'unparsable_body';

export type VerifyResult = { ok: true; event: Stripe.Event; secretIndex: number } | { ok: false; reason: VerifyFailureReason; message: string };

export interface VerifyOptions {
	secrets: readonly string[];
	toleranceSeconds: number;
	/** Milliseconds since the epoch; tests move the clock instead of waiting. */
	now?: number;
}

const MESSAGES: Record<VerifyFailureReason, string> = {
	missing_signature: 'no Stripe-Signature header',
	malformed_signature: 'the Stripe-Signature header has no timestamp or v1 signature',
	no_matching_signature: 'no signature matches any configured signing secret',
	stale_timestamp: 'the signature timestamp is older than the tolerance',
	future_timestamp: 'the signature timestamp is further in the future than the tolerance (check the clocks)',
	unparsable_body: 'the signed body is not a Stripe event (JSON object with id evt_… and type)',
};

function failure(reason: VerifyFailureReason): VerifyResult {
	return { ok: false, reason, message: MESSAGES[reason] };
}

/** Maps stripe-node's verification messages (Webhooks.ts) to our reasons; its errors carry the header and body. */
function reasonOf(error: unknown): VerifyFailureReason {
	if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) {
		return error instanceof SyntaxError ? 'unparsable_body' : 'no_matching_signature';
	}
	if (/tolerance/i.test(error.message)) return 'stale_timestamp';
	if (/unable to extract|expected scheme/i.test(error.message)) return 'malformed_signature';
	if (/no stripe-signature header/i.test(error.message)) return 'missing_signature';
	if (/no webhook payload/i.test(error.message)) return 'unparsable_body';
	return 'no_matching_signature';
}

function isStripeEvent(value: unknown): value is Stripe.Event {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const candidate = value as Record<string, unknown>;
	return (
		typeof candidate.id === 'string' &&
		/^evt_\w{1,250}$/.test(candidate.id) &&
		typeof candidate.type === 'string' &&
		candidate.type !== '' &&
		typeof candidate.data === 'object' &&
		candidate.data !== null
	);
}

export function verifyStripeWebhook(rawBody: Buffer, signatureHeader: string | string[] | undefined, options: VerifyOptions): VerifyResult {
	if (signatureHeader === undefined || signatureHeader === '') return failure('missing_signature');
	// A caller that keeps repeated headers apart passes a list: refused, not guessed between. (node:http joins a
	// repeated Stripe-Signature with ", "; each v1 in it is then tried, and only one made with our secret passes.)
	if (Array.isArray(signatureHeader)) return failure('malformed_signature');
	// stripe-node bounds only the past; a timestamp far ahead would make a captured delivery replayable for as
	// long, so the tolerance is applied both ways.
	const timestamp = /(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(signatureHeader)?.[1];
	if (timestamp !== undefined && Number(timestamp) > (options.now ?? Date.now()) / 1000 + options.toleranceSeconds) {
		return failure('future_timestamp');
	}

	let lastReason: VerifyFailureReason = 'no_matching_signature';
	for (const [secretIndex, secret] of options.secrets.entries()) {
		let event: unknown;
		try {
			event = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, options.toleranceSeconds, undefined, options.now);
		} catch (error) {
			lastReason = reasonOf(error);
			// Only a signature that did not match this secret is worth trying the next secret for.
			if (lastReason !== 'no_matching_signature') return failure(lastReason);
			continue;
		}
		return isStripeEvent(event) ? { ok: true, event, secretIndex } : failure('unparsable_body');
	}
	return failure(lastReason);
}
