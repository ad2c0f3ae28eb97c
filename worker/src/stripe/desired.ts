// Pure: Stripe's current state of a root → the licenses it should have. No I/O, no clock: the same state
// always gives the same seats, so any number of syncs in any order end in the same place.
//
// Subscriptions: one seat per unit of quantity of every licensed item; expiry = the item's period end + grace;
//   active while active or trialing (past_due: PAST_DUE_STATUS), paused when canceled, unpaid, paused, or when
//   the latest invoice's payment was refunded or is disputed; nothing yet while incomplete.
// One-off purchases: one seat per unit of every licensed line, with the plan's duration; paused when the
//   payment was fully refunded or is disputed; nothing while unpaid.

import type { PlanMap } from '../config.js';
import { PermanentError } from '../errors.js';
import type { Desired, DesiredSeat, Line, PaymentState, Plan, SettableStatus, SubscriptionState } from '../model.js';
import { noPlanDetail, planForPrice, planFromMetadata } from './plans.js';

export interface DesiredOptions {
	plans: PlanMap;
	defaultAppId: string;
	graceSeconds: number;
	pastDueStatus: SettableStatus;
	maxSeatsPerRoot: number;
}

interface LicensedLine {
	line: Line;
	plan: Plan;
	/** The line's key, or its position when Stripe gave none. */
	key: string;
}

function licensedLines(lines: Line[], ownerPlan: Plan | undefined, plans: PlanMap): { licensed: LicensedLine[]; unlicensed: string[] } {
	const licensed: LicensedLine[] = [];
	const unlicensed: string[] = [];
	lines.forEach((line, index) => {
		const plan = planForPrice(ownerPlan, line.price, plans);
		if (plan === undefined) unlicensed.push(line.price?.id ?? '(a line without a price)');
		else licensed.push({ line, plan, key: line.key ?? `line${index}` });
	});
	return { licensed, unlicensed };
}

function seatCount(licensed: LicensedLine[]): number {
	return licensed.reduce((sum, { line }) => sum + Math.max(0, Math.floor(line.quantity)), 0);
}

function checkSeatBound(root: string, count: number, options: DesiredOptions): void {
	if (count > options.maxSeatsPerRoot) {
		throw new PermanentError(
			`${root} asks for ${count} licenses, more than MAX_SEATS_PER_ROOT (${options.maxSeatsPerRoot}): none were created. ` +
				`If the quantity is right, raise MAX_SEATS_PER_ROOT and run: keycrate-worker retry ${root}`,
			'quantity',
		);
	}
}

function seatsOf(licensed: LicensedLine[], options: DesiredOptions, seat: (line: Line, plan: Plan) => Omit<DesiredSeat, 'seat' | 'appId' | 'plan'>): DesiredSeat[] {
	const seats: DesiredSeat[] = [];
	for (const { line, plan, key } of licensed) {
		for (let unit = 0; unit < Math.floor(line.quantity); unit++) {
			seats.push({ seat: `${key}:${unit}`, appId: plan.appId ?? options.defaultAppId, plan, ...seat(line, plan) });
		}
	}
	return seats;
}

const SUBSCRIPTION_STATUS: Record<SubscriptionState['status'], SettableStatus | 'past_due' | 'none'> = {
	incomplete: 'none',
	incomplete_expired: 'none',
	trialing: 'active',
	active: 'active',
	past_due: 'past_due',
	canceled: 'paused',
	unpaid: 'paused',
	paused: 'paused',
};

export function desiredForSubscription(state: SubscriptionState, options: DesiredOptions): Desired {
	const base = SUBSCRIPTION_STATUS[state.status];
	if (base === 'none') {
		return { kind: 'skip', root: state.root, reason: 'not_paid', detail: `${state.root} is ${state.status}: its first payment has not succeeded` };
	}
	const ownerPlan = planFromMetadata(state.metadata, `subscription ${state.root} metadata`);
	const { licensed, unlicensed } = licensedLines(state.lines, ownerPlan, options.plans);
	if (licensed.length === 0) {
		return { kind: 'skip', root: state.root, reason: 'no_plan', detail: `${state.root}: ${noPlanDetail(unlicensed, 'subscription', false)}` };
	}
	checkSeatBound(state.root, seatCount(licensed), options);
	const revoked = state.latestPayment !== undefined && (state.latestPayment.refunded || state.latestPayment.disputed);
	const status: SettableStatus = revoked ? 'paused' : base === 'past_due' ? options.pastDueStatus : base;
	// An item without a period (not seen in current API versions) follows the latest period of the others.
	const latestEnd = Math.max(0, ...state.lines.map((line) => line.periodEnd ?? 0));
	const seats = seatsOf(licensed, options, (line) => {
		const periodEnd = line.periodEnd ?? latestEnd;
		return { status, ...(periodEnd > 0 ? { expiresAt: periodEnd + options.graceSeconds } : {}) };
	});
	return { kind: 'seats', root: state.root, rootKind: 'subscription', seats, linkage: state.linkage, warnings: unlicensedWarning(unlicensed, 'subscription', false) };
}

export function desiredForPayment(state: PaymentState, options: DesiredOptions): Desired {
	if (!state.paid) {
		return { kind: 'skip', root: state.root, reason: 'not_paid', detail: `${state.root} is not paid yet; its licenses follow the payment` };
	}
	const ownerPlan = planFromMetadata(state.metadata, `checkout session ${state.linkage.checkoutSessionId ?? state.root} metadata`);
	// A session whose line items are unknown but whose own metadata names a plan buys one seat of it.
	const lines: Line[] = state.lines.length === 0 && ownerPlan !== undefined ? [{ quantity: 1 }] : state.lines;
	const { licensed, unlicensed } = licensedLines(lines, ownerPlan, options.plans);
	if (licensed.length === 0) {
		return { kind: 'skip', root: state.root, reason: 'no_plan', detail: `${state.root}: ${noPlanDetail(unlicensed, 'checkout session', true)}` };
	}
	for (const { line, plan } of licensed) {
		if (plan.durationUnit === undefined) {
			const where = ownerPlan !== undefined ? 'the checkout session metadata' : `the plan of ${line.price?.id ?? 'a line'}`;
			throw new PermanentError(
				`${state.root}: ${where} names no duration, which a one-off purchase needs: set keycrate_duration_unit ` +
					'(and keycrate_duration_value unless lifetime) in the price metadata or its PLANS_FILE entry',
				'keycrate_duration_unit',
			);
		}
	}
	checkSeatBound(state.root, seatCount(licensed), options);
	const status: SettableStatus = state.payment.refunded || state.payment.disputed ? 'paused' : 'active';
	const seats = seatsOf(licensed, options, () => ({ status }));
	return { kind: 'seats', root: state.root, rootKind: 'payment', seats, linkage: state.linkage, warnings: unlicensedWarning(unlicensed, 'checkout session', true) };
}

function unlicensedWarning(unlicensed: string[], owner: string, oneOff: boolean): string[] {
	return unlicensed.length === 0 ? [] : [`some lines were not licensed: ${noPlanDetail(unlicensed, owner, oneOff)}`];
}

export function desired(state: SubscriptionState | PaymentState, options: DesiredOptions): Desired {
	return state.kind === 'subscription' ? desiredForSubscription(state, options) : desiredForPayment(state, options);
}
