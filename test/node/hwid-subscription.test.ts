import type { INodeProperties } from 'n8n-workflow';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { setRetryWait } from '../../nodes/Keycrate/transport/retry';
import { searchList } from './harness';
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
	it('set binds a hardware ID and clear unbinds it', async () => {
		const key = await createLicense();
		const [bound] = await keycrate.runOk(hwid('set', { licenseKey: key, hwid: 'MACHINE-42' }));
		expect(bound.hwid).toBe('MACHINE-42');
		const cleared = await keycrate.run(hwid('clear', { licenseKey: key, additionalFields: { asReset: false } }));
		expect(cleared.requests[0].body).toEqual({ license_key: key, hwid: null, as_reset: false });
		expect(cleared.items[0].json.hwid).toBeNull();
	});

	it('set refuses an HWID that resolves to empty instead of unbinding', async () => {
		const key = await createLicense();
		await keycrate.runOk(hwid('set', { licenseKey: key, hwid: 'MACHINE-42' }));
		const result = await keycrate.run(hwid('set', { licenseKey: key, hwid: '={{ $json.missing ?? "" }}' }));
		expect(result.error?.message).toBe('HWID is empty');
		expect(result.requests).toEqual([]);
		expect(keycrate.emulator.state().apps[0].licenses[0].hwid).toBe('MACHINE-42');
	});

	it('Set Lock run twice leaves the lock set, and sends the value every time', async () => {
		const key = await createLicense();
		for (let run = 0; run < 2; run++) {
			const result = await keycrate.run(hwid('setLock', { licenseKey: key, hwidLock: true }));
			expect(result.requests[0].body).toEqual({ license_key: key, hwid_lock: true });
			expect(result.items[0].json.hwid_lock).toBe(true);
			expect(keycrate.emulator.state().apps[0].licenses[0].hwid_lock).toBe(true);
		}
		const [unlocked] = await keycrate.runOk(hwid('setLock', { licenseKey: key, hwidLock: false }));
		expect(unlocked.hwid_lock).toBe(false);
	});

	it('Set Lock after a retried server error still ends locked', async () => {
		const key = await createLicense();
		keycrate.emulator.setFaults([{ endpoint: '/hwid/toggle-lock', kind: 'commit_then_500', rate: 1 }]);
		setRetryWait(async (ms) => {
			keycrate.retryDelays.push(ms);
			keycrate.emulator.setFaults([]);
		});
		const [locked] = await keycrate.runOk(hwid('setLock', { licenseKey: key, hwidLock: true }));
		expect(locked.hwid_lock).toBe(true);
		expect(keycrate.emulator.calls()['/hwid/toggle-lock']).toEqual({ '500': 1, '200': 1 });
	});

	it('Set Lock Many sets the lock of every key, twice over', async () => {
		const keys = [await createLicense(), await createLicense()];
		for (let run = 0; run < 2; run++) {
			const results = await keycrate.runOk(hwid('setLockBulk', { licenseKeys: keys, hwidLock: true }));
			expect(results.map((r) => [r.license_key, (r.license as { hwid_lock: boolean }).hwid_lock])).toEqual(keys.map((k) => [k, true]));
		}
	});

	it('Set Reset Allowed sets the value given, run after run', async () => {
		const key = await createLicense();
		for (const resetAllowed of [false, false, true, true]) {
			const result = await keycrate.run(hwid('setResetAllowed', { licenseKey: key, resetAllowed, simplify: false }));
			expect(result.requests[0].body).toEqual({ license_key: key, reset_allowed: resetAllowed });
			expect(result.items[0].json.hwid_reset_allowed).toBe(resetAllowed);
		}
	});

	it('updateResetInterval sets the hours between resets', async () => {
		const key = await createLicense();
		const [updated] = await keycrate.runOk(hwid('updateResetInterval', { licenseKey: key, resetInterval: 72, simplify: false }));
		expect(updated.hwid_reset_interval).toBe(72);
	});
});

describe('subscription operations', () => {
	it('create, update, getMany and delete (which deletes its licenses)', async () => {
		const [created] = await keycrate.runOk(subscription('create', { name: 'Pro', level: 3, additionalFields: { singleKeyPerHwid: true } }));
		expect(created).toMatchObject({ name: 'Pro', level: 3, single_key_per_hwid: true });
		const subscriptionId = created.subscription_id as string;

		const [edited] = await keycrate.runOk(
			subscription('update', { subscriptionId: { __rl: true, mode: 'id', value: subscriptionId }, updateFields: { name: 'Pro+', level: 4 } }),
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
			additionalFields: { subscriptionId: { __rl: true, mode: 'list', value: subscriptionId } },
		});
		const [deleted] = await keycrate.runOk(subscription('delete', { subscriptionId: { __rl: true, mode: 'list', value: subscriptionId } }));
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

describe('the subscription tier locator (From List)', () => {
	it("lists the tiers of the node's App ID, or of the credential's default, and filters by name", async () => {
		await keycrate.runOk(subscription('create', { name: 'Pro', level: 2 }));
		const [basic] = await keycrate.runOk(subscription('create', { name: 'Basic', level: 1 }));
		const expected = { results: [{ name: 'Basic (level 1)', value: basic.subscription_id }, expect.objectContaining({ name: 'Pro (level 2)' })] };
		expect(await searchList('searchSubscriptions', keycrate.credentials, { appId: keycrate.emulator.appId })).toEqual(expected);
		expect(await searchList('searchSubscriptions', keycrate.credentials, { appId: '' })).toEqual(expected);
		expect(await searchList('searchSubscriptions', keycrate.credentials, { appId: '' }, 'bas')).toEqual({
			results: [{ name: 'Basic (level 1)', value: basic.subscription_id }],
		});
	});

	it('asks for an App ID when there is none', async () => {
		await expect(searchList('searchSubscriptions', { ...keycrate.credentials, appId: '' }, { appId: '' })).rejects.toThrow(
			'Set App ID (a UUID) on the node or a default App ID in the credential to list subscription tiers',
		);
	});

	it('shows App ID wherever it shows a Subscription Tier list', () => {
		const { properties } = new Keycrate().description;
		const shownWith = (p: INodeProperties) => JSON.stringify(p.displayOptions?.show ?? {});
		const operationsOf = (p: INodeProperties) =>
			((p.displayOptions?.show?.resource as string[]) ?? []).flatMap((r) => ((p.displayOptions?.show?.operation as string[]) ?? []).map((o) => `${r}.${o}`));
		const withLocator = properties.filter(
			(p) => p.name === 'subscriptionId' || (p.type === 'collection' && (p.options as INodeProperties[]).some((o) => o.name === 'subscriptionId')),
		);
		expect(withLocator.length).toBeGreaterThan(0);
		for (const locator of withLocator) {
			for (const operation of operationsOf(locator)) {
				const appId = properties.find((p) => p.name === 'appId' && operationsOf(p).includes(operation));
				expect({ operation, appId: appId?.name }).toEqual({ operation, appId: 'appId' });
				// App ID is shown whenever the locator is (same extra conditions, or none).
				const extra = (p: INodeProperties) => {
					const { resource: _r, operation: _o, ...rest } = p.displayOptions?.show ?? {};
					return JSON.stringify(rest);
				};
				expect([operation, extra(appId!)]).toEqual([operation, shownWith(locator) === '{}' ? '{}' : extra(locator)]);
			}
		}
	});
});
