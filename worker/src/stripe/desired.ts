// Pure: Stripe's current state of a root (and the time of the sync) → the licenses it should have. No I/O: the
// same state at the same time always gives the same seats, so any number of syncs in any order end in the same
// place. A license stands for what the buyer PAID for, not what Stripe invoiced:
//
// Subscriptions
//   expiry   the end of the latest period covered by a paid invoice whose payments are neither fully refunded
//            nor under a chargeback (the paid-through time), + LICENSE_GRACE_SECONDS. An invoice invoiced but
//            unpaid (draft, open, dunning) extends nothing; a proration invoice covers no period; a trial's $0
//            invoice covers the trial.
//   paused   while the subscription is canceled, unpaid, paused, incomplete or incomplete_expired; while any
//            payment of the last DISPUTE_WINDOW_DAYS is disputed as DISPUTE_PAUSES says; while the latest paid
//            period (the one that covers now) was refunded and no later payment covers it; while nothing was
//            ever paid.
//   past_due PAST_DUE_STATUS: `active` keeps the license running to its paid-through expiry (+ grace), then
//            Keycrate's expiry ends it; `paused` pauses it as soon as a renewal payment fails.
// One-off purchases
//   one seat per unit of every licensed line, with the plan's duration; paused while unpaid (an authorization
//   not captured yet included), fully refunded, or disputed as DISPUTE_PAUSES says.
//
// Which lines become licenses: a line whose price has a plan of its own (price metadata or PLANS_FILE), with the
// owner's (session or subscription) keycrate_* metadata completing that plan key by key. Only when no line has a
// plan of its own does the owner's metadata alone name the plan of every line. Metered lines never do.

import { UUID, type DisputePauses, type PlanMap } from '../config.js';
import { PermanentError } from '../errors.js';
import type {
	Desired,
	DesiredSeat,
	Entitlement,
	InvoiceFacts,
	Line,
	PaymentFacts,
	PaymentState,
	Plan,
	SettableStatus,
	SubscriptionState,
	UnixSeconds,
} from '../model.js';
import { noPlanDetail, planFromMetadata, pricePlan } from './plans.js';

export interface DesiredOptions {
	plans: PlanMap;
	defaultAppId: string;
	graceSeconds: number;
	pastDueStatus: SettableStatus;
	maxSeatsPerRoot: number;
	disputePauses: DisputePauses;
	disputeWindowSeconds: number;
	/** The time of the sync, in seconds. */
	now: UnixSeconds;
}

/** Dispute statuses that pause, per DISPUTE_PAUSES. */
const PAUSING_DISPUTES: Record<DisputePauses, ReadonlySet<string>> = {
	chargeback: new Set(['needs_response', 'under_review', 'lost']),
	inquiry: new Set(['needs_response', 'under_review', 'lost', 'warning_needs_response', 'warning_under_review']),
	lost: new Set(['lost']),
};

/** The statuses under which the buyer keeps nothing, whatever was paid. */
const SUBSCRIPTION_PAUSED: Partial<Record<SubscriptionState['status'], string>> = {
	incomplete: 'its first payment has not succeeded',
	incomplete_expired: 'its first payment never succeeded',
	canceled: 'it is canceled',
	unpaid: 'it is unpaid (its renewal payments failed)',
	paused: 'it is paused',
};

interface LicensedLine {
	line: Line;
	plan: Plan;
	/** The line's key, or its position when Stripe gave none. */
	key: string;
}

interface Owner {
	metadata: Record<string, string>;
	/** Names the metadata in errors, e.g. "subscription sub_1 metadata". */
	where: string;
}

function licensedLines(lines: Line[], owner: Owner, plans: PlanMap): { licensed: LicensedLine[]; unlicensed: string[] } {
	const countable = lines.map((line, index) => ({ line, key: line.key ?? `line${index}` })).filter(({ line }) => line.metered !== true);
	const unlicensed = lines.filter((line) => line.metered === true).map((line) => `${line.price?.id ?? 'a line'} (metered)`);
	const own = countable.map((entry) => ({ ...entry, plan: pricePlan(entry.line.price, plans) }));
	if (own.every(({ plan }) => plan === undefined)) {
		// No line has a plan of its own: the owner's metadata, if it names one, is the plan of every line.
		const ownerPlan = planFromMetadata(owner.metadata, owner.where);
		if (ownerPlan === undefined)
			return { licensed: [], unlicensed: [...unlicensed, ...countable.map(({ line }) => line.price?.id ?? '(a line without a price)')] };
		return { licensed: countable.map((entry) => ({ ...entry, plan: ownerPlan })), unlicensed };
	}
	const licensed: LicensedLine[] = [];
	for (const { line, key, plan } of own) {
		if (plan === undefined) unlicensed.push(line.price?.id ?? '(a line without a price)');
		else licensed.push({ line, key, plan: planFromMetadata(owner.metadata, owner.where, plan) as Plan });
	}
	return { licensed, unlicensed };
}

/** A line's seats: its whole quantity; NaN counts none (a NaN in the sum would let every count past the bound). */
function unitsOf(line: Line): number {
	return Number.isNaN(line.quantity) ? 0 : Math.max(0, Math.floor(line.quantity));
}

function seatCount(licensed: LicensedLine[]): number {
	return licensed.reduce((sum, { line }) => sum + unitsOf(line), 0);
}

function checkSeatBound(root: string, count: number, options: DesiredOptions): void {
	if (count > options.maxSeatsPerRoot) {
		throw new PermanentError(
			`${root} asks for ${count} licenses, more than MAX_SEATS_PER_ROOT (${options.maxSeatsPerRoot}): none were created and what it holds is paused. ` +
				`If the quantity is right, raise MAX_SEATS_PER_ROOT and run: keycrate-worker retry ${root}`,
			'quantity',
		);
	}
}

function seatsOf(licensed: LicensedLine[], options: DesiredOptions, status: SettableStatus, expiresAt?: UnixSeconds): DesiredSeat[] {
	const seats: DesiredSeat[] = [];
	for (const { line, plan, key } of licensed) {
		for (let unit = 0; unit < unitsOf(line); unit++) {
			seats.push({ seat: `${key}:${unit}`, appId: plan.appId ?? options.defaultAppId, plan, status, ...(expiresAt !== undefined ? { expiresAt } : {}) });
		}
	}
	return seats;
}

/** The dispute that pauses this payment under DISPUTE_PAUSES, if any. */
function pausingDispute(payment: PaymentFacts, policy: DisputePauses): string | undefined {
	return payment.disputes.find((status) => PAUSING_DISPUTES[policy].has(status));
}

/** A payment that no longer pays for anything: fully refunded, or disputed as DISPUTE_PAUSES says. */
function revoked(payment: PaymentFacts, policy: DisputePauses): boolean {
	return payment.refunded || pausingDispute(payment, policy) !== undefined;
}

/** An invoice pays for its period when it is paid and its payments (if any: a $0 invoice has none) still stand. */
function standsPaid(invoice: InvoiceFacts, policy: DisputePauses): boolean {
	return invoice.status === 'paid' && !(invoice.payments.length > 0 && invoice.payments.every((payment) => revoked(payment, policy)));
}

/** For a reason text: toISOString() throws a RangeError past year 275760 (a period end no Date can hold). */
function isoTime(seconds: UnixSeconds): string {
	const date = new Date(seconds * 1000);
	return Number.isNaN(date.getTime()) ? `${seconds} (Unix seconds)` : date.toISOString();
}

/** What a subscription's payments entitle it to now (pure; the table in the README says the same). */
export function subscriptionEntitlement(state: SubscriptionState, options: DesiredOptions): Entitlement {
	const { now, disputePauses: policy } = options;
	const covering = state.invoices.filter((invoice) => invoice.covers !== undefined && standsPaid(invoice, policy));
	const paidThrough = covering.length === 0 ? undefined : Math.max(...covering.map((invoice) => (invoice.covers as { end: UnixSeconds }).end));
	const through = paidThrough === undefined ? {} : { paidThrough };
	const pause = (reason: string): Entitlement => ({ status: 'paused', reason, ...through });

	const stopped = SUBSCRIPTION_PAUSED[state.status];
	if (stopped !== undefined) return pause(`${state.root} ${stopped}`);
	for (const invoice of state.invoices) {
		for (const payment of invoice.payments) {
			const dispute = pausingDispute(payment, policy);
			const recent = payment.created === undefined || payment.created >= now - options.disputeWindowSeconds;
			if (dispute !== undefined && recent) return pause(`a payment of ${state.root} (${payment.paymentIntentId ?? invoice.id}) is disputed: ${dispute}`);
		}
	}
	if (paidThrough === undefined) return pause(`nothing paid for ${state.root} still stands (no paid invoice, or every one refunded)`);
	// A refunded period later than what still stands paid (the current or latest one): refunded, not run out.
	const refunded = state.invoices.find(
		(invoice) => invoice.status === 'paid' && (invoice.covers?.end ?? 0) > paidThrough && invoice.payments.some((payment) => payment.refunded),
	);
	if (refunded !== undefined) return pause(`the latest paid period of ${state.root} (${refunded.id}) was refunded and no later payment covers it`);
	if (state.status === 'past_due')
		return { status: options.pastDueStatus, reason: `${state.root} is past_due: PAST_DUE_STATUS=${options.pastDueStatus}`, paidThrough };
	return { status: 'active', reason: `${state.root} is ${state.status} and paid through ${isoTime(paidThrough)}`, paidThrough };
}

export function desiredForSubscription(state: SubscriptionState, options: DesiredOptions): Desired {
	const { licensed, unlicensed } = licensedLines(state.lines, { metadata: state.metadata, where: `subscription ${state.root} metadata` }, options.plans);
	if (licensed.length === 0) {
		return { kind: 'skip', root: state.root, reason: 'no_plan', detail: `${state.root}: ${noPlanDetail(unlicensed, 'subscription', false)}` };
	}
	checkSeatBound(state.root, seatCount(licensed), options);
	const entitlement = subscriptionEntitlement(state, options);
	const expiresAt = entitlement.paidThrough === undefined ? undefined : entitlement.paidThrough + options.graceSeconds;
	const seats = seatsOf(licensed, options, entitlement.status, expiresAt);
	return {
		kind: 'seats',
		root: state.root,
		rootKind: 'subscription',
		seats,
		entitlement,
		linkage: state.linkage,
		warnings: unlicensedWarning(unlicensed, 'subscription', false),
	};
}

/** What a one-off purchase entitles it to now. */
export function paymentEntitlement(state: PaymentState, options: DesiredOptions): Entitlement {
	if (!state.paid) return { status: 'paused', reason: `${state.root} is not paid (or not captured) yet` };
	if (state.payment.refunded) return { status: 'paused', reason: `${state.root} was refunded in full` };
	const dispute = pausingDispute(state.payment, options.disputePauses);
	if (dispute !== undefined) return { status: 'paused', reason: `${state.root} is disputed: ${dispute}` };
	return { status: 'active', reason: `${state.root} is paid` };
}

export function desiredForPayment(state: PaymentState, options: DesiredOptions): Desired {
	const owner = { metadata: state.metadata, where: `checkout session ${state.linkage.checkoutSessionId ?? state.root} metadata` };
	// A session whose line items are unknown but whose own metadata names a plan buys one seat of it.
	const lines: Line[] = state.lines.length === 0 && planFromMetadata(owner.metadata, owner.where) !== undefined ? [{ quantity: 1 }] : state.lines;
	const { licensed, unlicensed } = licensedLines(lines, owner, options.plans);
	if (licensed.length === 0) {
		return { kind: 'skip', root: state.root, reason: 'no_plan', detail: `${state.root}: ${noPlanDetail(unlicensed, 'checkout session', true)}` };
	}
	for (const { line, plan } of licensed) {
		if (plan.durationUnit === undefined) {
			throw new PermanentError(
				`${state.root}: the plan of ${line.price?.id ?? 'its line'} names no duration, which a one-off purchase needs: set keycrate_duration_unit ` +
					'(and keycrate_duration_value unless lifetime) in the price metadata, its PLANS_FILE entry or the checkout session metadata',
				'keycrate_duration_unit',
			);
		}
	}
	checkSeatBound(state.root, seatCount(licensed), options);
	const entitlement = paymentEntitlement(state, options);
	const seats = seatsOf(licensed, options, entitlement.status);
	return {
		kind: 'seats',
		root: state.root,
		rootKind: 'payment',
		seats,
		entitlement,
		linkage: state.linkage,
		warnings: unlicensedWarning(unlicensed, 'checkout session', true),
	};
}

function unlicensedWarning(unlicensed: string[], owner: string, oneOff: boolean): string[] {
	return unlicensed.length === 0 ? [] : [`some lines were not licensed: ${noPlanDetail(unlicensed, owner, oneOff)}`];
}

export function desired(state: SubscriptionState | PaymentState, options: DesiredOptions): Desired {
	return state.kind === 'subscription' ? desiredForSubscription(state, options) : desiredForPayment(state, options);
}

/** Every app a root's licenses can live in: KEYCRATE_APP_ID, PLANS_FILE's apps and those the state's metadata names. */
export function appsOf(state: SubscriptionState | PaymentState | undefined, options: Pick<DesiredOptions, 'plans' | 'defaultAppId'>): string[] {
	const apps = new Set([options.defaultAppId, ...Object.values(options.plans).flatMap((plan) => (plan.appId ? [plan.appId] : []))]);
	const named = [state?.metadata, ...(state?.lines ?? []).map((line) => line.price?.metadata)];
	for (const metadata of named) {
		const app = metadata?.keycrate_app_id?.trim();
		// Only a valid id: a malformed one is the metadata error the dead letter names, not a Keycrate call.
		if (app !== undefined && UUID.test(app)) apps.add(app);
	}
	return [...apps];
}
