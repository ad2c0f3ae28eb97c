// The worker's vocabulary, between Stripe's wire shapes (stripe/fetch.ts reads them) and Keycrate's API
// (keycrate/ speaks it).
//
// A ROOT owns licenses: one Stripe subscription (`sub_…`), or one one-off purchase, named by its payment
// intent (`pi_…`), or by its Checkout Session when nothing was charged (`cs_…`). Each root has SEATS 0…n−1,
// one license each. A sync reads the root's current state from Stripe, derives the desired seats (pure), reads
// the root's licenses from Keycrate by the root's tag, plans the difference (pure) and applies it.

import type { components } from '../../openapi/keycrate.js';

export type DurationUnit = components['schemas']['DurationUnit'];
export type KeycrateLicense = components['schemas']['License'];
export type SettableStatus = components['schemas']['SettableStatus'];
export type LicenseCreateRequest = components['schemas']['LicenseCreateRequest'];

/** Seconds since the epoch, Stripe's unit. */
export type UnixSeconds = number;

/** `sub_…`, `pi_…` or `cs_…`. */
export type RootId = string;
export type RootKind = 'subscription' | 'payment';

/** What one seat of a price buys on Keycrate: from keycrate_* metadata, else PLANS_FILE. */
export interface Plan {
	/** Keycrate app; absent = KEYCRATE_APP_ID. */
	appId?: string;
	/** Keycrate subscription tier (uuid); absent = no tier (an existing one is left alone). */
	subscriptionId?: string;
	/** One-off purchases only: a subscription's expiry follows its billing period. */
	durationUnit?: DurationUnit;
	durationValue?: number;
	keyPattern?: string;
	hwidLock?: boolean;
	tags?: string[];
}

/** Where a license came from, written into its metadata and its hand-off so a seller can find it again. */
export interface Linkage {
	customerId?: string;
	email?: string;
	checkoutSessionId?: string;
	paymentIntentId?: string;
	subscriptionId?: string;
	livemode?: boolean;
}

/** A price as the worker needs it to find its plan. */
export interface PriceInfo {
	id: string;
	lookupKey?: string;
	metadata: Record<string, string>;
}

/** One line of what was bought: a Checkout line item or a subscription item. */
export interface Line {
	/** Stable id of the line (`si_…`, `li_…`): its seats are numbered within it, so one line's change never moves another's. */
	key?: string;
	price?: PriceInfo;
	quantity: number;
	/** Subscription items: the end of the period paid for. */
	periodEnd?: UnixSeconds;
}

/** The facts about a payment that decide whether its licenses may stay active. */
export interface PaymentFacts {
	/** Fully refunded (a partial refund leaves the licenses alone). */
	refunded: boolean;
	/** A dispute that is open or lost (won disputes and closed inquiries do not count). */
	disputed: boolean;
}

export type SubscriptionStatus =
	| 'incomplete'
	| 'incomplete_expired'
	| 'trialing'
	| 'active'
	| 'past_due'
	| 'canceled'
	| 'unpaid'
	| 'paused';

/** A subscription as Stripe has it now. */
export interface SubscriptionState {
	kind: 'subscription';
	root: RootId;
	status: SubscriptionStatus;
	metadata: Record<string, string>;
	lines: Line[];
	/** The payment of the latest invoice, when there is one. */
	latestPayment?: PaymentFacts;
	linkage: Linkage;
}

/** A one-off purchase as Stripe has it now. */
export interface PaymentState {
	kind: 'payment';
	root: RootId;
	/** Succeeded, or a Checkout Session that is paid or needed no payment. */
	paid: boolean;
	payment: PaymentFacts;
	/** The Checkout Session's metadata (may name a plan for every line). */
	metadata: Record<string, string>;
	lines: Line[];
	linkage: Linkage;
}

/** The root's state, or why there is nothing to license. */
export type RootState =
	| SubscriptionState
	| PaymentState
	/** A payment intent that paid a subscription invoice: the subscription is the root to sync. */
	| { kind: 'redirect'; root: RootId; to: RootId }
	/** Stripe does not know the object, or it sold nothing through Checkout or a subscription. */
	| { kind: 'none'; root: RootId; reason: string };

/** A seat: `<line key>:<n>`, the n-th license of one line. */
export type SeatKey = string;

/** One seat as it should be on Keycrate. */
export interface DesiredSeat {
	seat: SeatKey;
	appId: string;
	status: SettableStatus;
	plan: Plan;
	/** Subscriptions: the license must not expire before this (period end + grace). */
	expiresAt?: UnixSeconds;
}

export type Desired =
	| { kind: 'seats'; root: RootId; rootKind: RootKind; seats: DesiredSeat[]; linkage: Linkage; warnings: string[] }
	/** Nothing to license (not paid yet, no Keycrate plan): recorded and reported, not retried. */
	| { kind: 'skip'; root: RootId; reason: SkipReason; detail: string };

export type SkipReason = 'not_paid' | 'no_plan' | 'not_a_purchase' | 'unknown_object' | 'not_handled' | 'no_root';

/** A Keycrate license that belongs to a root, as read back (tolerantly: inferred fields may be missing). */
export interface FoundLicense {
	licenseKey: string;
	appId: string;
	/** Undefined when neither its tags nor its metadata say (not ours to touch). */
	seat?: SeatKey;
	status?: string;
	/** Seconds; null = lifetime; undefined = the reply did not say. */
	expiresAt?: UnixSeconds | null;
	tier?: string | null;
	createdAt?: string;
	metadata: Record<string, unknown>;
	/** Its hand-off was queued (metadata marker). */
	handedOff: boolean;
}
