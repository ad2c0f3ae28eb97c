import { randomUUID } from 'node:crypto';
import { startEmulator, type Emulator } from '../../emulator/src';
import { createLicense, createSubscription, ok, OTHER_API_KEY, OTHER_APP_ID, refused, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
	emulator = await startTwoAppEmulator();
});
beforeEach(() => emulator.reset());
afterAll(() => emulator.stop());

test('/subscription/create and /subscription/edit', async () => {
	const created = await createSubscription(emulator, { name: 'Gold', level: 3 });
	expect(created).toMatchObject({ app_id: emulator.appId, name: 'Gold', level: 3, single_key_per_hwid: false, license_count: 0 });
	const renamed = await ok(emulator, '/subscription/edit', { subscription_id: created.subscription_id, name: 'Platinum', level: 4 });
	expect(renamed.data).toMatchObject({ subscription_id: created.subscription_id, name: 'Platinum', level: 4, single_key_per_hwid: false });
	const nothing = await refused(emulator, '/subscription/edit', { subscription_id: created.subscription_id });
	expect(nothing.body).toEqual({ error: 'name: at least one of name, level, single_key_per_hwid is required', error_code: 'INVALID_INPUT', field: 'name' });
});

test('/subscription/delete deletes the tier and its licenses, and reports how many', async () => {
	const doomed = await createSubscription(emulator, { name: 'Doomed' });
	const kept = await createSubscription(emulator, { name: 'Kept' });
	const bulk = await ok(emulator, '/license/create-bulk', {
		app_id: emulator.appId,
		key_amount: 3,
		subscription_id: doomed.subscription_id,
		duration_unit: 'lifetime',
	});
	const survivor = await createLicense(emulator, { subscription_id: kept.subscription_id });
	const loose = await createLicense(emulator);

	const deleted = await ok(emulator, '/subscription/delete', { subscription_id: doomed.subscription_id });
	expect(deleted.data).toEqual({ subscription_id: doomed.subscription_id, deleted: true, deleted_license_count: 3 });
	for (const license of bulk.data) {
		expect((await refused(emulator, '/license/get', { license_key: license.license_key })).body.error_code).toBe('LICENSE_NOT_FOUND');
	}
	const remaining = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, sort_field: 'license_key', sort_order: 'asc' });
	expect(remaining.data.map((license) => license.license_key)).toEqual([survivor.license_key, loose.license_key].sort());
	const again = await refused(emulator, '/subscription/delete', { subscription_id: doomed.subscription_id });
	expect(again.status).toBe(404);
	expect(again.body).toEqual({ error: `subscription ${doomed.subscription_id} does not exist`, error_code: 'SUBSCRIPTION_NOT_FOUND' });
});

test("/subscription/get-bulk lists the app's tiers in creation order, paged", async () => {
	for (let level = 0; level < 5; level++) await createSubscription(emulator, { name: `Tier ${level}`, level });
	await ok(emulator, '/subscription/create', { app_id: OTHER_APP_ID, name: 'Theirs', level: 9 }, { apiKey: OTHER_API_KEY });
	const first = await ok(emulator, '/subscription/get-bulk', { app_id: emulator.appId, per_page: 2 });
	expect(first.data.map((tier) => tier.name)).toEqual(['Tier 0', 'Tier 1']);
	expect(first.pagination).toEqual({ page: 1, per_page: 2, total: 5, total_pages: 3, has_more: true });
	const last = await ok(emulator, '/subscription/get-bulk', { app_id: emulator.appId, per_page: 2, page: 3 });
	expect(last.data.map((tier) => tier.name)).toEqual(['Tier 4']);
	expect(last.pagination.has_more).toBe(false);
});

test("another key's subscription is ACCESS_DENIED for edit and delete", async () => {
	const theirs = await ok(emulator, '/subscription/create', { app_id: OTHER_APP_ID, name: 'Theirs', level: 1 }, { apiKey: OTHER_API_KEY });
	const id = theirs.data.subscription_id;
	const attempts = [
		['/subscription/edit', { subscription_id: id, name: 'Mine now' }],
		['/subscription/delete', { subscription_id: id }],
	] as const;
	for (const [path, body] of attempts) {
		const reply = await refused(emulator, path, body);
		expect(reply.status).toBe(403);
		expect(reply.body).toEqual({ error: `subscription ${theirs.data.subscription_id} belongs to an app of another API key`, error_code: 'ACCESS_DENIED' });
	}
});

test('one key with two apps: a license cannot join a tier of its other app (400 subscription_id)', async () => {
	const apiKey = `kc_${randomUUID().replace(/-/g, '')}`;
	const appA = randomUUID();
	const appB = randomUUID();
	const shared = await startEmulator({
		apps: [
			{ app_id: appA, api_key: apiKey },
			{ app_id: appB, api_key: apiKey },
		],
		validateResponses: false,
	});
	try {
		const tierOfB = await ok(shared, '/subscription/create', { app_id: appB, name: 'B tier', level: 1 });
		const reply = await refused(shared, '/license/create', { app_id: appA, duration_unit: 'lifetime', subscription_id: tierOfB.data.subscription_id });
		expect(reply.status).toBe(400);
		expect(reply.body).toEqual({ error: `subscription_id: belongs to another app than ${appA}`, error_code: 'INVALID_INPUT', field: 'subscription_id' });
		const licenseOfA = await createLicense(shared, { app_id: appA });
		const moved = await refused(shared, '/license/update-subscription', { license_key: licenseOfA.license_key, subscription_id: tierOfB.data.subscription_id });
		expect(moved.body.field).toBe('subscription_id');
	} finally {
		await shared.stop();
	}
});
