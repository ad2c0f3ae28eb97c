// fast-check generators and a model of Keycrate shared by the property tests (plan.property, sync.property) and
// the fuzz: desired seats, the licenses Keycrate may hold for a root, Stripe states of a root, and apply(), which
// leaves Keycrate as a plan's calls would.

import fc from 'fast-check';
import type { Action, PlanInput } from '../../src/keycrate/plan.js';
import type { DesiredOptions } from '../../src/stripe/desired.js';
import type {
	DesiredSeat,
	FoundLicense,
	InvoiceFacts,
	Line,
	PaymentFacts,
	PaymentState,
	SettableStatus,
	SubscriptionState,
	SubscriptionStatus,
} from '../../src/model.js';

export const NOW = 1_800_000_000;
export const DAY = 86400;
export const APPS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
export const TIERS = ['33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'];
/** Line keys: desired seats are `<line>:<unit>`, so drawn licenses and drawn states share one seat alphabet. */
export const LINES = ['si_A', 'si_B', 'si_C'];
export const SEATS = LINES.flatMap((line) => [0, 1, 2, 3].map((unit) => `${line}:${unit}`));

export const seatsArb = fc
	.array(
		fc.record({
			line: fc.constantFrom(...LINES),
			quantity: fc.integer({ min: 0, max: 3 }),
			appId: fc.constantFrom(...APPS),
			tier: fc.option(fc.constantFrom(...TIERS), { nil: undefined }),
		}),
		{ maxLength: 3 },
	)
	.chain((lines) =>
		fc
			.record({
				status: fc.constantFrom<SettableStatus>('active', 'paused'),
				expiresAt: fc.oneof(fc.constant(undefined), fc.integer({ min: NOW - DAY, max: NOW + 90 * DAY })),
			})
			.map(({ status, expiresAt }) => {
				const seen = new Set<string>();
				const seats: DesiredSeat[] = [];
				for (const { line, quantity, appId, tier } of lines) {
					if (seen.has(line)) continue; // one entry per line, as desired() gives
					seen.add(line);
					for (let unit = 0; unit < quantity; unit++) {
						seats.push({
							seat: `${line}:${unit}`,
							appId,
							status,
							plan: tier ? { subscriptionId: tier } : {},
							...(expiresAt !== undefined ? { expiresAt } : {}),
						});
					}
				}
				return seats;
			}),
	);

export interface DrawnLicense {
	seat?: string;
	appId: string;
	status?: string;
	expiresAt?: number;
	tier: string | null;
	handedOff: boolean;
	day: number;
}

export const licensesArb: fc.Arbitrary<DrawnLicense[]> = fc.array(
	fc.record({
		seat: fc.option(fc.constantFrom(...SEATS), { nil: undefined }),
		appId: fc.constantFrom(...APPS),
		status: fc.option(fc.constantFrom('active', 'paused', 'expired'), { nil: undefined }),
		expiresAt: fc.option(fc.integer({ min: NOW - DAY, max: NOW + 90 * DAY }), { nil: undefined }),
		tier: fc.option(fc.constantFrom(...TIERS), { nil: null }),
		handedOff: fc.boolean(),
		day: fc.integer({ min: 1, max: 28 }),
	}),
	{ maxLength: 7 },
);

export function licensesOf(drawn: DrawnLicense[]): FoundLicense[] {
	return drawn.map((entry, index) => ({
		licenseKey: `K${index}`,
		appId: entry.appId,
		...(entry.seat !== undefined ? { seat: entry.seat } : {}),
		...(entry.status !== undefined ? { status: entry.status } : {}),
		...(entry.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}),
		tier: entry.tier,
		createdAt: `2026-01-${String(entry.day).padStart(2, '0')}T00:00:00.000Z`,
		metadata: {},
		handedOff: entry.handedOff,
	}));
}

export function input(seats: DesiredSeat[], licenses: FoundLicense[], rootKind: PlanInput['rootKind'], root = 'sub_1'): PlanInput {
	return { root, rootKind, seats, linkage: { subscriptionId: root }, licenses, licenseTag: 'stripe', handoff: true, now: NOW };
}

export const rootKindArb = fc.constantFrom<PlanInput['rootKind']>('subscription', 'payment');

/** Names the licenses creates make; one per Keycrate, so keys stay unique over several syncs. */
export function keyMaker(prefix = 'NEW'): () => string {
	let next = 0;
	return () => `${prefix}${next++}`;
}

/** The effect of one call on Keycrate (`created` maps a seat to the key its create got in this plan). */
export function applyOne(byKey: Map<string, FoundLicense>, action: Action, created: Map<string, string>, newKey: () => string): void {
	if (action.type === 'create') {
		const key = newKey();
		created.set(action.seat, key);
		const seconds = { minutes: 60, hours: 3600, days: DAY }[action.request.duration_unit as 'minutes' | 'hours' | 'days'] ?? DAY;
		byKey.set(key, {
			licenseKey: key,
			appId: action.request.app_id,
			seat: action.seat,
			status: 'active',
			expiresAt: action.request.duration_unit === 'lifetime' ? null : NOW + seconds * (action.request.duration_value ?? 1),
			tier: action.request.subscription_id ?? null,
			createdAt: '2026-02-01T00:00:00.000Z',
			metadata: {},
			handedOff: false,
		});
		return;
	}
	const key = action.licenseKey ?? created.get(action.seat);
	const license = key === undefined ? undefined : byKey.get(key);
	if (license === undefined) throw new Error(`${action.type} of a license that is not there`);
	if (action.type === 'delete') byKey.delete(license.licenseKey);
	else if (action.type === 'setTier') license.tier = action.tier;
	else if (action.type === 'setStatus') license.status = action.status;
	else if (action.type === 'handoff') license.handedOff = true;
	else if (action.type === 'extend' && typeof license.expiresAt === 'number' && license.expiresAt < action.target) license.expiresAt = action.target;
}

/** Keycrate as the plan's calls leave it (each call applied once, as execute makes it). */
export function apply(licenses: FoundLicense[], actions: Action[], newKey: () => string = keyMaker()): FoundLicense[] {
	const byKey = new Map(licenses.map((license) => [license.licenseKey, { ...license }]));
	const created = new Map<string, string>();
	for (const action of actions) applyOne(byKey, action, created, newKey);
	return [...byKey.values()];
}

/** Licenses compared by what a buyer and a seller see, not by the key Keycrate happened to draw. */
export function observable(licenses: FoundLicense[]): string[] {
	return licenses
		.map((license) =>
			JSON.stringify([license.appId, license.seat ?? null, license.status ?? null, license.expiresAt ?? null, license.tier ?? null, license.handedOff]),
		)
		.sort();
}

// ---- Stripe states of one root, as fetch.ts narrows them (desired() reads nothing else) ----

export const desiredOptions = (overrides: Partial<DesiredOptions> = {}): DesiredOptions => ({
	plans: { price_days: { durationUnit: 'days', durationValue: 30 }, lookup_tier: { subscriptionId: TIERS[1] } },
	defaultAppId: APPS[0],
	graceSeconds: DAY,
	pastDueStatus: 'active',
	maxSeatsPerRoot: 6,
	disputePauses: 'chargeback',
	disputeWindowSeconds: 120 * DAY,
	now: NOW,
	...overrides,
});

const DISPUTE_STATUSES = ['needs_response', 'under_review', 'lost', 'won', 'warning_needs_response', 'warning_closed'];

const paymentFactsArb: fc.Arbitrary<PaymentFacts> = fc.record({
	paymentIntentId: fc.constantFrom('pi_1', 'pi_2', 'pi_3'),
	created: fc.integer({ min: NOW - 200 * DAY, max: NOW }),
	refunded: fc.boolean(),
	disputes: fc.array(fc.constantFrom(...DISPUTE_STATUSES), { maxLength: 2 }),
});

/** Price metadata: nothing, a tier, an app, a duration; now and then a value a seller got wrong. */
const priceMetadataArb = fc.oneof(
	{ weight: 3, arbitrary: fc.constant<Record<string, string>>({}) },
	{ weight: 3, arbitrary: fc.constantFrom(...TIERS).map((tier) => ({ keycrate_subscription_id: tier })) },
	{
		weight: 2,
		arbitrary: fc.record({
			keycrate_app_id: fc.constantFrom(...APPS),
			keycrate_duration_unit: fc.constantFrom('days', 'lifetime'),
			keycrate_duration_value: fc.constantFrom('30', '365'),
		}),
	},
	{
		weight: 1,
		arbitrary: fc.record({ keycrate_duration_unit: fc.constantFrom('fortnights', 'days', ''), keycrate_duration_value: fc.constantFrom('0', 'x', '1e3') }),
	},
);

const linesArb: fc.Arbitrary<Line[]> = fc
	.uniqueArray(
		fc.record({
			key: fc.constantFrom(...LINES),
			price: fc.record({
				id: fc.constantFrom('price_days', 'price_tier', 'price_none'),
				metadata: priceMetadataArb,
				lookupKey: fc.constantFrom('lookup_tier', 'lookup_none'),
			}),
			quantity: fc.integer({ min: 0, max: 4 }),
			metered: fc.boolean().map((metered) => metered || undefined),
		}),
		{ maxLength: 3, selector: (line) => line.key },
	)
	.map((lines) => lines.map(({ metered, ...line }) => (metered ? { ...line, metered } : line)));

const ownerMetadataArb = fc.oneof(
	{ weight: 4, arbitrary: fc.constant<Record<string, string>>({}) },
	{
		weight: 1,
		arbitrary: fc.constantFrom(...TIERS).map((tier) => ({ keycrate_subscription_id: tier, keycrate_duration_unit: 'days', keycrate_duration_value: '30' })),
	},
	{ weight: 1, arbitrary: fc.constant({ keycrate_hwid_lock: 'maybe' }) },
);

const invoiceArb: fc.Arbitrary<InvoiceFacts> = fc
	.record({
		id: fc.constantFrom('in_1', 'in_2', 'in_3', 'in_4'),
		status: fc.constantFrom<InvoiceFacts['status']>('paid', 'paid', 'open', 'draft', 'void', 'uncollectible'),
		start: fc.integer({ min: NOW - 90 * DAY, max: NOW + 30 * DAY }),
		length: fc.constantFrom(0, DAY, 30 * DAY),
		proration: fc.boolean(),
		payments: fc.array(paymentFactsArb, { maxLength: 2 }),
	})
	.map(({ id, status, start, length, proration, payments }) => ({
		id,
		status,
		created: start,
		...(proration ? {} : { covers: { start, end: start + length } }),
		payments,
	}));

export const subscriptionStateArb: fc.Arbitrary<SubscriptionState> = fc.record({
	kind: fc.constant<'subscription'>('subscription'),
	root: fc.constant('sub_1'),
	status: fc.constantFrom<SubscriptionStatus>('incomplete', 'incomplete_expired', 'trialing', 'active', 'active', 'past_due', 'canceled', 'unpaid', 'paused'),
	metadata: ownerMetadataArb,
	lines: linesArb,
	invoices: fc.array(invoiceArb, { maxLength: 4 }),
	linkage: fc.constant({ subscriptionId: 'sub_1', customerId: 'cus_1' }),
});

export const paymentStateArb: fc.Arbitrary<PaymentState> = fc.record({
	kind: fc.constant<'payment'>('payment'),
	root: fc.constant('pi_1'),
	paid: fc.boolean(),
	payment: paymentFactsArb,
	metadata: ownerMetadataArb,
	lines: linesArb,
	linkage: fc.constant({ paymentIntentId: 'pi_1', customerId: 'cus_1' }),
});

export const stateArb: fc.Arbitrary<SubscriptionState | PaymentState> = fc.oneof(subscriptionStateArb, paymentStateArb);
