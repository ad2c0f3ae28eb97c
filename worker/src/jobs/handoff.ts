// Hand-off: after a purchase creates a license, POST a signed `license.created` event to LICENSE_WEBHOOK_URL
// (e.g. an n8n Webhook node that emails the key to the buyer). The BullMQ hand-off job retries; the receiver
// de-duplicates on Idempotency-Key, which is the same for every delivery of one license.
//
// Signature: `Keycrate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
// LICENSE_WEBHOOK_SECRET — Stripe's scheme, so receivers that verify Stripe webhooks can verify this too.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import got from 'got';
import type { Config } from '../config.js';
import type { HandoffLicense } from '../keycrate/execute.js';
import type { Linkage } from '../model.js';

export const SIGNATURE_HEADER = 'Keycrate-Signature';
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

/** A bulk job's end, posted to its notify_url (signed like a hand-off): an n8n Webhook continues from it. */
export interface BulkNotification {
	type: 'bulk_job.completed';
	/** The job's id: also the Idempotency-Key. */
	id: string;
	created: number;
	data: { job_id: string; kind: string; succeeded: number; failed: number; canceled: boolean; failures: { license_key?: string; reason: string }[]; export_path?: string; calls: number; error?: string };
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

export function signHandoff(body: string, secret: string, timestamp: number): string {
	const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
	return `t=${timestamp},v1=${signature}`;
}

/**
 * True when `header` carries a v1 signature of `body` by `secret` whose timestamp is within `toleranceSeconds`
 * of now. `body` must be the raw request body, byte for byte.
 */
export function verifyHandoffSignature(
	body: string | Buffer,
	header: string | undefined,
	secret: string,
	toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
	now = Date.now(),
): boolean {
	if (header === undefined) return false;
	const parts = header.split(',').map((part) => part.trim().split('='));
	const timestamp = Number(parts.find(([name]) => name === 't')?.[1]);
	if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
	const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex'));
	return parts.some(([name, value]) => {
		if (name !== 'v1' || value === undefined) return false;
		const given = Buffer.from(value);
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
	constructor(detail: string, readonly status?: number) {
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
				[SIGNATURE_HEADER]: signHandoff(body, config.licenseWebhookSecret, Math.floor(now / 1000)),
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
