import type { Emulator } from '../../emulator/src';
import { createLicense, createSubscription, HOUR_MS, ok, refused, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
	emulator = await startTwoAppEmulator();
});
beforeEach(() => emulator.reset());
afterAll(() => emulator.stop());

describe('/hwid/edit', () => {
	test('binds and clears (null) a HWID; an admin change is not a reset', async () => {
		const license = await createLicense(emulator);
		const bound = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-1' });
		expect(bound.data).toMatchObject({ hwid: 'PC-1', hwid_last_reset_at: null });
		const rebound = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-2' });
		expect(rebound.data).toMatchObject({ hwid: 'PC-2', hwid_last_reset_at: null });
		const cleared = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: null });
		expect(cleared.data.hwid).toBeNull();
	});

	test('a first binding with as_reset is not a reset either', async () => {
		const license = await createLicense(emulator);
		const bound = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-1', as_reset: true });
		expect(bound.data).toMatchObject({ hwid: 'PC-1', hwid_last_reset_at: null });
	});

	test('a reset is refused when resets are not allowed', async () => {
		const license = await createLicense(emulator, { hwid: 'PC-1' });
		const forbidden = await ok(emulator, '/hwid/toggle-reset-allowed', { license_key: license.license_key, reset_allowed: false });
		expect(forbidden.data.hwid_reset_allowed).toBe(false);
		const reply = await refused(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-2', as_reset: true });
		expect(reply.status).toBe(403);
		expect(reply.body).toEqual({ error: `HWID resets are not allowed for license ${license.license_key}`, error_code: 'ACCESS_DENIED' });
		expect((await ok(emulator, '/license/get', { license_key: license.license_key })).data.hwid).toBe('PC-1');
	});

	test('resets respect the interval (hours) from the last reset, on the emulator clock', async () => {
		const license = await createLicense(emulator, { hwid: 'PC-1' });
		const interval = await ok(emulator, '/hwid/update-reset-interval', { license_key: license.license_key, reset_interval: 24 });
		expect(interval.data.hwid_reset_interval).toBe(24);

		const first = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-2', as_reset: true });
		expect(first.data.hwid).toBe('PC-2');
		const resetAt = Date.parse(first.data.hwid_last_reset_at as string);

		emulator.setClockOffset(23 * HOUR_MS);
		const early = await refused(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-3', as_reset: true });
		expect(early.status).toBe(403);
		expect(early.body).toEqual({
			error: `HWID reset refused: the next reset of license ${license.license_key} is allowed at ${new Date(resetAt + 24 * HOUR_MS).toISOString()}`,
			error_code: 'ACCESS_DENIED',
		});

		emulator.setClockOffset(25 * HOUR_MS);
		const second = await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-3', as_reset: true });
		expect(second.data.hwid).toBe('PC-3');
		expect(Date.parse(second.data.hwid_last_reset_at as string)).toBeGreaterThanOrEqual(resetAt + 25 * HOUR_MS);
	});

	test('an interval of 0 means no cooldown; the interval is at most the contract maximum', async () => {
		const license = await createLicense(emulator, { hwid: 'PC-1' });
		await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-2', as_reset: true });
		await ok(emulator, '/hwid/edit', { license_key: license.license_key, hwid: 'PC-3', as_reset: true });
		const tooLong = await refused(emulator, '/hwid/update-reset-interval', { license_key: license.license_key, reset_interval: 8761 });
		expect(tooLong.body).toEqual({ error: 'reset_interval: must be <= 8760', error_code: 'INVALID_INPUT', field: 'reset_interval' });
	});
});

describe('toggles', () => {
	test('/hwid/toggle-lock sets the given value or flips when omitted', async () => {
		const license = await createLicense(emulator);
		expect((await ok(emulator, '/hwid/toggle-lock', { license_key: license.license_key })).data.hwid_lock).toBe(true);
		expect((await ok(emulator, '/hwid/toggle-lock', { license_key: license.license_key })).data.hwid_lock).toBe(false);
		expect((await ok(emulator, '/hwid/toggle-lock', { license_key: license.license_key, hwid_lock: true })).data.hwid_lock).toBe(true);
		expect((await ok(emulator, '/hwid/toggle-lock', { license_key: license.license_key, hwid_lock: true })).data.hwid_lock).toBe(true);
	});

	test('/hwid/toggle-reset-allowed sets the given value or flips when omitted', async () => {
		const license = await createLicense(emulator);
		expect((await ok(emulator, '/hwid/toggle-reset-allowed', { license_key: license.license_key })).data.hwid_reset_allowed).toBe(false);
		expect((await ok(emulator, '/hwid/toggle-reset-allowed', { license_key: license.license_key })).data.hwid_reset_allowed).toBe(true);
		expect((await ok(emulator, '/hwid/toggle-reset-allowed', { license_key: license.license_key, reset_allowed: true })).data.hwid_reset_allowed).toBe(true);
	});
});

describe('single key per HWID', () => {
	test('a HWID that another license of the tier holds is refused at create, hwid/edit and update-subscription', async () => {
		const single = await createSubscription(emulator, { name: 'Single', single_key_per_hwid: true });
		const open = await createSubscription(emulator, { name: 'Open' });
		const holder = await createLicense(emulator, { subscription_id: single.subscription_id, hwid: 'PC-1' });
		const conflict = {
			error: `hwid: is already bound to license ${holder.license_key} of subscription ${single.subscription_id}, which allows a single key per HWID`,
			error_code: 'INVALID_INPUT',
			field: 'hwid',
		};

		expect(
			(await refused(emulator, '/license/create', { app_id: emulator.appId, duration_unit: 'lifetime', subscription_id: single.subscription_id, hwid: 'PC-1' }))
				.body,
		).toEqual(conflict);

		const second = await createLicense(emulator, { subscription_id: single.subscription_id });
		expect((await refused(emulator, '/hwid/edit', { license_key: second.license_key, hwid: 'PC-1' })).body).toEqual(conflict);
		await ok(emulator, '/hwid/edit', { license_key: second.license_key, hwid: 'PC-2' });

		const elsewhere = await createLicense(emulator, { subscription_id: open.subscription_id, hwid: 'PC-1' });
		expect(
			(await refused(emulator, '/license/update-subscription', { license_key: elsewhere.license_key, subscription_id: single.subscription_id })).body,
		).toEqual(conflict);

		// Re-binding the holder's own HWID is not a conflict, and once it moves on the HWID is free.
		await ok(emulator, '/hwid/edit', { license_key: holder.license_key, hwid: 'PC-1' });
		await ok(emulator, '/hwid/edit', { license_key: holder.license_key, hwid: null });
		const moved = await ok(emulator, '/license/update-subscription', { license_key: elsewhere.license_key, subscription_id: single.subscription_id });
		expect(moved.data.subscription_id).toBe(single.subscription_id);
	});

	test('turning the rule on is refused while licenses of the tier share a HWID', async () => {
		const tier = await createSubscription(emulator);
		await createLicense(emulator, { subscription_id: tier.subscription_id, hwid: 'PC-1' });
		const twin = await createLicense(emulator, { subscription_id: tier.subscription_id, hwid: 'PC-1' });
		const reply = await refused(emulator, '/subscription/edit', { subscription_id: tier.subscription_id, single_key_per_hwid: true });
		expect(reply.body).toEqual({
			error: 'single_key_per_hwid: cannot be turned on: 2 licenses of this subscription share the HWID PC-1',
			error_code: 'INVALID_INPUT',
			field: 'single_key_per_hwid',
		});
		await ok(emulator, '/license/delete', { license_key: twin.license_key });
		const edited = await ok(emulator, '/subscription/edit', { subscription_id: tier.subscription_id, single_key_per_hwid: true });
		expect(edited.data.single_key_per_hwid).toBe(true);
	});
});
