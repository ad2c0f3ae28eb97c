import { loadOptions } from './harness';
import { useEmulator } from './fixtures';

const keycrate = useEmulator();

async function createLicense(): Promise<string> {
	const [created] = await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 30 });
	return created.license_key as string;
}

const hwid = (operation: string, parameters: Record<string, unknown>) => ({ resource: 'hwid', operation, ...parameters });
const subscription = (operation: string, parameters: Record<string, unknown> = {}) => ({
	resource: 'subscription',
	operation,
	...parameters,
});

describe('hwid operations', () => {
	it('edit binds a hardware ID, and an empty HWID clears it', async () => {
		const key = await createLicense();
		const [bound] = await keycrate.runOk(hwid('edit', { licenseKey: key, hwid: 'MACHINE-42' }));
		expect(bound.hwid).toBe('MACHINE-42');
		const cleared = await keycrate.run(hwid('edit', { licenseKey: key, hwid: '', additionalFields: { asReset: false } }));
		expect(cleared.requests[0].body).toEqual({ license_key: key, hwid: null, as_reset: false });
		expect(cleared.items[0].json.hwid).toBeNull();
	});

	it('toggleLock flips the lock, or sets the value given', async () => {
		const key = await createLicense();
		const [flipped] = await keycrate.runOk(hwid('toggleLock', { licenseKey: key }));
		expect(flipped.hwid_lock).toBe(true);
		const [set] = await keycrate.runOk(hwid('toggleLock', { licenseKey: key, additionalFields: { hwidLock: true } }));
		expect(set.hwid_lock).toBe(true);
	});

	it('toggleLockBulk sets the lock of every key', async () => {
		const keys = [await createLicense(), await createLicense()];
		const results = await keycrate.runOk(hwid('toggleLockBulk', { licenseKeys: keys, hwidLock: true }));
		expect(results.map((r) => [r.license_key, (r.license as { hwid_lock: boolean }).hwid_lock])).toEqual(
			keys.map((k) => [k, true]),
		);
	});

	it('toggleResetAllowed flips, or sets the value given', async () => {
		const key = await createLicense();
		const [flipped] = await keycrate.runOk(hwid('toggleResetAllowed', { licenseKey: key }));
		expect(flipped.hwid_reset_allowed).toBe(false);
		const [set] = await keycrate.runOk(
			hwid('toggleResetAllowed', { licenseKey: key, additionalFields: { resetAllowed: true } }),
		);
		expect(set.hwid_reset_allowed).toBe(true);
	});

	it('updateResetInterval sets the hours between resets', async () => {
		const key = await createLicense();
		const [updated] = await keycrate.runOk(hwid('updateResetInterval', { licenseKey: key, resetInterval: 72 }));
		expect(updated.hwid_reset_interval).toBe(72);
	});
});

describe('subscription operations', () => {
	it('create, edit, getMany and delete (which deletes its licenses)', async () => {
		const [created] = await keycrate.runOk(
			subscription('create', { name: 'Pro', level: 3, additionalFields: { singleKeyPerHwid: true } }),
		);
		expect(created).toMatchObject({ name: 'Pro', level: 3, single_key_per_hwid: true });
		const subscriptionId = created.subscription_id as string;

		const [edited] = await keycrate.runOk(
			subscription('edit', { subscriptionId, additionalFields: { name: 'Pro+', level: 4 } }),
		);
		expect(edited).toMatchObject({ name: 'Pro+', level: 4, single_key_per_hwid: true });

		await keycrate.runOk(subscription('create', { name: 'Basic', level: 1 }));
		const listed = await keycrate.runOk(subscription('getMany', { returnAll: true }));
		expect(listed.map((tier) => tier.name).sort()).toEqual(['Basic', 'Pro+']);

		await keycrate.runOk({
			resource: 'license',
			operation: 'createBulk',
			keyAmount: 3,
			durationUnit: 'days',
			durationValue: 1,
			additionalFields: { subscriptionId },
		});
		const [deleted] = await keycrate.runOk(subscription('delete', { subscriptionId }));
		expect(deleted).toEqual({ subscription_id: subscriptionId, deleted: true, deleted_license_count: 3 });
		expect(keycrate.emulator.state().apps[0].licenses).toEqual([]);
	});

	it('getMany with a limit', async () => {
		for (const name of ['A', 'B', 'C']) await keycrate.runOk(subscription('create', { name, level: 1 }));
		const result = await keycrate.run(subscription('getMany', { returnAll: false, limit: 2 }));
		expect(result.items).toHaveLength(2);
		expect(result.requests.map((r) => r.body)).toEqual([{ app_id: keycrate.emulator.appId, page: 1, per_page: 2 }]);
	});
});

describe('the subscription dropdown (loadOptions)', () => {
	it("lists the tiers of the node's App ID, or of the credential's default", async () => {
		await keycrate.runOk(subscription('create', { name: 'Pro', level: 2 }));
		const [basic] = await keycrate.runOk(subscription('create', { name: 'Basic', level: 1 }));
		const expected = [
			{ name: 'Basic (level 1)', value: basic.subscription_id, description: '0 licenses' },
			expect.objectContaining({ name: 'Pro (level 2)' }),
		];
		expect(
			await loadOptions('getSubscriptions', keycrate.credentials, { appId: keycrate.emulator.appId }),
		).toEqual(expected);
		expect(await loadOptions('getSubscriptions', keycrate.credentials, { appId: '' })).toEqual(expected);
	});

	it('asks for an App ID when there is none', async () => {
		await expect(
			loadOptions('getSubscriptions', { ...keycrate.credentials, appId: '' }, { appId: '' }),
		).rejects.toThrow('Set App ID (a UUID) on the node or a default App ID in the credential to list subscriptions');
	});
});
