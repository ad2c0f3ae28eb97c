// Table tests of plan(): desired seats + the root's licenses on Keycrate → the calls that make them equal.

import { plan, planPauseAll, subscriptionDuration, type Action, type PlanInput } from '../../src/keycrate/plan.js';
import type { DesiredSeat, FoundLicense } from '../../src/model.js';

const APP = '11111111-1111-4111-8111-111111111111';
const TIER = '33333333-3333-4333-8333-333333333333';
const PRO = '44444444-4444-4444-8444-444444444444';
const NOW = 1_700_000_000;
const TARGET = NOW + 30 * 86400;

const seat = (n: number, overrides: Partial<DesiredSeat> = {}): DesiredSeat => ({
	seat: `si_1:${n}`,
	appId: APP,
	status: 'active',
	plan: { subscriptionId: TIER },
	expiresAt: TARGET,
	...overrides,
});
const license = (key: string, n: number | undefined, overrides: Partial<FoundLicense> = {}): FoundLicense => ({
	licenseKey: key,
	appId: APP,
	...(n === undefined ? {} : { seat: `si_1:${n}` }),
	status: 'active',
	expiresAt: TARGET,
	tier: TIER,
	createdAt: '2026-01-01T00:00:00.000Z',
	metadata: {},
	handedOff: true,
	...overrides,
});

function input(seats: DesiredSeat[], licenses: FoundLicense[], overrides: Partial<PlanInput> = {}): PlanInput {
	return {
		root: 'sub_1',
		rootKind: 'subscription',
		seats,
		linkage: { subscriptionId: 'sub_1' },
		licenses,
		licenseTag: 'stripe',
		handoff: true,
		now: NOW,
		...overrides,
	};
}

/** Actions in a compact form. */
function brief(actions: Action[]): string[] {
	return actions.map((action) => {
		switch (action.type) {
			case 'create':
				return `create ${action.seat} ${action.request.duration_unit}:${action.request.duration_value ?? '-'}`;
			case 'delete':
				return `delete ${action.licenseKey} keep ${action.keptKey}`;
			case 'extend':
				return action.from === undefined
					? `extend new to ${action.target === TARGET ? 'TARGET' : action.target}`
					: `extend ${action.licenseKey} +${action.target - action.from}`;
			case 'setStatus':
				return `${action.status} ${action.licenseKey}`;
			case 'setTier':
				return `tier ${action.licenseKey} ${action.tier === PRO ? 'PRO' : action.tier}`;
			case 'handoff':
				return `handoff ${action.licenseKey ?? 'new'}`;
		}
	});
}

const NEW_SUB = ['extend new to TARGET', 'handoff new'];
const SI2 = (n: number, overrides: Partial<DesiredSeat> = {}) => seat(n, { seat: `si_2:${n}`, ...overrides });
const cases: [string, PlanInput, string[]][] = [
	['nothing yet → create (below the target), extend to it, hand off', input([seat(0)], []), ['create si_1:0 minutes:43195', ...NEW_SUB]],
	['in sync → nothing', input([seat(0)], [license('K1', 0)]), []],
	['renewal: expiry before the target → extend by the difference', input([seat(0)], [license('K1', 0, { expiresAt: TARGET - 3600 })]), ['extend K1 +3600']],
	['expiry after the target → never shortened', input([seat(0)], [license('K1', 0, { expiresAt: TARGET + 3600 })]), []],
	['lifetime license → no extend', input([seat(0)], [license('K1', 0, { expiresAt: null })]), []],
	['expiry missing from the reply → no extend (nothing to subtract from)', input([seat(0)], [license('K1', 0, { expiresAt: undefined })]), []],
	[
		'quantity up 1 → 3: create seats 1 and 2',
		input([seat(0), seat(1), seat(2)], [license('K1', 0)]),
		['create si_1:1 minutes:43195', ...NEW_SUB, 'create si_1:2 minutes:43195', ...NEW_SUB],
	],
	[
		'quantity down 3 → 1: extra seats paused, not deleted',
		input([seat(0)], [license('K1', 0), license('K2', 1), license('K3', 2, { status: 'paused' })]),
		['paused K2'],
	],
	['quantity up again → the paused seat is active again', input([seat(0), seat(1)], [license('K1', 0), license('K2', 1, { status: 'paused' })]), ['active K2']],
	['canceled → pause', input([seat(0, { status: 'paused' })], [license('K1', 0)]), ['paused K1']],
	['resume after pause → activate', input([seat(0)], [license('K1', 0, { status: 'paused' })]), ['active K1']],
	['expired and should be paused → pause', input([seat(0, { status: 'paused' })], [license('K1', 0, { status: 'expired' })]), ['paused K1']],
	['status missing from the reply → set it (idempotent)', input([seat(0)], [license('K1', 0, { status: undefined })]), ['active K1']],
	['first sync of a canceled (or refunded) root → nothing created, nothing handed off', input([seat(0, { status: 'paused' })], []), []],
	['a seat whose paid-through expiry has passed → nothing created', input([seat(0, { expiresAt: NOW })], []), []],
	['tier changed → set the tier', input([seat(0, { plan: { subscriptionId: PRO } })], [license('K1', 0)]), ['tier K1 PRO']],
	['a plan without a tier leaves the license tier alone', input([seat(0, { plan: {} })], [license('K1', 0, { tier: PRO })]), []],
	[
		'two licenses on one seat, one handed off → keep it, delete the other',
		input([seat(0)], [license('OLD', 0, { handedOff: false, createdAt: '2026-01-01T00:00:00Z' }), license('NEW', 0, { createdAt: '2026-01-02T00:00:00Z' })]),
		['delete OLD keep NEW'],
	],
	[
		'two licenses on one seat, neither handed off → keep the older, hand it off',
		input(
			[seat(0)],
			[license('NEW', 0, { handedOff: false, createdAt: '2026-01-02T00:00:00Z' }), license('OLD', 0, { handedOff: false, createdAt: '2026-01-01T00:00:00Z' })],
		),
		['delete NEW keep OLD', 'handoff OLD'],
	],
	['created but never handed off → hand off', input([seat(0)], [license('K1', 0, { handedOff: false })]), ['handoff K1']],
	['a paused seat is not handed off', input([seat(0, { status: 'paused' })], [license('K1', 0, { handedOff: false, status: 'paused' })]), []],
	[
		'a license that becomes active later is handed off then',
		input([seat(0)], [license('K1', 0, { handedOff: false, status: 'paused' })]),
		['active K1', 'handoff K1'],
	],
	['hand-offs off → none planned', input([seat(0)], [license('K1', 0, { handedOff: false })], { handoff: false }), []],
	[
		'an item removed: its seats are no longer asked for → paused',
		input([seat(0)], [license('K1', 0), { ...license('GONE', undefined), seat: 'si_2:0' }]),
		['paused GONE'],
	],
	[
		'an item replaced by another of a higher tier: the same key moves tier, nothing created',
		input([SI2(0, { plan: { subscriptionId: PRO } })], [license('K1', 0)]),
		['tier K1 PRO'],
	],
	[
		'item replaced and its quantity up: the old key moves, one more is created',
		input([SI2(0, { plan: { subscriptionId: PRO } }), SI2(1, { plan: { subscriptionId: PRO } })], [license('K1', 0)]),
		['tier K1 PRO', 'create si_2:1 minutes:43195', ...NEW_SUB],
	],
	[
		'quantity down on one of two items of one app pauses a license of that item, never the other',
		input(
			[seat(0, { seat: 'si_A:0' }), seat(0, { seat: 'si_B:0', plan: { subscriptionId: PRO } })],
			[license('A0', 0, { seat: 'si_A:0' }), license('A1', 0, { seat: 'si_A:1' }), license('B0', 0, { seat: 'si_B:0', tier: PRO })],
		),
		['paused A1'],
	],
	[
		'a plan moved to another app: the old license is paused, a new one created in the new app',
		input([seat(0, { appId: '22222222-2222-4222-8222-222222222222' })], [license('K1', 0)]),
		['create si_1:0 minutes:43195', ...NEW_SUB, 'paused K1'],
	],
	[
		'a license of the root whose seat cannot be read is left alone',
		input([seat(0)], [license('K1', 0), license('MANUAL', undefined, { status: 'paused' })]),
		[],
	],
	[
		'one-off purchase: create with the plan duration, never extend',
		input([seat(0, { plan: { durationUnit: 'days', durationValue: 30 }, expiresAt: undefined })], [], { rootKind: 'payment' }),
		['create si_1:0 days:30', 'handoff new'],
	],
	[
		'one-off lifetime',
		input([seat(0, { plan: { durationUnit: 'lifetime' }, expiresAt: undefined })], [], { rootKind: 'payment' }),
		['create si_1:0 lifetime:-', 'handoff new'],
	],
	[
		'one-off refunded → pause',
		input([seat(0, { status: 'paused', plan: { durationUnit: 'days', durationValue: 30 }, expiresAt: undefined })], [license('K1', 0, { expiresAt: NOW })], {
			rootKind: 'payment',
		}),
		['paused K1'],
	],
];

describe('plan', () => {
	test.each(cases)('%s', (_name, planInput, expected) => {
		expect(brief(plan(planInput))).toEqual(expected);
	});

	test('a created license names its root and seat in tags and metadata, and carries LICENSE_TAG and the plan', () => {
		const [action] = plan(
			input([seat(2, { plan: { subscriptionId: TIER, keyPattern: 'AB-****', hwidLock: true, tags: ['pro'] } })], [], {
				linkage: { subscriptionId: 'sub_1', email: 'a@b.c' },
			}),
		);
		expect(action).toMatchObject({
			type: 'create',
			request: {
				app_id: APP,
				subscription_id: TIER,
				key_pattern: 'AB-****',
				hwid_lock: true,
				tags: ['kcsync:sub_1', 'kcseat:si_1:2', 'stripe', 'pro'],
				metadata: { source: 'stripe', keycrate_sync_root: 'sub_1', keycrate_sync_seat: 'si_1:2', stripe_subscription: 'sub_1', stripe_email: 'a@b.c' },
			},
			expiresAt: TARGET,
		});
	});

	test('a root that can no longer be licensed: every license it holds is paused, in any app', () => {
		const licenses = [
			license('K1', 0),
			license('K2', 1, { status: 'paused' }),
			license('K3', 0, { appId: '22222222-2222-4222-8222-222222222222' }),
			license('MANUAL', undefined),
		];
		expect(brief(planPauseAll(licenses))).toEqual(['paused K1', 'paused K3']);
	});
});

describe('subscriptionDuration: the largest whole count that cannot pass the target, even landing 5 min late', () => {
	test.each([
		[NOW + 90, { duration_unit: 'minutes', duration_value: 1 }],
		[NOW + 3599, { duration_unit: 'minutes', duration_value: 54 }],
		[NOW + 100000 * 60 + 300, { duration_unit: 'minutes', duration_value: 100000 }],
		[NOW + 365 * 86400, { duration_unit: 'hours', duration_value: 8759 }],
		[NOW + 20 * 365 * 86400, { duration_unit: 'days', duration_value: 7299 }],
		[NOW - 86400, { duration_unit: 'minutes', duration_value: 1 }],
		[undefined, { duration_unit: 'minutes', duration_value: 1 }],
	])('target %p', (target, expected) => {
		expect(subscriptionDuration(target, NOW)).toEqual(expected);
	});
});
