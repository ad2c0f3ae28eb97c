/**
 * The decisions of the Keycrate Sync Trigger, as pure functions: is this a Standard Webhooks delivery
 * (https://www.standardwebhooks.com) signed with our secret, recent enough, and not one already seen?
 * The worker signs with the same scheme (worker/src/jobs/handoff.ts, the standardwebhooks package):
 * webhook-signature = "v1," + base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>"),
 * key = the bytes base64-encoded after "whsec_" in the secret.
 */
import { createHmac, timingSafeEqual } from 'crypto';

export const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** Standard Webhooks asks for 24–64 random bytes; the worker refuses fewer, so does the trigger. */
const MIN_SECRET_BYTES = 24;

export const GENERATE_SECRET_HINT = "generate one with: node -e \"console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))\"";

/** The HMAC key of a `whsec_<base64>` secret, or why it is not one (never quoting the secret). */
export function secretKey(secret: string): { key: Buffer } | { problem: string } {
	const trimmed = secret.trim();
	const encoded = trimmed.startsWith('whsec_') ? trimmed.slice('whsec_'.length) : undefined;
	if (encoded === undefined || encoded.length === 0 || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
		return {
			problem: `The Signing Secret must be a Standard Webhooks secret, "whsec_" followed by base64: use the value of the worker's LICENSE_WEBHOOK_SECRET, or ${GENERATE_SECRET_HINT} and set it in both places`,
		};
	}
	const key = Buffer.from(encoded, 'base64');
	if (key.length < MIN_SECRET_BYTES) {
		return { problem: `The Signing Secret holds ${key.length} bytes after "whsec_"; it needs at least ${MIN_SECRET_BYTES}: ${GENERATE_SECRET_HINT}` };
	}
	return { key };
}

/** The v1 signature of one delivery, as the webhook-signature header carries it. */
export function sign(key: Buffer, id: string, timestamp: string, rawBody: Buffer): string {
	const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('base64');
	return `v1,${mac}`;
}

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface Delivery {
	headers: HeaderMap;
	/** The request body byte for byte, as n8n read it (req.rawBody); undefined when n8n did not keep it. */
	rawBody: Buffer | undefined;
	key: Buffer;
	toleranceSeconds: number;
	/** Unix milliseconds. */
	now: number;
}

export type Verdict = { ok: true; id: string; timestamp: number; body: unknown } | { ok: false; status: 400 | 401; error: string };

function header(headers: HeaderMap, name: string): string | undefined {
	const value = headers[name];
	return Array.isArray(value) ? value[0] : value;
}

const WHERE_FROM = "this URL takes only deliveries of the Keycrate worker (its LICENSE_WEBHOOK_URL, or a bulk job's notify_url)";

/** Checks one request: headers present, timestamp within the tolerance, one v1 signature matching, JSON body. */
export function verifyDelivery({ headers, rawBody, key, toleranceSeconds, now }: Delivery): Verdict {
	const missing = HEADERS.filter((name) => !header(headers, name));
	if (missing.length > 0) {
		return {
			ok: false,
			status: 400,
			error: `Missing ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}: ${WHERE_FROM}, signed with Standard Webhooks`,
		};
	}
	const id = header(headers, 'webhook-id') as string;
	const timestampText = header(headers, 'webhook-timestamp') as string;
	if (!/^\d{1,12}$/.test(timestampText)) {
		return { ok: false, status: 400, error: 'webhook-timestamp must be whole Unix seconds' };
	}
	const timestamp = Number(timestampText);
	const skew = Math.round(now / 1000 - timestamp);
	if (Math.abs(skew) > toleranceSeconds) {
		const when = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
		return {
			ok: false,
			status: 401,
			error: `webhook-timestamp is ${when}, outside the tolerance of ${toleranceSeconds} s: a replayed or delayed delivery (if the clocks differ, fix them or raise Tolerance)`,
		};
	}
	if (rawBody === undefined) return { ok: false, status: 400, error: 'The request has no body n8n could read: send JSON (Content-Type: application/json)' };
	const expected = Buffer.from(sign(key, id, timestampText, rawBody));
	const signatures = (header(headers, 'webhook-signature') as string).split(' ');
	// Several signatures are allowed (the sender rotating its secret): one match is enough.
	const matches = signatures.some((signature) => {
		const given = Buffer.from(signature);
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	if (!matches) {
		return {
			ok: false,
			status: 401,
			error:
				"webhook-signature does not match this body: the credential's Signing Secret must be the worker's LICENSE_WEBHOOK_SECRET, and the body must arrive unchanged",
		};
	}
	let body: unknown;
	try {
		body = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return { ok: false, status: 400, error: 'The signed body is not JSON' };
	}
	return { ok: true, id, timestamp, body };
}

/** How long a delivery's id is remembered, and how many ids at most (the workflow's static data stays small). */
export const REMEMBER_SECONDS = 24 * 3600;
export const REMEMBER_MAX = 1000;

/** webhook-id → unix seconds until which it is remembered. */
export type Seen = Record<string, number>;

/**
 * Whether `id` was already taken, and the ids to remember afterwards: expired ones dropped, then the
 * oldest beyond `max`. Remembered a day rather than the timestamp tolerance because the worker re-signs a
 * retried hand-off with a fresh timestamp under the same id, maybe hours later.
 */
export function rememberDelivery(
	seen: Seen,
	id: string,
	nowSeconds: number,
	rememberSeconds = REMEMBER_SECONDS,
	max = REMEMBER_MAX,
): { duplicate: boolean; seen: Seen } {
	const live = Object.entries(seen).filter(([, until]) => typeof until === 'number' && until > nowSeconds);
	if (live.some(([known]) => known === id)) return { duplicate: true, seen: Object.fromEntries(live) };
	const kept = [...live, [id, nowSeconds + rememberSeconds] as [string, number]].sort((a, b) => a[1] - b[1]).slice(-max);
	return { duplicate: false, seen: Object.fromEntries(kept) };
}

export type SyncEvent = 'license.created' | 'bulk_job.completed';
export const EVENTS: SyncEvent[] = ['license.created', 'bulk_job.completed'];

/** The item a delivery becomes: the event's data, flat, with the event's type, id and creation time. */
export function toItem(body: unknown): { event: string; item: Record<string, unknown> } | { problem: string } {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problem: 'The signed body must be a JSON object' };
	const { type, id, created, data } = body as Record<string, unknown>;
	if (typeof type !== 'string') return { problem: 'The signed body has no "type"' };
	const fields = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
	return { event: type, item: { event: type, id, created, ...fields } };
}
