// Applies a plan to Keycrate, in order, one call per action, and reports what was done. It decides nothing that
// plan() did not, but for one rule:
//
// Create and extend are the calls a re-send would double (the contract's x-keycrate-write-once). When one of them
// is answered with a failure that may have applied (a 500, an unreadable 2xx), the answer settles it: the seat is
// read again (by its tags) and the call is made again only if it did not apply. When one gets NO answer (timeout,
// reset, 408/502/503/504) it may still apply later, so the sync stops with UnsettledWriteError and the job runs
// again only after it must have settled (SETTLE: 2 × KEYCRATE_TIMEOUT_MS): no sleeping here, no lock.

import { UnsettledWriteError } from '../errors.js';
import type { FoundLicense, KeycrateLicense, RootId, SeatKey, UnixSeconds } from '../model.js';
import { isKeycrateError, mayStillCommit } from './errors.js';
import { readRootLicenses, type LicenseApi } from './licenses.js';
import type { Action } from './plan.js';
import { bestFirst, subscriptionDuration } from './plan.js';
import { readLicense } from './record.js';

export type { LicenseApi } from './licenses.js';

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
	/** How long an unanswered write may take to land (the settle time, config.settleMs). */
	settleMs: number;
	/**
	 * Queues the hand-off of a license (LICENSE_WEBHOOK_URL); absent when hand-offs are off. Only queued (job id =
	 * the license key); the hand-off job marks the license once the post was taken, so a hand-off lost with
	 * Redis is queued again by the next sync.
	 */
	handoff?: (license: HandoffLicense) => Promise<void>;
	/** Set when the process is stopping: the sync ends between two calls, to be retried. */
	signal?: AbortSignal;
	/** Receives each call done as it is done, so a sync that fails midway can still say what it did (history). */
	done?: Done[];
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

function expirySeconds(license: unknown): UnixSeconds | null | undefined {
	return readLicense(license, '')?.expiresAt;
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
	try {
		return await run(ctx, actions, licenses, done);
	} finally {
		ctx.done?.push(...done);
	}
}

async function run(ctx: ExecuteContext, actions: Action[], licenses: FoundLicense[], done: Done[]): Promise<Done[]> {
	const read = new Map(licenses.map((license) => [license.licenseKey, license]));
	/** The license each seat got from a create in this run. */
	const created = new Map<SeatKey, string>();
	/** The latest reply for a license written in this run (its expiry and status as Keycrate answered). */
	const answered = new Map<string, KeycrateLicense>();
	const keyOf = (action: { seat: SeatKey; licenseKey?: string }): string | undefined => action.licenseKey ?? created.get(action.seat);

	for (const action of actions) {
		checkStopping(ctx);
		if (action.type === 'create') {
			const license = await create(ctx, action, done);
			created.set(action.seat, license.license_key);
			answered.set(license.license_key, license);
			continue;
		}
		const licenseKey = keyOf(action);
		if (licenseKey === undefined) continue; // a follow-up of a create that did not happen
		switch (action.type) {
			case 'delete':
				await write(ctx, () => ctx.api.deleteLicense(licenseKey));
				break;
			case 'setTier':
				answered.set(licenseKey, await write(ctx, () => ctx.api.updateSubscription(licenseKey, action.tier)));
				break;
			case 'setStatus':
				answered.set(licenseKey, await write(ctx, () => ctx.api.updateStatus(licenseKey, action.status)));
				break;
			case 'extend': {
				const from = action.from ?? expirySeconds(answered.get(licenseKey));
				// A create that already landed on its target (or a lifetime answer) needs no extend.
				if (typeof from !== 'number' || from >= action.target) continue;
				const reply = await extendTo(ctx, licenseKey, action.target - from, action.target);
				if (reply !== undefined) answered.set(licenseKey, reply);
				break;
			}
			case 'handoff': {
				const reply = answered.get(licenseKey);
				const known = read.get(licenseKey);
				const expiresAt = reply !== undefined ? expirySeconds(reply) : known?.expiresAt;
				const status = reply?.status ?? known?.status ?? 'active';
				await ctx.handoff?.({ licenseKey, expiresAt: isoOrNull(expiresAt), status, seat: action.seat });
				break;
			}
		}
		done.push({ action: action.type, seat: action.seat, licenseKey });
	}
	return done;
}
