// Keycrate is the record: every license the worker makes names its root and seat in its tags and metadata,
// so a sync finds a root's licenses with one tag search, whatever happened to a reply, a process or Redis.
// Reading is tolerant: a license whose reply lacks an inferred field is still found, and one whose seat
// cannot be read is left alone.

import { createHash } from 'node:crypto';
import { CONTRACT_LIMITS } from '../config.js';
import type { FoundLicense, KeycrateLicense, Linkage, RootId, SeatKey, UnixSeconds } from '../model.js';

const TAG_MAX = 64;
const SEAT_TAG = /^kcseat:(.+)$/;
/** Metadata key of the hand-off marker: set once LICENSE_WEBHOOK_URL took the license's hand-off. */
export const HANDOFF_MARKER = 'keycrate_handoff';
export const SEAT_METADATA = 'keycrate_sync_seat';
export const ROOT_METADATA = 'keycrate_sync_root';

/** The tag that finds every license of a root. */
export function rootTag(root: RootId): string {
	const tag = `kcsync:${root}`;
	return tag.length <= TAG_MAX ? tag : `kcsync:#${createHash('sha256').update(root).digest('hex').slice(0, 40)}`;
}

export function seatTag(seat: SeatKey): string {
	const tag = `kcseat:${seat}`;
	return tag.length <= TAG_MAX ? tag : `kcseat:#${createHash('sha256').update(seat).digest('hex').slice(0, 40)}`;
}

export function licenseTags(root: RootId, seat: SeatKey, licenseTag: string, planTags: string[] = []): string[] {
	// Ours first, so the cap on tags never drops the ones a sync needs.
	return [...new Set([rootTag(root), seatTag(seat), licenseTag, ...planTags])].slice(0, CONTRACT_LIMITS.maxTags);
}

export function licenseMetadata(root: RootId, seat: SeatKey, linkage: Linkage): Record<string, string | boolean> {
	const metadata: Record<string, string | boolean | undefined> = {
		source: 'stripe',
		[ROOT_METADATA]: root,
		[SEAT_METADATA]: seat,
		stripe_customer: linkage.customerId,
		stripe_email: linkage.email,
		stripe_checkout_session: linkage.checkoutSessionId,
		stripe_payment_intent: linkage.paymentIntentId,
		stripe_subscription: linkage.subscriptionId,
		stripe_livemode: linkage.livemode,
	};
	return Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined)) as Record<string, string | boolean>;
}

function seatOf(license: Partial<KeycrateLicense>): SeatKey | undefined {
	// The metadata holds the seat in full; the tag may be hashed (a very long line id).
	const fromMetadata = (license.metadata as Record<string, unknown> | undefined)?.[SEAT_METADATA];
	if (typeof fromMetadata === 'string' && fromMetadata !== '') return fromMetadata;
	for (const tag of Array.isArray(license.tags) ? license.tags : []) {
		const match = typeof tag === 'string' ? SEAT_TAG.exec(tag) : null;
		if (match) return match[1];
	}
	return undefined;
}

/**
 * The license names this root (its tag, else its metadata). A search by tag is only inferred to filter: a
 * Keycrate that ignored the filter would return other customers' licenses, which must never be touched.
 */
export function belongsTo(raw: unknown, root: RootId): boolean {
	if (typeof raw !== 'object' || raw === null) return false;
	const license = raw as Partial<KeycrateLicense>;
	if (Array.isArray(license.tags) && license.tags.includes(rootTag(root))) return true;
	const metadata = license.metadata as Record<string, unknown> | undefined;
	return typeof metadata === 'object' && metadata !== null && metadata[ROOT_METADATA] === root;
}

function seconds(value: unknown): UnixSeconds | null | undefined {
	if (value === null) return null;
	if (typeof value !== 'string') return undefined;
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** A license as a sync reads it; undefined when the reply has no key at all. */
export function readLicense(raw: unknown, appId: string): FoundLicense | undefined {
	if (typeof raw !== 'object' || raw === null) return undefined;
	const license = raw as Partial<KeycrateLicense>;
	if (typeof license.license_key !== 'string' || license.license_key === '') return undefined;
	const metadata =
		typeof license.metadata === 'object' && license.metadata !== null && !Array.isArray(license.metadata) ? (license.metadata as Record<string, unknown>) : {};
	const found: FoundLicense = {
		licenseKey: license.license_key,
		appId: typeof license.app_id === 'string' ? license.app_id : appId,
		metadata,
		handedOff: metadata[HANDOFF_MARKER] !== undefined,
	};
	const seat = seatOf(license);
	if (seat !== undefined) found.seat = seat;
	if (typeof license.status === 'string') found.status = license.status;
	const expiresAt = seconds(license.expires_at);
	if (expiresAt !== undefined) found.expiresAt = expiresAt;
	if (license.subscription_id === null || typeof license.subscription_id === 'string') found.tier = license.subscription_id;
	if (typeof license.created_at === 'string') found.createdAt = license.created_at;
	return found;
}

/** Marks a license as handed off (its metadata kept); a license deleted meanwhile needs no mark. */
export async function markHandedOff(
	api: { getLicense(key: string): Promise<KeycrateLicense | null>; updateMetadata(key: string, metadata: Record<string, unknown>): Promise<unknown> },
	licenseKey: string,
): Promise<void> {
	const license = await api.getLicense(licenseKey);
	const raw = license?.metadata;
	// Metadata it cannot read is left as it is: writing only the mark would erase the root, seat and Stripe ids.
	if (license === null || typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
	const metadata = raw as Record<string, unknown>;
	if (metadata[HANDOFF_MARKER] !== undefined) return;
	await api.updateMetadata(licenseKey, { ...metadata, [HANDOFF_MARKER]: new Date().toISOString() });
}
