// The worker's domain vocabulary: what a Stripe event means for licenses, independent of Stripe's wire shapes
// (handlers/ parse those) and of Keycrate's API (effects/ speak it).
//
// A "root" is the unit that owns licenses and is serialised: one Stripe subscription, or one one-off purchase
// (its payment intent, else its checkout session). Each root has "seats": one license each.
// Handlers turn an event into Facts about roots. Facts merge into the ledger with order-independent rules
// (latest asOf wins, expiry only grows, revocations stick), so duplicates and any delivery order give the
// same merged state; then the root is converged: Keycrate is made to match the merged state.

import type { components } from '../../openapi/keycrate.js';

export type DurationUnit = components['schemas']['DurationUnit'];
export type KeycrateLicense = components['schemas']['License'];
export type SettableStatus = components['schemas']['SettableStatus'];

/** What one seat of a price buys on Keycrate. From price/session metadata, else PLANS_FILE. */
export interface Plan {
	/** Keycrate subscription tier (uuid); absent = no tier. */
	subscriptionId?: string;
	durationUnit: DurationUnit;
	/** Absent only for lifetime. */
	durationValue?: number;
	keyPattern?: string;
	hwidLock?: boolean;
	tags?: string[];
}

/** Where a license came from, written into its metadata so a seller can find it again. */
export interface Linkage {
	customerId?: string;
	email?: string;
	checkoutSessionId?: string;
	paymentIntentId?: string;
	subscriptionId?: string;
	invoiceId?: string;
	livemode?: boolean;
}

/** Seconds since the epoch, Stripe's unit; `event.created` orders facts of one root. */
export type UnixSeconds = number;

/** A stamped value: the newest asOf wins; on a tie the higher rank wins (e.g. deleted over updated). */
export interface Stamped<T> {
	value: T;
	asOf: UnixSeconds;
	rank: number;
}

export type RootId = `sub:${string}` | `pay:${string}`;

/** One line of what was bought: `count` seats of `plan`, identified by a stable line key (price or item id). */
export interface SeatLine {
	lineKey: string;
	priceId?: string;
	plan: Plan;
	count: number;
}

/** Everything a handler may say about a root. Every field is optional: facts arrive piecemeal. */
export interface RootFacts {
	root: RootId;
	kind: 'subscription' | 'payment';
	linkage?: Linkage;
	/** The lines bought (payment) or the subscription items with their quantities (subscription). */
	lines?: Stamped<SeatLine[]>;
	/** Desired license status from the subscription's status (subscriptions only). */
	status?: Stamped<SettableStatus>;
	/** Licenses must not expire before this (period end + grace). Merged with max. */
	expiresAtLeast?: UnixSeconds;
	/**
	 * Something entitled the buyer (a paid purchase, an active/trialing status, a paid invoice). Merged with OR:
	 * seats are created only once a root was ever entitled, so an out-of-order "canceled" before "active"
	 * still ends with a created-then-paused license, as a clean delivery would.
	 */
	entitled?: boolean;
	/** A payment (intent id) made for this root, so a later refund of it finds the root. */
	paymentIntentIds?: string[];
}

/** Why an event led to no license effect; recorded and reported, never retried. */
export type Ignored =
	| { reason: 'event_type_not_handled'; type: string }
	| { reason: 'livemode_filtered'; livemode: boolean }
	| { reason: 'not_paid'; detail: string }
	| { reason: 'partial_refund'; detail: string }
	| { reason: 'unmapped_purchase'; detail: string; priceIds: string[] }
	| { reason: 'no_root'; detail: string };

/** A refund or dispute names a payment, not a root: the ledger resolves it (now, or when the root appears). */
export interface PaymentRevocation {
	paymentIntentId: string;
	asOf: UnixSeconds;
	reason: 'refund' | 'dispute';
}

/** What a pure handler returns for one event. */
export interface HandlerResult {
	facts: RootFacts[];
	revocations: PaymentRevocation[];
	ignored?: Ignored;
	/** Things a seller should know that did not stop the event (e.g. one unmapped line of three). */
	warnings?: string[];
}
