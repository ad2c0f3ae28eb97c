// Hand-off: after a purchase creates a license, POST a signed `license.created` event to LICENSE_WEBHOOK_URL
// (e.g. an n8n Keycrate Sync Trigger that emails the key to the buyer). The BullMQ hand-off job retries; the
// receiver de-duplicates on webhook-id (= Idempotency-Key), which is the same for every delivery of one license.
//
// Signature: Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix
// seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`, keyed with the
// bytes of LICENSE_WEBHOOK_SECRET (`whsec_<base64>`). Signing is the `standardwebhooks` package's; receivers can
// use any Standard Webhooks library, or the Keycrate Sync Trigger node.

import { createHash, timingSafeEqual } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import got from 'got';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../config.js';
import type { HandoffLicense } from '../keycrate/execute.js';
import type { Linkage } from '../model.js';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
const DELIVERY_TIMEOUT_MS = 10000;
const DEFAULT_TOLERANCE_SECONDS = 300;

export interface HandoffPayload {
	type: 'license.created';
	/** Stable per license: also the Idempotency-Key. */
	id: string;
	/** Unix seconds when the hand-off was first built (kept across retries). */
	created: number;
	data: {
		license_key: string;
		email: string | null;
		customer_id: string | null;
		checkout_session_id: string | null;
		payment_intent_id: string | null;
		subscription_id: string | null;
		expires_at: string | null;
		status: string;
	};
}

/** A bulk job's end, posted to its notify_url (signed like a hand-off, webhook-id = the job id): an n8n Webhook continues from it. */
export interface BulkNotification {
	type: 'bulk_job.completed';
	/** The job's id: also the Idempotency-Key. */
	id: string;
	created: number;
	data: {
		job_id: string;
		kind: string;
		succeeded: number;
		failed: number;
		canceled: boolean;
		failures: { license_key?: string; reason: string }[];
		export_path?: string;
		calls: number;
		error?: string;
	};
}

/** The hand-off id of a license: derived from its key, so every delivery and every rebuild agree. */
export function handoffId(licenseKey: string): string {
	return `kclh_${createHash('sha256').update(licenseKey).digest('hex').slice(0, 32)}`;
}

export function buildHandoffPayload(linkage: Linkage, license: HandoffLicense, now = Date.now()): HandoffPayload {
	return {
		type: 'license.created',
		id: handoffId(license.licenseKey),
		created: Math.floor(now / 1000),
		data: {
			license_key: license.licenseKey,
			email: linkage.email ?? null,
			customer_id: linkage.customerId ?? null,
			checkout_session_id: linkage.checkoutSessionId ?? null,
			payment_intent_id: linkage.paymentIntentId ?? null,
			subscription_id: linkage.subscriptionId ?? null,
			expires_at: license.expiresAt,
			status: license.status,
		},
	};
}

/** Standard Webhooks recommends 24–64 random bytes; fewer is refused, more is accepted. */
const MIN_SECRET_BYTES = 24;

/**
 * Why `secret` cannot sign hand-offs, or undefined when it can: it must be `whsec_` + standard base64 of at
 * least 24 bytes. Never quotes the secret. A plain (pre-Standard-Webhooks) secret is refused, not derived: a
 * derivation would keep the old value alive in two formats and still break every receiver checking the old header.
 */
export function webhookSecretProblem(secret: string): string | undefined {
	const howTo =
		"generate one with: node -e \"console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))\" and give the same value to the receiver (Keycrate Sync Trigger credential)";
	if (!secret.startsWith('whsec_')) return `must be a Standard Webhooks secret "whsec_<base64>" (a plain secret is no longer accepted); ${howTo}`;
	const encoded = secret.slice('whsec_'.length);
	if (encoded.length === 0 || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
		return `must be "whsec_" followed by standard base64 (A-Z a-z 0-9 + / and = padding); ${howTo}`;
	}
	const bytes = Buffer.from(encoded, 'base64').length;
	if (bytes < MIN_SECRET_BYTES) return `must hold at least ${MIN_SECRET_BYTES} random bytes after "whsec_" (it holds ${bytes}); ${howTo}`;
	return undefined;
}

/** The Standard Webhooks headers of one delivery of `body` under the stable `id`, at `timestamp` (unix seconds). */
export function signHandoff(id: string, body: string, secret: string, timestamp: number): Record<string, string> {
	return {
		[WEBHOOK_ID_HEADER]: id,
		[WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
		[WEBHOOK_SIGNATURE_HEADER]: new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
	};
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
	const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
	return Array.isArray(found) ? found[0] : found;
}

/**
 * True when `headers` carry a Standard Webhooks v1 signature of `body` by `secret` whose timestamp is within
 * `toleranceSeconds` of now (either way). `body` must be the raw request body, byte for byte. Several
 * space-separated signatures are allowed (secret rotation): one match is enough.
 */
export function verifyHandoffSignature(
	body: string | Buffer,
	headers: Headers,
	secret: string,
	toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
	now = Date.now(),
): boolean {
	const id = header(headers, WEBHOOK_ID_HEADER);
	const timestampText = header(headers, WEBHOOK_TIMESTAMP_HEADER);
	const signatures = header(headers, WEBHOOK_SIGNATURE_HEADER);
	if (id === undefined || timestampText === undefined || signatures === undefined || !/^\d+$/.test(timestampText)) return false;
	const timestamp = Number(timestampText);
	if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
	let expected: Buffer;
	try {
		expected = Buffer.from(new Webhook(secret).sign(id, new Date(timestamp * 1000), typeof body === 'string' ? body : new Uint8Array(body)));
	} catch {
		return false; // a secret that is not whsec_<base64> signs nothing
	}
	return signatures.split(' ').some((signature) => {
		const given = Buffer.from(signature);
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
}

/** The receiver refused the hand-off (4xx other than 408/429): retrying the same body cannot help. */
export class HandoffRejectedError extends UnrecoverableError {
	constructor(readonly status: number) {
		super(`LICENSE_WEBHOOK_URL refused the hand-off: HTTP ${status}`);
		this.name = 'HandoffRejectedError';
	}
}

/** The hand-off did not arrive (5xx, 408, 429, network): the job retries it with the same Idempotency-Key. */
export class HandoffDeliveryError extends Error {
	constructor(
		detail: string,
		readonly status?: number,
	) {
		super(`LICENSE_WEBHOOK_URL did not take the hand-off: ${detail}`);
		this.name = 'HandoffDeliveryError';
	}
}

/** Posts the payload once; throws HandoffRejectedError (permanent) or HandoffDeliveryError (retry). */
export async function deliverHandoff(
	config: Pick<Config, 'licenseWebhookUrl' | 'licenseWebhookSecret'>,
	payload: HandoffPayload | BulkNotification,
	now = Date.now(),
	url: string | undefined = config.licenseWebhookUrl,
): Promise<{ status: number }> {
	if (url === undefined || config.licenseWebhookSecret === undefined) {
		throw new UnrecoverableError('LICENSE_WEBHOOK_URL (or a notify_url) and LICENSE_WEBHOOK_SECRET must both be set to post hand-offs');
	}
	const body = JSON.stringify(payload);
	let status: number;
	try {
		const response = await got.post(url, {
			body,
			headers: {
				'content-type': 'application/json',
				'user-agent': 'keycrate-stripe-sync-worker',
				...signHandoff(payload.id, body, config.licenseWebhookSecret, Math.floor(now / 1000)),
				// Kept beside webhook-id for receivers that de-duplicate on it (same value).
				'Idempotency-Key': payload.id,
			},
			timeout: { request: DELIVERY_TIMEOUT_MS },
			retry: { limit: 0 },
			throwHttpErrors: false,
			followRedirect: false,
		});
		status = response.statusCode;
	} catch (error) {
		// Only the error's code: its message and options could carry the URL, which may hold a token.
		const code = (error as { code?: unknown }).code;
		throw new HandoffDeliveryError(typeof code === 'string' ? code : 'network error');
	}
	if (status >= 200 && status < 300) return { status };
	if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new HandoffRejectedError(status);
	throw new HandoffDeliveryError(`HTTP ${status}`, status);
}
