// Pure: the desired seats of a root and the licenses Keycrate holds for it → the calls that make them equal.
// plan() decides everything, execute only calls. Every action moves toward a target read in this same sync
// ("expiry at least T", "status paused"), so a plan made after any crash, duplicate or lost reply only does
// what is still missing.
//
//   matching           a seat keeps the license of its own seat in its app; a seat without one adopts a license
//                      of the root in the same app that no seat asks for any more (an item replaced, a price
//                      changed: the buyer's key survives and moves tier); only then is one created
//   two or more on one seat → keep the one handed off (the older when neither or both were), delete the rest:
//                      a create that committed after its reply was lost
//   no license         → create, only for an active seat whose expiry is still ahead (nothing for what nobody
//                      paid for); its tags name root and seat, so a lost reply is found next time; then extend it
//                      to its target and hand it off (when LICENSE_WEBHOOK_URL is set)
//   tier differs       → set the tier (a plan without a tier leaves the license's alone)
//   expiry before the target → extend to it; never shortened
//   status differs     → set it; licenses no seat asks for are paused, not deleted
//   active, not handed off → hand off (a license that becomes active later is handed off then, once)

import type { DesiredSeat, FoundLicense, LicenseCreateRequest, Linkage, RootId, RootKind, SeatKey, SettableStatus, UnixSeconds } from '../model.js';
import { licenseMetadata, licenseTags } from './record.js';

/**
 * A planned call. `licenseKey` absent = the license this plan creates for `seat` (its key is known once the
 * create is answered).
 */
export type Action =
	| { type: 'delete'; seat: SeatKey; licenseKey: string; keptKey: string }
	/** `expiresAt`: a subscription seat's target; the duration is counted from when the call is sent. */
	| { type: 'create'; seat: SeatKey; request: LicenseCreateRequest; expiresAt?: UnixSeconds }
	| { type: 'setTier'; seat: SeatKey; licenseKey: string; tier: string }
	/** To `target` from `from` (the expiry read in this sync), or from the expiry the create answered. */
	| { type: 'extend'; seat: SeatKey; licenseKey?: string; target: UnixSeconds; from?: UnixSeconds }
	| { type: 'setStatus'; seat: SeatKey; licenseKey: string; status: SettableStatus }
	| { type: 'handoff'; seat: SeatKey; licenseKey?: string };

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

/** Oldest first, then by key: an order no call of a plan changes. */
function oldestFirst(a: FoundLicense, b: FoundLicense): number {
	const byAge = (a.createdAt ?? '\uffff').localeCompare(b.createdAt ?? '\uffff');
	return byAge !== 0 ? byAge : a.licenseKey.localeCompare(b.licenseKey);
}

/** The order of a seat's licenses, best first: handed off, then oldest, then by key (a stable order for ties). */
export function bestFirst(a: FoundLicense, b: FoundLicense): number {
	if (a.handedOff !== b.handedOff) return a.handedOff ? -1 : 1;
	return oldestFirst(a, b);
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
	for (const [unit, size] of [
		['minutes', 60],
		['hours', 3600],
		['days', 86400],
	] as const) {
		const count = Math.floor(remaining / size);
		if (count <= MAX_DURATION_VALUE) return { duration_unit: unit, duration_value: Math.max(1, count) };
	}
	return { duration_unit: 'days', duration_value: MAX_DURATION_VALUE };
}

function createRequest(input: PlanInput, seat: DesiredSeat): LicenseCreateRequest {
	const { plan } = seat;
	return {
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
}

function statusAction(seat: SeatKey, license: FoundLicense, wanted: SettableStatus): Action[] {
	// Unknown status (an inferred field missing) → set it: the call is idempotent.
	const differs = wanted === 'paused' ? license.status !== 'paused' : license.status === 'paused' || license.status === undefined;
	return differs ? [{ type: 'setStatus', seat, licenseKey: license.licenseKey, status: wanted }] : [];
}

/** A seat's license and what it must become. */
function converge(input: PlanInput, seat: DesiredSeat, license: FoundLicense): Action[] {
	const actions: Action[] = [];
	const licenseKey = license.licenseKey;
	const tier = seat.plan.subscriptionId;
	if (tier !== undefined && license.tier !== tier) actions.push({ type: 'setTier', seat: seat.seat, licenseKey, tier });
	if (input.rootKind === 'subscription' && seat.expiresAt !== undefined && typeof license.expiresAt === 'number' && license.expiresAt < seat.expiresAt) {
		actions.push({ type: 'extend', seat: seat.seat, licenseKey, target: seat.expiresAt, from: license.expiresAt });
	}
	actions.push(...statusAction(seat.seat, license, seat.status));
	if (input.handoff && seat.status === 'active' && !license.handedOff) actions.push({ type: 'handoff', seat: seat.seat, licenseKey });
	return actions;
}

/** A license for a seat that has none: only what was paid for and has not run out. */
function createFor(input: PlanInput, seat: DesiredSeat): Action[] {
	if (seat.status !== 'active' || (seat.expiresAt !== undefined && seat.expiresAt <= input.now)) return [];
	const actions: Action[] = [
		{
			type: 'create',
			seat: seat.seat,
			request: createRequest(input, seat),
			...(input.rootKind === 'subscription' && seat.expiresAt !== undefined ? { expiresAt: seat.expiresAt } : {}),
		},
	];
	if (input.rootKind === 'subscription' && seat.expiresAt !== undefined) actions.push({ type: 'extend', seat: seat.seat, target: seat.expiresAt });
	if (input.handoff) actions.push({ type: 'handoff', seat: seat.seat });
	return actions;
}

const placeOf = (appId: string, seat: SeatKey) => `${appId}\u0000${seat}`;

export function plan(input: PlanInput): Action[] {
	// The licenses of each (app, seat), best first; a license whose seat cannot be read is not ours to touch.
	const byPlace = new Map<string, FoundLicense[]>();
	for (const license of input.licenses) {
		if (license.seat === undefined) continue;
		const place = placeOf(license.appId, license.seat);
		byPlace.set(place, [...(byPlace.get(place) ?? []), license]);
	}
	const actions: Action[] = [];
	const keepers = new Map<string, FoundLicense>();
	for (const [place, licenses] of [...byPlace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
		const [keeper, ...extra] = [...licenses].sort(bestFirst);
		keepers.set(place, keeper);
		for (const license of extra) actions.push({ type: 'delete', seat: keeper.seat as SeatKey, licenseKey: license.licenseKey, keptKey: keeper.licenseKey });
	}

	// Each seat its own license first; then the seats left adopt, in seat order, the licenses left in their app.
	const matched = new Map<SeatKey, FoundLicense>();
	const free = new Map(keepers);
	for (const seat of input.seats) {
		const place = placeOf(seat.appId, seat.seat);
		const own = free.get(place);
		if (own === undefined) continue;
		matched.set(seat.seat, own);
		free.delete(place);
	}
	for (const seat of input.seats) {
		if (matched.has(seat.seat)) continue;
		// Oldest first, not handed-off first: the hand-off this plan queues must not change the next plan's match.
		const adoptable = [...free.entries()].filter(([, license]) => license.appId === seat.appId).sort(([, a], [, b]) => oldestFirst(a, b));
		const [first] = adoptable;
		if (first === undefined) continue;
		matched.set(seat.seat, first[1]);
		free.delete(first[0]);
	}

	for (const seat of input.seats) {
		const license = matched.get(seat.seat);
		actions.push(...(license === undefined ? createFor(input, seat) : converge(input, seat, license)));
	}
	// Licenses no seat asks for (a quantity went down, an item removed, a plan moved to another app) stay,
	// paused: a seller can see and reuse them.
	for (const license of free.values()) actions.push(...statusAction(license.seat as SeatKey, license, 'paused'));
	return actions;
}

/** A root that can no longer be licensed (no plan, bad metadata, over the seat bound): pause all it holds. */
export function planPauseAll(licenses: FoundLicense[]): Action[] {
	return licenses.flatMap((license) => (license.seat === undefined ? [] : statusAction(license.seat, license, 'paused')));
}
