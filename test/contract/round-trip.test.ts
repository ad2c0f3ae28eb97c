import { contractPaths, type Emulator } from '../../emulator/src';
import { createLicense, DAY_MS, ok, refused, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
	emulator = await startTwoAppEmulator();
});
afterAll(() => emulator.stop());

test('create → get → extend → update-status → delete → get answers LICENSE_NOT_FOUND', async () => {
	const created = await createLicense(emulator, { duration_unit: 'days', duration_value: 30, tags: ['pro'], metadata: { order: 42 } });
	expect(created).toMatchObject({
		app_id: emulator.appId,
		status: 'active',
		duration_unit: 'days',
		duration_value: 30,
		tags: ['pro'],
		metadata: { order: 42 },
	});
	expect(Date.parse(created.expires_at as string) - Date.parse(created.created_at)).toBe(30 * DAY_MS);

	const read = await ok(emulator, '/license/get', { license_key: created.license_key });
	expect(read.data).toEqual(created);

	const extended = await ok(emulator, '/license/extend', { license_key: created.license_key, extend_seconds: 86_400 });
	expect(Date.parse(extended.data.expires_at as string)).toBe(Date.parse(created.expires_at as string) + DAY_MS);

	const paused = await ok(emulator, '/license/update-status', { license_key: created.license_key, status: 'paused' });
	expect(paused.data.status).toBe('paused');
	const active = await ok(emulator, '/license/update-status', { license_key: created.license_key, status: 'active' });
	expect(active.data.status).toBe('active');

	const deleted = await ok(emulator, '/license/delete', { license_key: created.license_key });
	expect(deleted.data).toEqual({ license_key: created.license_key, deleted: true });

	const gone = await refused(emulator, '/license/get', { license_key: created.license_key });
	expect(gone.status).toBe(404);
	expect(gone.body).toEqual({ error: `license ${created.license_key} does not exist`, error_code: 'LICENSE_NOT_FOUND' });
});

test("a tour answers 200 on every one of the 22 endpoints (checked in the emulator's call counts)", async () => {
	emulator.reset();
	const tier = (await ok(emulator, '/subscription/create', { app_id: emulator.appId, name: 'Tour', level: 1 })).data;
	await ok(emulator, '/subscription/edit', { subscription_id: tier.subscription_id, level: 2 });
	await ok(emulator, '/subscription/get-bulk', { app_id: emulator.appId });
	const key = (await createLicense(emulator, { subscription_id: tier.subscription_id })).license_key;
	const keys = (await ok(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: 2, duration_unit: 'lifetime' })).data.map(
		(l) => l.license_key,
	);
	await ok(emulator, '/license/get', { license_key: key });
	await ok(emulator, '/license/get-bulk', { app_id: emulator.appId });
	await ok(emulator, '/license/extend', { license_key: key, extend_seconds: 60 });
	await ok(emulator, '/license/extend-bulk', { license_keys: keys, extend_seconds: 60 });
	await ok(emulator, '/license/update-status', { license_key: key, status: 'paused' });
	await ok(emulator, '/license/update-status-bulk', { license_keys: keys, status: 'paused' });
	await ok(emulator, '/license/update-subscription', { license_key: keys[0], subscription_id: tier.subscription_id });
	await ok(emulator, '/license/update-user-credentials', { license_key: key, username: 'tour' });
	await ok(emulator, '/license/update-metadata', { license_key: key, metadata: { tour: true } });
	await ok(emulator, '/hwid/edit', { license_key: key, hwid: 'TOUR-PC' });
	await ok(emulator, '/hwid/toggle-lock', { license_key: key });
	await ok(emulator, '/hwid/toggle-lock-bulk', { license_keys: keys, hwid_lock: true });
	await ok(emulator, '/hwid/toggle-reset-allowed', { license_key: key });
	await ok(emulator, '/hwid/update-reset-interval', { license_key: key, reset_interval: 12 });
	await ok(emulator, '/license/delete', { license_key: keys[1] });
	await ok(emulator, '/license/delete-bulk', { license_keys: [keys[0]] });
	const cascade = await ok(emulator, '/subscription/delete', { subscription_id: tier.subscription_id });
	expect(cascade.data.deleted_license_count).toBe(1);

	const calls = emulator.calls();
	expect(Object.keys(calls).sort()).toEqual([...contractPaths].sort());
	for (const path of contractPaths) expect([path, calls[path]['200']]).toEqual([path, expect.any(Number)]);
});
