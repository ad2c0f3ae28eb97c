// converge against the real emulator over HTTP and real Redis: each step acts only on a difference, and the
// create intent turns a lost reply or a crash into an adopted license instead of a second one.

import { startEmulator, type Emulator } from '@keycrate/emulator';
import { Redis } from 'ioredis';
import { convergeRoot, seatPlans, seatTag } from '../src/converge.js';
import { createKeycrateClient, type KeycrateClient } from '../src/keycrate/client.js';
import { Ledger } from '../src/ledger.js';
import { deleteKeysUnder } from '../src/redis-private.js';
import type { RootFacts, RootId, SeatLine } from '../src/model.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `{kc-converge-test-${process.pid}-${Date.now()}}`;
const ledger = new Ledger(redis, { queuePrefix: prefix, ledgerTtlSeconds: 3600 });
let emu: Emulator;
let api: KeycrateClient;
let tierA: string;
let tierB: string;

const config = () => ({ keycrateAppId: emu.appId, licenseTag: 'stripe' });
const now = () => Math.floor(Date.now() / 1000);

async function createTier(name: string): Promise<string> {
	const response = await fetch(`${emu.url}/subscription/create`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-api-key': emu.apiKey },
		body: JSON.stringify({ app_id: emu.appId, name, level: 1 }),
	});
	return ((await response.json()) as { data: { subscription_id: string } }).data.subscription_id;
}

function licensesTagged(tag: string) {
	return emu.state().apps[0].licenses.filter((license) => license.tags.includes(tag));
}

beforeAll(async () => {
	emu = await startEmulator({ port: 0 });
	api = createKeycrateClient(
		{ keycrateApiUrl: emu.url, keycrateApiKey: emu.apiKey, keycrateAppId: emu.appId, keycrateTimeoutMs: 5000, keycrateMaxBatch: 1000 },
		{ retryDelaysMs: [1, 1, 1] },
	);
	tierA = await createTier('Pro');
	tierB = await createTier('Team');
});

afterEach(() => emu.setFaults([]));

afterAll(async () => {
	await emu.stop();
	await deleteKeysUnder(redis, prefix);
	await redis.quit();
});

const seats = (count: number, subscriptionId?: string): SeatLine[] => [
	{ lineKey: 'si_1', priceId: 'price_1', plan: { durationUnit: 'days', durationValue: 30, ...(subscriptionId ? { subscriptionId } : {}) }, count },
];

async function subscription(root: RootId, facts: Partial<RootFacts>, eventId: string) {
	await ledger.mergeFacts({ root, kind: 'subscription', ...facts }, eventId);
	return convergeRoot({ config: config(), ledger, api }, root);
}

describe('convergeRoot', () => {
	it('creates each seat once, at exactly the period end, and a second run changes nothing', async () => {
		const root: RootId = 'sub:sub_clean';
		const periodEnd = now() + 30 * 86400;
		const first = await subscription(root, { entitled: true, lines: { value: seats(2, tierA), asOf: 1, rank: 0 }, status: { value: 'active', asOf: 1, rank: 0 }, expiresAtLeast: periodEnd, linkage: { customerId: 'cus_1', email: 'buyer@example.com' } }, 'evt_1');
		expect(first.map((seat) => seat.actions)).toEqual([['created', 'extended'], ['created', 'extended']]);
		for (let seat = 0; seat < 2; seat++) {
			const [license] = licensesTagged(seatTag(root, seat));
			expect(Math.floor(Date.parse(license.expires_at as string) / 1000)).toBe(periodEnd);
			expect(license.subscription_id).toBe(tierA);
			expect(license.metadata).toMatchObject({ stripe_customer: 'cus_1', stripe_email: 'buyer@example.com', keycrate_sync_seat: `${root}#${seat}` });
			expect(license.tags).toContain('stripe');
		}
		const second = await convergeRoot({ config: config(), ledger, api }, root);
		expect(second.every((seat) => seat.actions.length === 0)).toBe(true);
	});

	it('adopts a license whose create committed but whose reply was lost', async () => {
		const root: RootId = 'sub:sub_lost_reply';
		emu.setFaults([{ endpoint: '/license/create', kind: 'commit_then_500', rate: 1 }]);
		await expect(subscription(root, { entitled: true, lines: { value: seats(1), asOf: 1, rank: 0 }, expiresAtLeast: now() + 86400 }, 'evt_1')).rejects.toThrow(/SERVER_ERROR/);
		expect(licensesTagged(seatTag(root, 0))).toHaveLength(1);
		emu.setFaults([]);
		const retry = await convergeRoot({ config: config(), ledger, api }, root);
		expect(retry[0].actions).toEqual(['adopted', 'extended']);
		expect(licensesTagged(seatTag(root, 0))).toHaveLength(1);
	});

	it('never applies an extend twice when the reply was lost', async () => {
		const root: RootId = 'sub:sub_lost_extend';
		const target = now() + 10 * 86400;
		emu.setFaults([{ endpoint: '/license/extend', kind: 'commit_then_500', rate: 1 }]);
		await expect(subscription(root, { entitled: true, lines: { value: seats(1), asOf: 1, rank: 0 }, expiresAtLeast: target }, 'evt_1')).rejects.toThrow(/SERVER_ERROR/);
		emu.setFaults([]);
		const retry = await convergeRoot({ config: config(), ledger, api }, root);
		expect(retry[0].actions).toEqual([]);
		const [license] = licensesTagged(seatTag(root, 0));
		expect(Math.floor(Date.parse(license.expires_at as string) / 1000)).toBe(target);
	});

	it('pauses seats above a lowered quantity, reactivates them when it rises, and follows a tier change', async () => {
		const root: RootId = 'sub:sub_quantity';
		const target = now() + 86400;
		await subscription(root, { entitled: true, lines: { value: seats(3, tierA), asOf: 1, rank: 0 }, expiresAtLeast: target }, 'evt_1');
		const lowered = await subscription(root, { lines: { value: seats(1, tierB), asOf: 2, rank: 1 } }, 'evt_2');
		expect(lowered.map((seat) => seat.actions)).toEqual([['retiered'], ['retiered', 'paused'], ['retiered', 'paused']]);
		const raised = await subscription(root, { lines: { value: seats(2, tierB), asOf: 3, rank: 1 } }, 'evt_3');
		expect(raised.map((seat) => seat.actions)).toEqual([[], ['activated'], []]);
	});

	it('ends a lowered quantity delivered newest-first like the clean order: the extra seat exists, paused, at the same expiry', async () => {
		const target = now() + 5 * 86400;
		const twoSeats: Partial<RootFacts> = { entitled: true, lines: { value: seats(2, tierA), asOf: 10, rank: 1 }, status: { value: 'active', asOf: 10, rank: 1 }, expiresAtLeast: target };
		const oneSeat: Partial<RootFacts> = { entitled: true, lines: { value: seats(1, tierA), asOf: 20, rank: 1 }, status: { value: 'active', asOf: 20, rank: 1 }, expiresAtLeast: target };
		const inOrder: RootId = 'sub:sub_lowered_in_order';
		await subscription(inOrder, twoSeats, 'evt_two');
		await subscription(inOrder, oneSeat, 'evt_one');
		const reversed: RootId = 'sub:sub_lowered_reversed';
		await subscription(reversed, oneSeat, 'evt_one');
		await subscription(reversed, twoSeats, 'evt_two');
		const view = (root: RootId) =>
			[0, 1, 2].flatMap((seat) => licensesTagged(seatTag(root, seat))).map((license) => ({
				status: license.status,
				tier: license.subscription_id,
				expiry: Math.floor(Date.parse(license.expires_at as string) / 1000),
			}));
		expect(view(inOrder)).toEqual([
			{ status: 'active', tier: tierA, expiry: target },
			{ status: 'paused', tier: tierA, expiry: target },
		]);
		expect(view(reversed)).toEqual(view(inOrder));
	});

	it('creates nothing for a subscription that was never entitled, and a paused license for one canceled before it was seen active', async () => {
		const never: RootId = 'sub:sub_never_paid';
		expect(await subscription(never, { lines: { value: seats(1), asOf: 1, rank: 0 }, status: { value: 'paused', asOf: 1, rank: 0 }, expiresAtLeast: now() + 86400 }, 'evt_1')).toEqual([]);
		expect(licensesTagged(seatTag(never, 0))).toHaveLength(0);

		const late: RootId = 'sub:sub_canceled_first';
		await subscription(late, { status: { value: 'paused', asOf: 5, rank: 2 }, lines: { value: seats(1), asOf: 5, rank: 2 }, expiresAtLeast: now() + 86400 }, 'evt_deleted');
		const report = await subscription(late, { entitled: true, status: { value: 'active', asOf: 1, rank: 0 } }, 'evt_created');
		expect(report[0].actions).toEqual(['created', 'extended', 'paused']);
		expect(licensesTagged(seatTag(late, 0))[0].status).toBe('paused');
	});

	it('gives a one-off purchase the plan duration and pauses it for a refund that came first', async () => {
		const root: RootId = 'pay:pi_refunded_first';
		await ledger.revokePayment({ paymentIntentId: 'pi_refunded_first', asOf: 10, reason: 'refund' }, 'evt_refund');
		await ledger.mergeFacts({ root, kind: 'payment', entitled: true, lines: { value: [{ lineKey: 'price_1', plan: { durationUnit: 'lifetime' }, count: 1 }], asOf: 5, rank: 0 }, paymentIntentIds: ['pi_refunded_first'] }, 'evt_buy');
		const report = await convergeRoot({ config: config(), ledger, api }, root);
		expect(report[0].actions).toEqual(['created', 'paused']);
		const [license] = licensesTagged(seatTag(root, 0));
		expect(license).toMatchObject({ status: 'paused', expires_at: null, duration_unit: 'lifetime' });
	});

	it('does not recreate a license the seller deleted', async () => {
		const root: RootId = 'pay:pi_deleted_by_seller';
		await ledger.mergeFacts({ root, kind: 'payment', entitled: true, lines: { value: [{ lineKey: 'price_1', plan: { durationUnit: 'days', durationValue: 7 }, count: 1 }], asOf: 5, rank: 0 } }, 'evt_buy');
		const [created] = await convergeRoot({ config: config(), ledger, api }, root);
		await fetch(`${emu.url}/license/delete`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': emu.apiKey },
			body: JSON.stringify({ license_key: created.licenseKey }),
		});
		expect((await convergeRoot({ config: config(), ledger, api }, root))[0].actions).toEqual(['gone']);
		expect((await convergeRoot({ config: config(), ledger, api }, root))[0].actions).toEqual(['gone']);
		expect(licensesTagged(seatTag(root, 0))).toHaveLength(0);
	});
});

describe('seatPlans', () => {
	it('numbers seats across lines in order', () => {
		const plans = seatPlans([
			{ lineKey: 'a', plan: { durationUnit: 'days', durationValue: 1 }, count: 2 },
			{ lineKey: 'b', plan: { durationUnit: 'lifetime' }, count: 1 },
		]);
		expect(plans.map((plan) => plan.durationUnit)).toEqual(['days', 'days', 'lifetime']);
	});
});
