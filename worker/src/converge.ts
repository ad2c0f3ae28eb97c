// Converge: make Keycrate match the ledger's merged state of one root. Runs under the root's lock.
//
// Every step reads Keycrate first and acts only on a difference, so running it twice, or after a crash at any
// point, or after a call that committed but whose reply was lost, ends in the same state:
//   create   — intent first (seat `creating` + a search tag unique to the seat); a retry that finds the intent
//              searches Keycrate by the tag and adopts what it finds before it would create again;
//   extend   — target "expiry at least T": extend by T − current expiry, and only when current < T;
//   status   — set to the desired value only when it differs;
//   tier     — update-subscription only when the license's tier differs from the plan's.
// A write that got NO answer (timeout, reset, 408/502/503/504) may still commit on Keycrate after we gave up;
// reading Keycrate before it has would create or extend a second time, or let a newer status be overwritten by
// it. So such a failure holds the root (its lock) for a settle time before it is rethrown, and the retry reads
// what Keycrate finally did. (The client does the same for a write it re-sent successfully after no answer.)

import { createHash } from 'node:crypto';
import type { components } from '../../openapi/keycrate.js';
import type { Config } from './config.js';
import { mayStillCommit } from './keycrate/errors.js';
import type { Ledger, RootState, SeatRecord } from './ledger.js';
import type { KeycrateLicense, Plan, RootId, SeatLine, SettableStatus } from './model.js';

export type LicenseCreateRequest = components['schemas']['LicenseCreateRequest'];

/** The Keycrate calls converge needs (implemented by keycrate/client.ts; a fake in unit tests). */
export interface LicenseApi {
	createLicense(body: LicenseCreateRequest): Promise<KeycrateLicense>;
	getLicense(licenseKey: string): Promise<KeycrateLicense | null>;
	extendLicense(licenseKey: string, extendSeconds: number): Promise<KeycrateLicense>;
	updateStatus(licenseKey: string, status: SettableStatus): Promise<KeycrateLicense>;
	updateSubscription(licenseKey: string, subscriptionId: string | null): Promise<KeycrateLicense>;
	findLicensesByTag(tag: string): Promise<KeycrateLicense[]>;
}

export type SeatAction = 'created' | 'adopted' | 'extended' | 'paused' | 'activated' | 'retiered' | 'gone';

export interface SeatReport {
	seat: number;
	licenseKey?: string;
	actions: SeatAction[];
}

export interface ConvergeDeps {
	/** keycrateTimeoutMs sets the settle time after an unanswered create/extend (2 × timeout; default 10 s). */
	config: Pick<Config, 'keycrateAppId' | 'licenseTag'> & Partial<Pick<Config, 'keycrateTimeoutMs'>>;
	ledger: Ledger;
	api: LicenseApi;
	/** Called once per created license that still needs its hand-off (purchase → email to the buyer). */
	handoff?: (state: RootState, seat: number, license: KeycrateLicense) => Promise<void>;
}

/** Runs a write; when it went unanswered, waits until it must have settled, then rethrows. */
async function settled<T>(deps: ConvergeDeps, call: () => Promise<T>): Promise<T> {
	try {
		return await call();
	} catch (error) {
		if (mayStillCommit(error)) {
			await new Promise((resolve) => setTimeout(resolve, 2 * (deps.config.keycrateTimeoutMs ?? 10000)));
		}
		throw error;
	}
}

/** The tag that finds a seat's license again on Keycrate, whatever happened to our reply or our process. */
export function seatTag(root: RootId, seat: number): string {
	return `kcsync-${createHash('sha256').update(`${root}#${seat}`).digest('hex').slice(0, 32)}`;
}

/** The plan of every seat in order: line 1's `count` seats, then line 2's, … */
export function seatPlans(lines: SeatLine[]): Plan[] {
	return lines.flatMap((line) => Array.from({ length: Math.max(0, line.count) }, () => line.plan));
}

export function desiredStatus(state: RootState): SettableStatus {
	if (state.revoked) return 'paused';
	return state.status?.value ?? 'active';
}

function metadataFor(state: RootState, seat: number): Record<string, string | boolean> {
	const { linkage } = state;
	const metadata: Record<string, string | boolean | undefined> = {
		source: 'stripe',
		stripe_customer: linkage.customerId,
		stripe_email: linkage.email,
		stripe_checkout_session: linkage.checkoutSessionId,
		stripe_payment_intent: linkage.paymentIntentId,
		stripe_subscription: linkage.subscriptionId,
		stripe_invoice: linkage.invoiceId,
		stripe_livemode: linkage.livemode,
		keycrate_sync_seat: `${state.root}#${seat}`,
	};
	return Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined)) as Record<string, string | boolean>;
}

function createRequest(deps: ConvergeDeps, state: RootState, seat: number, plan: Plan, tag: string): LicenseCreateRequest {
	const tags = [...new Set([deps.config.licenseTag, tag, ...(plan.tags ?? [])])].slice(0, 20);
	const request = {
		app_id: deps.config.keycrateAppId,
		tags,
		metadata: metadataFor(state, seat),
		...(plan.subscriptionId ? { subscription_id: plan.subscriptionId } : {}),
		...(plan.keyPattern ? { key_pattern: plan.keyPattern } : {}),
		...(plan.hwidLock !== undefined ? { hwid_lock: plan.hwidLock } : {}),
	};
	if (state.kind === 'subscription') {
		// A subscription seat's expiry is the period end (+ grace), reached exactly by the extend that follows;
		// the shortest duration keeps a half-done create from granting more than was paid for.
		return { ...request, duration_unit: 'minutes', duration_value: 1 };
	}
	return plan.durationUnit === 'lifetime'
		? { ...request, duration_unit: 'lifetime' }
		: { ...request, duration_unit: plan.durationUnit, duration_value: plan.durationValue };
}

/** Finds the seat's license, creating it (intent first) when it does not exist yet. */
async function ensureLicense(
	deps: ConvergeDeps,
	state: RootState,
	seat: number,
	plan: Plan | undefined,
	record: SeatRecord | null,
	report: SeatReport,
): Promise<KeycrateLicense | null> {
	const { ledger, api } = deps;
	if (record?.state === 'gone') {
		report.actions.push('gone');
		return null;
	}
	if (record?.state === 'created') {
		const license = await api.getLicense(record.licenseKey);
		if (license === null) {
			await ledger.markSeatGone(state.root, seat, record.tag, record.licenseKey);
			report.actions.push('gone');
		}
		return license;
	}
	const tag = seatTag(state.root, seat);
	if (record?.state === 'creating') {
		// The last attempt may have created it and lost the reply (or died): look before creating again.
		const found = await api.findLicensesByTag(tag);
		if (found.length > 0) {
			const oldest = [...found].sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
			await ledger.markSeatCreated(state.root, seat, tag, oldest.license_key);
			report.actions.push('adopted');
			return oldest;
		}
	}
	// No line names a plan any more (every item removed): nothing to create the seat from.
	if (plan === undefined) return null;
	if (record === null) await ledger.markSeatCreating(state.root, seat, tag);
	const license = await settled(deps, () => api.createLicense(createRequest(deps, state, seat, plan, tag)));
	await ledger.markSeatCreated(state.root, seat, tag, license.license_key);
	report.actions.push('created');
	return license;
}

function expirySeconds(license: KeycrateLicense): number | null {
	return license.expires_at === null ? null : Date.parse(license.expires_at) / 1000;
}

export async function convergeRoot(deps: ConvergeDeps, root: RootId): Promise<SeatReport[]> {
	const { ledger, api } = deps;
	const state = await ledger.readRoot(root);
	if (state === null) return [];
	const plans = seatPlans(state.lines);
	const target = desiredStatus(state);
	const seatCount = Math.max(state.seatsEverCreated, plans.length === 0 ? 0 : state.seatsNeeded);
	const reports: SeatReport[] = [];

	for (let seat = 0; seat < seatCount; seat++) {
		const report: SeatReport = { seat, actions: [] };
		reports.push(report);
		const record = await ledger.readSeat(root, seat);
		const inQuantity = seat < plans.length;
		// A seat above the current quantity keeps following the subscription (the last line's plan) while paused,
		// so its tier and expiry do not depend on when the quantity dropped: any delivery order ends the same.
		const plan: Plan | undefined = plans[seat] ?? plans[plans.length - 1];
		// A seat is created only when an in-order delivery would have created it (seatsNeeded).
		if (record === null && (seat >= state.seatsNeeded || plan === undefined)) continue;

		let license = await ensureLicense(deps, state, seat, plan, record, report);
		if (license === null) continue;
		const licenseKey = license.license_key;
		report.licenseKey = licenseKey;

		if (state.kind === 'subscription') {
			const tier = plan?.subscriptionId ?? null;
			if (plan?.subscriptionId !== undefined && license.subscription_id !== tier) {
				license = await settled(deps, () => api.updateSubscription(licenseKey, tier));
				report.actions.push('retiered');
			}
			const expiry = expirySeconds(license);
			if (state.expiresAtLeast !== undefined && expiry !== null && expiry < state.expiresAtLeast) {
				const extendSeconds = Math.ceil(state.expiresAtLeast - expiry);
				license = await settled(deps, () => api.extendLicense(licenseKey, extendSeconds));
				report.actions.push('extended');
			}
		}

		// Seats beyond the current quantity are paused, not deleted: a seller can see and reuse them.
		const wanted: SettableStatus = inQuantity ? target : 'paused';
		if (wanted === 'paused' && license.status !== 'paused') {
			license = await settled(deps, () => api.updateStatus(licenseKey, 'paused'));
			report.actions.push('paused');
		} else if (wanted === 'active' && license.status === 'paused') {
			license = await settled(deps, () => api.updateStatus(licenseKey, 'active'));
			report.actions.push('activated');
		}

		// The seat is `created` now; its hand-off is still owed if this run created or adopted it, or an earlier
		// run did and stopped before queueing the hand-off.
		const handoffOwed = record?.state === 'created' ? !record.handoffQueued : true;
		if (deps.handoff && handoffOwed) {
			await deps.handoff(state, seat, license);
			await ledger.markHandoffQueued(root, seat);
		}
	}
	return reports;
}
