// The worker's vocabulary, between Stripe's wire shapes (stripe/fetch.ts reads them) and Keycrate's API
// (keycrate/ speaks it).
//
// ROOT      what owns licenses: one Stripe subscription (`sub_…`), or one one-off purchase, named by its payment
//           intent (`pi_…`), or by its Checkout Session when nothing was charged (`cs_…`). Every event maps to one.
// REDIRECT  a root that turns out to be another's: a payment intent that paid a subscription invoice is synced
//           as that subscription.
// SEAT      one license of a root: `<line key>:<n>`, the n-th unit of quantity of one line (a subscription item
//           `si_…`, a Checkout line item `li_…`).
// LINKAGE   where a license came from (customer, email, Stripe ids): written into its metadata and hand-off.
// ENTITLEMENT what the root's payments entitle it to now: active or paused, and the paid-through time.
// SETTLE    the time an unanswered Keycrate write may still take to land (config.settleMs); a sync that sent
//           one runs again only after it, and reads what it did.
//
// A sync reads the root's current state from Stripe, derives the desired seats (pure), reads the root's
// licenses from Keycrate by the root's tag, plans the difference (pure) and applies it.

// The contract's generated types (openapi/keycrate.d.ts): tsconfig's rootDirs lays ../openapi over src, and the
// build copies the file to dist/keycrate.d.ts, so the published declarations need nothing outside the package.
import type { components } from './keycrate.js';

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
	/** A metered price (`recurring.usage_type: metered`): usage, not seats, so never a license. */
	metered?: boolean;
}

/** One payment (a charge of a payment intent) as it stands now: the facts entitlement rules read. */
export interface PaymentFacts {
	paymentIntentId?: string;
	/** When it was charged (the dispute window counts from here). */
	created?: UnixSeconds;
	/** Fully refunded by refunds that have not failed or been canceled (a partial refund leaves licenses alone). */
	refunded: boolean;
	/** The statuses of its disputes, as Stripe has them now (desired.ts decides which revoke). */
	disputes: string[];
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';

/** One invoice of a subscription, read for what it paid for. */
export interface InvoiceFacts {
	id: string;
	status: InvoiceStatus;
	created: UnixSeconds;
	/** The period its non-proration lines bill (latest start to latest end); absent = it covers no period (a proration). */
	covers?: { start: UnixSeconds; end: UnixSeconds };
	/** The payments that paid it (none for a $0 invoice, a credit balance or one paid out of band). */
	payments: PaymentFacts[];
}

export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';

/** A subscription as Stripe has it now. */
export interface SubscriptionState {
	kind: 'subscription';
	root: RootId;
	status: SubscriptionStatus;
	metadata: Record<string, string>;
	lines: Line[];
	/** Its invoices, newest first: the latest page (fetch.ts says how far back). */
	invoices: InvoiceFacts[];
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

/** Why a root's seats have the status they have: for logs, history and the README's table. */
export interface Entitlement {
	status: SettableStatus;
	reason: string;
	/** Subscriptions: the end of the latest period a payment that still stands paid for. */
	paidThrough?: UnixSeconds;
}

export type Desired =
	| { kind: 'seats'; root: RootId; rootKind: RootKind; seats: DesiredSeat[]; entitlement: Entitlement; linkage: Linkage; warnings: string[] }
	/** Nothing to license (no Keycrate plan, not a purchase): recorded and reported, not retried. */
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
