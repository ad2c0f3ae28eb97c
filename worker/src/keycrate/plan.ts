// Pure: the desired seats of a root and the licenses Keycrate holds for it → the calls that make them equal.
// Every action moves toward a target read in this same sync ("expiry at least T", "status paused"), so a
// plan made after any crash, duplicate or lost reply only does what is still missing.
//
//   no license on a seat          → create (its tags name root and seat, so a lost reply is found next time)
//   two or more on one seat       → keep the one handed off (the older when neither or both were), delete the
//                                   rest: a create that committed after its reply was lost
//   tier differs from the plan's  → set the tier (a plan without a tier leaves the license's alone)
//   expiry before the target      → extend by (target − the expiry just read); never shortened
//   status differs                → set it; seats above the quantity are paused, not deleted
//   created but not handed off    → hand off (when LICENSE_WEBHOOK_URL is set)

import type { DesiredSeat, FoundLicense, LicenseCreateRequest, Linkage, RootId, RootKind, SeatKey, SettableStatus, UnixSeconds } from '../model.js';
import { licenseMetadata, licenseTags } from './record.js';

export type Action =
	| { type: 'delete'; seat: SeatKey; licenseKey: string; keptKey: string }
	| { type: 'create'; seat: SeatKey; request: LicenseCreateRequest; status: SettableStatus; expiresAt?: UnixSeconds }
	| { type: 'setTier'; seat: SeatKey; licenseKey: string; tier: string }
	/** `seconds` = target − the expiry read in this sync; `target` lets a retry after an answered 5xx re-check. */
	| { type: 'extend'; seat: SeatKey; licenseKey: string; seconds: number; target: UnixSeconds }
	| { type: 'setStatus'; seat: SeatKey; licenseKey: string; status: SettableStatus }
	| { type: 'handoff'; seat: SeatKey; licenseKey: string };

export interface PlanInput {
	root: RootId;
	rootKind: RootKind;
	seats: DesiredSeat[];
	linkage: Linkage;
	licenses: FoundLicense[];
	licenseTag: string;
	/** Hand-offs are planned only when LICENSE_WEBHOOK_URL is set. */
	handoff: boolean;
	now: UnixSeconds;
}

const MAX_DURATION_VALUE = 100000;

/** The order of a seat's licenses, best first: handed off, then oldest, then by key (a stable order for ties). */
export function bestFirst(a: FoundLicense, b: FoundLicense): number {
	if (a.handedOff !== b.handedOff) return a.handedOff ? -1 : 1;
	const byAge = (a.createdAt ?? '\uffff').localeCompare(b.createdAt ?? '\uffff');
	return byAge !== 0 ? byAge : a.licenseKey.localeCompare(b.licenseKey);
}

/**
 * How far below its target a subscription seat's license is created. Keycrate counts the duration from when the
 * create lands, which can be seconds after `now` (retries, load); the extend that follows closes the gap exactly.
 */
export const CREATE_MARGIN_SECONDS = 300;

/**
 * A subscription seat's first duration: the largest whole unit count that cannot pass the target even if the
 * create lands CREATE_MARGIN_SECONDS late, so the extend that follows (by target − the expiry Keycrate answered)
 * lands on it exactly and never overshoots.
 */
export function subscriptionDuration(expiresAt: UnixSeconds | undefined, now: UnixSeconds): Pick<LicenseCreateRequest, 'duration_unit' | 'duration_value'> {
	const remaining = expiresAt === undefined ? 0 : expiresAt - now - CREATE_MARGIN_SECONDS;
	for (const [unit, size] of [['minutes', 60], ['hours', 3600], ['days', 86400]] as const) {
		const count = Math.floor(remaining / size);
		if (count <= MAX_DURATION_VALUE) return { duration_unit: unit, duration_value: Math.max(1, count) };
	}
	return { duration_unit: 'days', duration_value: MAX_DURATION_VALUE };
}

function createAction(input: PlanInput, seat: DesiredSeat): Action {
	const { plan } = seat;
	const request: LicenseCreateRequest = {
		app_id: seat.appId,
		tags: licenseTags(input.root, seat.seat, input.licenseTag, plan.tags),
		metadata: licenseMetadata(input.root, seat.seat, input.linkage),
		...(plan.subscriptionId ? { subscription_id: plan.subscriptionId } : {}),
		...(plan.keyPattern ? { key_pattern: plan.keyPattern } : {}),
		...(plan.hwidLock !== undefined ? { hwid_lock: plan.hwidLock } : {}),
		...(input.rootKind === 'subscription'
			? subscriptionDuration(seat.expiresAt, input.now)
			: plan.durationUnit === 'lifetime' || plan.durationUnit === undefined
				? { duration_unit: 'lifetime' as const }
				: { duration_unit: plan.durationUnit, duration_value: plan.durationValue }),
	};
	return { type: 'create', seat: seat.seat, request, status: seat.status, ...(input.rootKind === 'subscription' && seat.expiresAt !== undefined ? { expiresAt: seat.expiresAt } : {}) };
}

function statusAction(seat: SeatKey, license: FoundLicense, wanted: SettableStatus): Action[] {
	// Unknown status (an inferred field missing) → set it: the call is idempotent.
	const differs = wanted === 'paused' ? license.status !== 'paused' : license.status === 'paused' || license.status === undefined;
	return differs ? [{ type: 'setStatus', seat, licenseKey: license.licenseKey, status: wanted }] : [];
}

export function plan(input: PlanInput): Action[] {
	const wanted = new Map(input.seats.map((seat) => [seat.seat, seat]));
	const bySeat = new Map<SeatKey, FoundLicense[]>();
	const elsewhere: FoundLicense[] = [];
	for (const license of input.licenses) {
		if (license.seat === undefined) continue;
		// A license in another app than its seat's plan names (the plan moved) is not that seat's: paused below.
		const seat = wanted.get(license.seat);
		if (seat !== undefined && seat.appId !== license.appId) elsewhere.push(license);
		else bySeat.set(license.seat, [...(bySeat.get(license.seat) ?? []), license]);
	}
	const actions: Action[] = [];
	const keepers = new Map<SeatKey, FoundLicense>();
	for (const [seat, licenses] of [...bySeat.entries()].sort(([a], [b]) => a.localeCompare(b))) {
		const [keeper, ...extra] = [...licenses].sort(bestFirst);
		keepers.set(seat, keeper);
		for (const license of extra) actions.push({ type: 'delete', seat, licenseKey: license.licenseKey, keptKey: keeper.licenseKey });
	}

	for (const seat of input.seats) {
		const license = keepers.get(seat.seat);
		if (license === undefined) {
			actions.push(createAction(input, seat));
			continue;
		}
		const key = license.licenseKey;
		const tier = seat.plan.subscriptionId;
		if (tier !== undefined && license.tier !== tier) actions.push({ type: 'setTier', seat: seat.seat, licenseKey: key, tier });
		if (input.rootKind === 'subscription' && seat.expiresAt !== undefined && typeof license.expiresAt === 'number' && license.expiresAt < seat.expiresAt) {
			actions.push({ type: 'extend', seat: seat.seat, licenseKey: key, seconds: seat.expiresAt - license.expiresAt, target: seat.expiresAt });
		}
		actions.push(...statusAction(seat.seat, license, seat.status));
		if (input.handoff && !license.handedOff) actions.push({ type: 'handoff', seat: seat.seat, licenseKey: key });
	}

	// Seats no line asks for any more (a quantity went down, an item was removed) keep their license, paused: a
	// seller can see and reuse it. Likewise a license left in another app.
	for (const [seat, license] of keepers) {
		if (!wanted.has(seat)) actions.push(...statusAction(seat, license, 'paused'));
	}
	for (const license of elsewhere) actions.push(...statusAction(license.seat as SeatKey, license, 'paused'));
	return actions;
}
