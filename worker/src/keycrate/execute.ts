// Applies a plan to Keycrate, in order, one call per action, and reports what was done.
//
// Create and extend are the calls a re-send would double. When one of them is answered with a failure that may
// have applied (a 500, an unreadable 2xx), the answer settles it: the seat is read again (by its tags) and the
// call is made again only if it did not apply. When one gets NO answer (timeout, reset, 408/502/503/504) it may
// still apply later, so the sync stops with UnsettledWriteError and the job runs again only after it must have
// settled (2 × KEYCRATE_TIMEOUT_MS): no sleeping here, no lock.

import { UnsettledWriteError } from '../errors.js';
import type { FoundLicense, KeycrateLicense, LicenseCreateRequest, RootId, SeatKey, SettableStatus, UnixSeconds } from '../model.js';
import { isKeycrateError, mayStillCommit } from './errors.js';
import type { Action } from './plan.js';
import { bestFirst, subscriptionDuration } from './plan.js';
import { belongsTo, readLicense, rootTag } from './record.js';

/** The Keycrate calls a sync makes (keycrate/client.ts; tests may wrap it). */
export interface LicenseApi {
	createLicense(body: LicenseCreateRequest): Promise<KeycrateLicense>;
	getLicense(licenseKey: string): Promise<KeycrateLicense | null>;
	extendLicense(licenseKey: string, extendSeconds: number): Promise<KeycrateLicense>;
	updateStatus(licenseKey: string, status: SettableStatus): Promise<KeycrateLicense>;
	updateSubscription(licenseKey: string, subscriptionId: string | null): Promise<KeycrateLicense>;
	updateMetadata(licenseKey: string, metadata: Record<string, unknown>): Promise<KeycrateLicense>;
	deleteLicense(licenseKey: string): Promise<void>;
	findLicensesByTag(tag: string, appId?: string): Promise<unknown[]>;
}

/** What a license's hand-off needs to know of it. */
export interface HandoffLicense {
	licenseKey: string;
	expiresAt: string | null;
	status: string;
	seat: SeatKey;
}

export interface ExecuteContext {
	api: LicenseApi;
	root: RootId;
	/** How long an unanswered write may take to land: 2 × KEYCRATE_TIMEOUT_MS. */
	settleMs: number;
	/**
	 * Queues the hand-off of a license (LICENSE_WEBHOOK_URL); absent when hand-offs are off. Only queued (job id =
	 * the license key); the hand-off job marks the license once the post was taken, so a hand-off lost with
	 * Redis is queued again by the next sync.
	 */
	handoff?: (license: HandoffLicense) => Promise<void>;
	/** Set when the process is stopping: the sync ends between two calls, to be retried. */
	signal?: AbortSignal;
}

export interface Done {
	action: Action['type'] | 'adopted';
	seat: SeatKey;
	licenseKey: string;
}

/** Runs a write; an unanswered one becomes UnsettledWriteError (the job retries once it has settled). */
async function write<T>(ctx: ExecuteContext, call: () => Promise<T>): Promise<T> {
	try {
		return await call();
	} catch (error) {
		if (mayStillCommit(error)) throw new UnsettledWriteError(error as Error, ctx.settleMs);
		throw error;
	}
}

/** The failure answered, but the call may have applied: the caller must read before calling again. */
function answeredAmbiguous(error: unknown): boolean {
	return isKeycrateError(error) && error.ambiguous && !mayStillCommit(error);
}

function isoOrNull(seconds: UnixSeconds | null | undefined): string | null {
	return seconds === null || seconds === undefined ? null : new Date(seconds * 1000).toISOString();
}

/** A license as read (`found`) and as Keycrate sent it (`raw`). */
export interface RootLicense {
	found: FoundLicense;
	raw: unknown;
}

/**
 * Every license of the root in these apps, each once. Only licenses that name the root: the tag filter of
 * get-bulk is inferred, and an app filter may be ignored too.
 */
export async function readRootLicenses(api: LicenseApi, root: RootId, appIds: Iterable<string>): Promise<RootLicense[]> {
	const byKey = new Map<string, RootLicense>();
	for (const appId of new Set(appIds)) {
		for (const raw of await api.findLicensesByTag(rootTag(root), appId)) {
			const found = belongsTo(raw, root) ? readLicense(raw, appId) : undefined;
			if (found !== undefined && !byKey.has(found.licenseKey)) byKey.set(found.licenseKey, { found, raw });
		}
	}
	return [...byKey.values()];
}

async function create(ctx: ExecuteContext, action: Extract<Action, { type: 'create' }>, done: Done[]): Promise<KeycrateLicense> {
	for (let attempt = 0; ; attempt++) {
		// A subscription seat's duration from the time of this call, not of the plan (see subscriptionDuration).
		const request =
			action.expiresAt === undefined ? action.request : { ...action.request, ...subscriptionDuration(action.expiresAt, Math.floor(Date.now() / 1000)) };
		try {
			const license = await write(ctx, () => ctx.api.createLicense(request));
			done.push({ action: 'create', seat: action.seat, licenseKey: license.license_key });
			return license;
		} catch (error) {
			if (!answeredAmbiguous(error) || attempt >= 1) throw error;
			// Answered but maybe applied: the root's tag finds what it made, if anything.
			const [existing] = (await readRootLicenses(ctx.api, ctx.root, [action.request.app_id]))
				.filter((license) => license.found.seat === action.seat)
				.sort((a, b) => bestFirst(a.found, b.found));
			if (existing !== undefined) {
				done.push({ action: 'adopted', seat: action.seat, licenseKey: existing.found.licenseKey });
				return existing.raw as KeycrateLicense;
			}
		}
	}
}

function expirySeconds(license: KeycrateLicense): UnixSeconds | null | undefined {
	return readLicense(license, '')?.expiresAt;
}

async function extendTo(ctx: ExecuteContext, licenseKey: string, seconds: number, target: UnixSeconds): Promise<KeycrateLicense | undefined> {
	try {
		return await write(ctx, () => ctx.api.extendLicense(licenseKey, seconds));
	} catch (error) {
		if (!answeredAmbiguous(error)) throw error;
		// Answered but maybe applied: extend only by what is still missing.
		const now = await ctx.api.getLicense(licenseKey);
		const expiry = now === null ? undefined : expirySeconds(now);
		if (typeof expiry !== 'number' || expiry >= target) return now ?? undefined;
		return write(ctx, () => ctx.api.extendLicense(licenseKey, target - expiry));
	}
}

function checkStopping(ctx: ExecuteContext): void {
	if (ctx.signal?.aborted) throw new Error('stopping: the sync ends here and is retried');
}

export async function execute(ctx: ExecuteContext, actions: Action[], licenses: FoundLicense[]): Promise<Done[]> {
	const done: Done[] = [];
	const byKey = new Map(licenses.map((license) => [license.licenseKey, license]));
	for (const action of actions) {
		checkStopping(ctx);
		switch (action.type) {
			case 'delete':
				await write(ctx, () => ctx.api.deleteLicense(action.licenseKey));
				break;
			case 'setTier':
				await write(ctx, () => ctx.api.updateSubscription(action.licenseKey, action.tier));
				break;
			case 'setStatus':
				await write(ctx, () => ctx.api.updateStatus(action.licenseKey, action.status));
				break;
			case 'extend':
				await extendTo(ctx, action.licenseKey, action.seconds, action.target);
				break;
			case 'handoff': {
				const license = byKey.get(action.licenseKey);
				const status = license?.status ?? 'active';
				await ctx.handoff?.({ licenseKey: action.licenseKey, expiresAt: isoOrNull(license?.expiresAt), status, seat: action.seat });
				break;
			}
			case 'create': {
				let license = await create(ctx, action, done);
				const key = license.license_key;
				const expiry = expirySeconds(license);
				if (action.expiresAt !== undefined && typeof expiry === 'number' && expiry < action.expiresAt) {
					license = (await extendTo(ctx, key, action.expiresAt - expiry, action.expiresAt)) ?? license;
					done.push({ action: 'extend', seat: action.seat, licenseKey: key });
				}
				if (action.status === 'paused' && license.status !== 'paused') {
					license = await write(ctx, () => ctx.api.updateStatus(key, 'paused'));
					done.push({ action: 'setStatus', seat: action.seat, licenseKey: key });
				}
				if (ctx.handoff !== undefined) {
					await ctx.handoff({ licenseKey: key, expiresAt: license.expires_at ?? null, status: license.status ?? action.status, seat: action.seat });
					done.push({ action: 'handoff', seat: action.seat, licenseKey: key });
				}
				continue;
			}
		}
		done.push({ action: action.type, seat: action.seat, licenseKey: action.licenseKey });
	}
	return done;
}
