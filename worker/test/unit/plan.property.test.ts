// Property tests of plan(): for any desired seats and any licenses Keycrate may hold for the root (duplicates,
// other apps, replaced items, unknown fields), applying the plan and planning again plans nothing; no plan
// creates more than one license per seat; a paused seat is never created nor handed off; a license whose seat
// cannot be read is never touched.

import fc from 'fast-check';
import { plan, type Action, type PlanInput } from '../../src/keycrate/plan.js';
import type { DesiredSeat, FoundLicense, SettableStatus } from '../../src/model.js';

const NOW = 1_800_000_000;
const APPS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
const TIERS = ['33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'];
const LINES = ['si_A', 'si_B', 'si_C'];

const seatsArb = fc
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
		fc.record({
			status: fc.constantFrom<SettableStatus>('active', 'paused'),
			expiresAt: fc.oneof(fc.constant(undefined), fc.integer({ min: NOW - 86400, max: NOW + 90 * 86400 })),
		}).map(({ status, expiresAt }) => {
			const seen = new Set<string>();
			const seats: DesiredSeat[] = [];
			for (const { line, quantity, appId, tier } of lines) {
				if (seen.has(line)) continue; // one entry per line, as desired() gives
				seen.add(line);
				for (let unit = 0; unit < quantity; unit++) {
					seats.push({ seat: `${line}:${unit}`, appId, status, plan: tier ? { subscriptionId: tier } : {}, ...(expiresAt !== undefined ? { expiresAt } : {}) });
				}
			}
			return seats;
		}),
	);

const licensesArb = fc.array(
	fc.record({
		seat: fc.option(fc.constantFrom(...LINES.flatMap((line) => [0, 1, 2, 3].map((unit) => `${line}:${unit}`))), { nil: undefined }),
		appId: fc.constantFrom(...APPS),
		status: fc.option(fc.constantFrom('active', 'paused', 'expired'), { nil: undefined }),
		expiresAt: fc.option(fc.integer({ min: NOW - 86400, max: NOW + 90 * 86400 }), { nil: undefined }),
		tier: fc.option(fc.constantFrom(...TIERS), { nil: null }),
		handedOff: fc.boolean(),
		day: fc.integer({ min: 1, max: 28 }),
	}),
	{ maxLength: 7 },
);

function licensesOf(drawn: Array<{ seat?: string; appId: string; status?: string; expiresAt?: number; tier: string | null; handedOff: boolean; day: number }>): FoundLicense[] {
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

function input(seats: DesiredSeat[], licenses: FoundLicense[], rootKind: PlanInput['rootKind']): PlanInput {
	return { root: 'sub_1', rootKind, seats, linkage: { subscriptionId: 'sub_1' }, licenses, licenseTag: 'stripe', handoff: true, now: NOW };
}

/** Keycrate as the plan's calls leave it (each call applied once, as execute makes it). */
function apply(licenses: FoundLicense[], actions: Action[]): FoundLicense[] {
	const byKey = new Map(licenses.map((license) => [license.licenseKey, { ...license }]));
	const created = new Map<string, string>();
	let next = 0;
	for (const action of actions) {
		if (action.type === 'create') {
			const key = `NEW${next++}`;
			created.set(action.seat, key);
			const seconds = { minutes: 60, hours: 3600, days: 86400 }[action.request.duration_unit as 'minutes' | 'hours' | 'days'] ?? 86400;
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
			continue;
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
	return [...byKey.values()];
}

const rootKind = fc.constantFrom<PlanInput['rootKind']>('subscription', 'payment');

describe('plan(), for every desired state and every set of licenses', () => {
	test('applying the plan, then planning again, plans nothing', () => {
		fc.assert(
			fc.property(seatsArb, licensesArb, rootKind, (seats, drawn, kind) => {
				const licenses = licensesOf(drawn);
				const once = apply(licenses, plan(input(seats, licenses, kind)));
				expect(plan(input(seats, once, kind))).toEqual([]);
			}),
			{ numRuns: 2000 },
		);
	});

	test('at most one create per seat, never for a paused seat or one whose expiry has passed; hand-offs only for active seats', () => {
		fc.assert(
			fc.property(seatsArb, licensesArb, rootKind, (seats, drawn, kind) => {
				const actions = plan(input(seats, licensesOf(drawn), kind));
				const creates = actions.filter((action) => action.type === 'create').map((action) => action.seat);
				expect(new Set(creates).size).toBe(creates.length);
				const bySeat = new Map(seats.map((seat) => [seat.seat, seat]));
				for (const seat of creates) {
					const wanted = bySeat.get(seat);
					expect(wanted?.status).toBe('active');
					expect(wanted?.expiresAt === undefined || (wanted.expiresAt ?? 0) > NOW).toBe(true);
				}
				for (const action of actions.filter((entry) => entry.type === 'handoff')) expect(bySeat.get(action.seat)?.status).toBe('active');
			}),
			{ numRuns: 2000 },
		);
	});

	test('a license whose seat cannot be read is never touched', () => {
		fc.assert(
			fc.property(seatsArb, licensesArb, rootKind, (seats, drawn, kind) => {
				const licenses = licensesOf(drawn);
				const unreadable = new Set(licenses.filter((license) => license.seat === undefined).map((license) => license.licenseKey));
				for (const action of plan(input(seats, licenses, kind))) {
					if ('licenseKey' in action && action.licenseKey !== undefined) expect(unreadable.has(action.licenseKey)).toBe(false);
				}
			}),
			{ numRuns: 1000 },
		);
	});
});
