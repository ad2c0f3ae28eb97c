// Property tests of plan(): for any desired seats and any licenses Keycrate may hold for the root (duplicates,
// other apps, replaced items, unknown fields), applying the plan and planning again plans nothing; no plan
// creates more than one license per seat; a paused seat is never created nor handed off; a license whose seat
// cannot be read is never touched.

import fc from 'fast-check';
import { plan } from '../../src/keycrate/plan.js';
import { NOW, apply, input, licensesArb, licensesOf, rootKindArb as rootKind, seatsArb } from '../support/arbitraries.js';

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
