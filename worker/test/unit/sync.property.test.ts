// Property tests of the pure core as a sync runs it (jobs/sync.ts without the I/O): a root's Stripe state →
// desired() → the licenses Keycrate holds in the apps it reads → plan() → applied. For random Stripe states and
// random licenses: a second sync plans nothing; the events of a root in any order end in the same licenses; a
// reply lost at any step, settled and retried, ends where a clean sync does; no sync creates more than the seat
// bound; nothing is created or handed off for a paused seat.

import fc from 'fast-check';
import { PermanentError } from '../../src/errors.js';
import { plan, planPauseAll, type Action } from '../../src/keycrate/plan.js';
import type { FoundLicense, PaymentState, SubscriptionState } from '../../src/model.js';
import { appsOf, desired, type DesiredOptions } from '../../src/stripe/desired.js';
import { rootOfEvent } from '../../src/stripe/roots.js';
import {
	applyOne,
	desiredOptions,
	keyMaker,
	licensesArb,
	licensesOf,
	observable,
	paymentStateArb,
	stateArb,
	subscriptionStateArb,
} from '../support/arbitraries.js';

type State = SubscriptionState | PaymentState;

interface Synced {
	actions: Action[];
	/** Why the root holds nothing active: a PermanentError (dead letter) or a skip; undefined = seats. */
	stopped?: 'permanent' | 'skip';
	/** The desired seats' statuses, when there were seats. */
	statusOf: Map<string, string>;
	/** The apps whose licenses the sync read. */
	apps: string[];
}

/** What one sync plans, as syncRoot does: a root that cannot be licensed pauses all it holds in its apps. */
function planSync(state: State, keycrate: FoundLicense[], options: DesiredOptions): Synced {
	const apps = appsOf(state, options);
	const reading = () => keycrate.filter((license) => apps.includes(license.appId));
	let want;
	try {
		want = desired(state, options);
	} catch (error) {
		// Only a PermanentError is a dead letter; anything else (a TypeError) fails the property.
		if (!(error instanceof PermanentError)) throw error;
		return { actions: planPauseAll(reading()), stopped: 'permanent', statusOf: new Map(), apps };
	}
	if (want.kind === 'skip') return { actions: planPauseAll(reading()), stopped: 'skip', statusOf: new Map(), apps };
	const read = [...new Set([...apps, ...want.seats.map((seat) => seat.appId)])];
	const licenses = keycrate.filter((license) => read.includes(license.appId));
	const actions = plan({
		root: state.root,
		rootKind: want.rootKind,
		seats: want.seats,
		linkage: want.linkage,
		licenses,
		licenseTag: 'stripe',
		handoff: true,
		now: options.now,
	});
	return { actions, statusOf: new Map(want.seats.map((seat) => [seat.seat, seat.status])), apps: read };
}

/**
 * Applies a sync's calls to Keycrate; `lost` = the index of the call whose reply is lost: the calls before it
 * applied, that one applied only when `committed`, the rest never sent (execute stops; the job is retried).
 */
function run(keycrate: FoundLicense[], actions: Action[], newKey: () => string, lost?: { at: number; committed: boolean }): FoundLicense[] {
	const byKey = new Map(keycrate.map((license) => [license.licenseKey, { ...license }]));
	const created = new Map<string, string>();
	for (const [index, action] of actions.entries()) {
		if (lost !== undefined && index === lost.at) {
			if (lost.committed) applyOne(byKey, action, created, newKey);
			break;
		}
		applyOne(byKey, action, created, newKey);
	}
	return [...byKey.values()];
}

/** Syncs until a sync plans nothing (a retry after each lost reply); bounded, so a plan that never settles fails. */
function converge(
	state: State,
	keycrate: FoundLicense[],
	options: DesiredOptions,
	newKey: () => string,
	faults: Array<{ at: number; committed: boolean }> = [],
): FoundLicense[] {
	let now = keycrate;
	for (let attempt = 0; attempt < faults.length + 3; attempt++) {
		const { actions } = planSync(state, now, options);
		if (actions.length === 0) return now;
		const fault = faults[attempt];
		now = run(now, actions, newKey, fault === undefined ? undefined : { at: fault.at % actions.length, committed: fault.committed });
	}
	throw new Error(`no fixed point after ${faults.length + 3} syncs`);
}

const optionsArb = fc
	.record({
		pastDueStatus: fc.constantFrom<'active' | 'paused'>('active', 'paused'),
		disputePauses: fc.constantFrom<'chargeback' | 'inquiry' | 'lost'>('chargeback', 'inquiry', 'lost'),
		maxSeatsPerRoot: fc.integer({ min: 1, max: 8 }),
	})
	.map((overrides) => desiredOptions(overrides));

/** The events Stripe may send about a root, each in one of the shapes Stripe has sent (older and current API versions). */
function eventsAbout(state: State): fc.Arbitrary<{ id: string; type: string; data: { object: Record<string, unknown> } }> {
	const root = state.root;
	const shapes: Array<[string, Record<string, unknown>]> =
		state.kind === 'subscription'
			? [
					['customer.subscription.updated', { id: root, object: 'subscription', status: state.status }],
					['customer.subscription.deleted', { id: root, object: 'subscription', status: 'canceled' }],
					['invoice.paid', { id: 'in_1', object: 'invoice', subscription: root }],
					['invoice.paid', { id: 'in_1', object: 'invoice', parent: { subscription_details: { subscription: root } } }],
					['invoice.payment_failed', { id: 'in_2', object: 'invoice', parent: { subscription_details: { subscription: { id: root } } } }],
					['checkout.session.completed', { id: 'cs_1', object: 'checkout.session', mode: 'subscription', subscription: root }],
				]
			: [
					['payment_intent.succeeded', { id: root, object: 'payment_intent' }],
					['charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: root }],
					['charge.dispute.created', { id: 'dp_1', object: 'dispute', payment_intent: { id: root } }],
					['checkout.session.completed', { id: 'cs_1', object: 'checkout.session', mode: 'payment', payment_intent: root }],
					['invoice_payment.paid', { id: 'inpay_1', object: 'invoice_payment', payment: { type: 'payment_intent', payment_intent: root } }],
				];
	return fc.tuple(fc.constantFrom(...shapes), fc.nat()).map(([[type, object], n]) => ({ id: `evt_${n}`, type, data: { object } }));
}

/** A history of one root's states (each change is an event), its events, and two delivery orders. */
const historyArb = fc
	.oneof(fc.array(subscriptionStateArb, { minLength: 1, maxLength: 4 }), fc.array(paymentStateArb, { minLength: 1, maxLength: 4 }))
	.chain((states: State[]) =>
		fc.record({
			states: fc.constant(states),
			events: fc.array(eventsAbout(states[0]), { minLength: states.length, maxLength: states.length * 3 }),
			orderA: fc.array(fc.double({ noNaN: true }), { minLength: states.length * 3, maxLength: states.length * 3 }),
			orderB: fc.array(fc.double({ noNaN: true }), { minLength: states.length * 3, maxLength: states.length * 3 }),
			/** For an interleaved delivery: which state is current when each event's sync reads. */
			readsAt: fc.array(fc.nat({ max: states.length - 1 }), { minLength: states.length * 3, maxLength: states.length * 3 }),
		}),
	);

function shuffled<T>(items: T[], keys: number[]): T[] {
	return items
		.map((item, index) => ({ item, key: keys[index] }))
		.sort((a, b) => a.key - b.key)
		.map(({ item }) => item);
}

describe('a sync (desired → plan → apply), for every Stripe state and every set of licenses', () => {
	test('a second sync of the same state plans nothing', () => {
		fc.assert(
			fc.property(stateArb, licensesArb, optionsArb, (state, drawn, options) => {
				const once = run(licensesOf(drawn), planSync(state, licensesOf(drawn), options).actions, keyMaker());
				expect(planSync(state, once, options).actions).toEqual([]);
			}),
			{ numRuns: 1500 },
		);
	});

	test("a root's events in any order end in the same licenses: each only names the root, the sync reads the state", () => {
		fc.assert(
			fc.property(historyArb, licensesArb, optionsArb, ({ states, events, orderA, orderB }, drawn, options) => {
				const final = states[states.length - 1];
				// Every snapshot, in every shape, names the same root: the payload's content decides nothing.
				for (const event of events) expect(rootOfEvent(event)).toEqual({ root: final.root });
				// Delivered after Stripe's state settled: each event is one sync of what Stripe has now.
				const deliver = (order: number[]) => {
					const newKey = keyMaker();
					return shuffled(events, order).reduce((keycrate) => run(keycrate, planSync(final, keycrate, options).actions, newKey), licensesOf(drawn));
				};
				const oneSync = observable(converge(final, licensesOf(drawn), options, keyMaker()));
				expect(observable(deliver(orderA))).toEqual(oneSync);
				expect(observable(deliver(orderB))).toEqual(oneSync);
			}),
			{ numRuns: 500 },
		);
	});

	test('events synced while the state still changes, in any order: once the last change is synced, Keycrate is converged on it', () => {
		// Not the same licenses as one sync of the final state: an earlier sync may have created a license that
		// the final state only pauses, or extended one further (never shortened). Converged: nothing left to do,
		// every license a seat holds has its status, and nothing unasked is active.
		fc.assert(
			fc.property(historyArb, licensesArb, optionsArb, ({ states, events, orderA, readsAt }, drawn, options) => {
				const final = states[states.length - 1];
				const newKey = keyMaker();
				let keycrate = licensesOf(drawn);
				for (const [index] of shuffled(events, orderA).entries()) keycrate = run(keycrate, planSync(states[readsAt[index]], keycrate, options).actions, newKey);
				// The event of the last change is delivered (Stripe sends one per change) and reads the final state.
				keycrate = run(keycrate, planSync(final, keycrate, options).actions, newKey);
				const { actions, stopped, apps } = planSync(final, keycrate, options);
				expect(actions).toEqual([]);
				if (stopped !== undefined)
					for (const license of keycrate) if (license.seat !== undefined && apps.includes(license.appId)) expect(license.status).toBe('paused');
			}),
			{ numRuns: 500 },
		);
	});

	test('a reply lost at any step (committed or not), settled and retried, ends in the same licenses as a clean sync', () => {
		const faultsArb = fc.array(fc.record({ at: fc.nat({ max: 40 }), committed: fc.boolean() }), { minLength: 1, maxLength: 3 });
		fc.assert(
			fc.property(stateArb, licensesArb, optionsArb, faultsArb, (state, drawn, options, faults) => {
				const clean = converge(state, licensesOf(drawn), options, keyMaker());
				// The retry re-reads Keycrate: a create whose reply was lost is found by its seat tag, not made again.
				const faulty = converge(state, licensesOf(drawn), options, keyMaker('RETRY'), faults);
				expect(observable(faulty)).toEqual(observable(clean));
			}),
			{ numRuns: 1500 },
		);
	});

	test('no sync creates more than the seat bound, nor more than one license per seat; over the bound it creates nothing', () => {
		fc.assert(
			fc.property(stateArb, licensesArb, optionsArb, (state, drawn, options) => {
				const { actions, stopped } = planSync(state, licensesOf(drawn), options);
				const creates = actions.filter((action) => action.type === 'create').map((action) => action.seat);
				expect(creates.length).toBeLessThanOrEqual(options.maxSeatsPerRoot);
				expect(new Set(creates).size).toBe(creates.length);
				if (stopped !== undefined) expect(creates).toEqual([]);
				let thrown: unknown;
				try {
					desired(state, options);
				} catch (error) {
					thrown = error;
				}
				if (thrown !== undefined) expect(thrown).toBeInstanceOf(PermanentError);
			}),
			{ numRuns: 2000 },
		);
	});

	test('a paused desired seat is never created nor handed off; a root that holds nothing active ends with everything paused', () => {
		fc.assert(
			fc.property(stateArb, licensesArb, optionsArb, (state, drawn, options) => {
				const { actions, statusOf, stopped, apps } = planSync(state, licensesOf(drawn), options);
				for (const action of actions) {
					if (action.type === 'create' || action.type === 'handoff') expect(statusOf.get(action.seat)).toBe('active');
				}
				const allPaused = stopped !== undefined || [...statusOf.values()].every((status) => status === 'paused');
				if (!allPaused) return;
				expect(actions.filter((action) => action.type === 'create' || action.type === 'handoff')).toEqual([]);
				const after = run(licensesOf(drawn), actions, keyMaker());
				// Every license the sync read and can tell the seat of is paused.
				for (const license of after) if (license.seat !== undefined && apps.includes(license.appId)) expect(license.status).toBe('paused');
			}),
			{ numRuns: 2000 },
		);
	});
});
