import { createPoller, type Poller } from './harness';
import { useEmulator } from './fixtures';

const keycrate = useEmulator();

async function createLicenses(amount: number, durationUnit = 'days', durationValue = 30): Promise<string[]> {
	const created = await keycrate.runOk({ resource: 'license', operation: 'createBulk', keyAmount: amount, durationUnit, durationValue });
	return created.map((license) => license.license_key as string);
}

const keysOf = (output: Awaited<ReturnType<Poller['poll']>>) => (output?.[0] ?? []).map((item) => item.json.license_key);

describe('Keycrate Trigger: License Created', () => {
	it('reports each license created after activation, once', async () => {
		await createLicenses(2);
		const trigger = createPoller(keycrate.credentials, { event: 'licenseCreated' });
		expect(await trigger.poll()).toBeNull(); // activation: existing licenses are not news

		const first = await createLicenses(3);
		expect((keysOf(await trigger.poll()) as string[]).sort()).toEqual([...first].sort());
		expect(await trigger.poll()).toBeNull();

		const more = await createLicenses(150);
		const reported = keysOf(await trigger.poll());
		expect(reported).toHaveLength(150);
		expect(new Set(reported)).toEqual(new Set(more));
		expect(await trigger.poll()).toBeNull();
	});

	it('gives the newest license as a sample in manual mode', async () => {
		await createLicenses(3);
		const output = await createPoller(keycrate.credentials, { event: 'licenseCreated' }, 'manual').poll();
		expect(output?.[0]).toHaveLength(1);
	});

	it('needs an App ID', async () => {
		const trigger = createPoller({ ...keycrate.credentials, appId: '' }, { event: 'licenseCreated', appId: '' });
		await expect(trigger.poll()).rejects.toThrow('App ID is empty and the Keycrate API credential has no default App ID');
		const badDefault = createPoller({ ...keycrate.credentials, appId: 'app-1' }, { event: 'licenseCreated', appId: '' });
		await expect(badDefault.poll()).rejects.toThrow('The default App ID of the credential must be a UUID, got "app-1"');
	});
});

describe('Keycrate Trigger: License Expiring Soon', () => {
	it('reports an active license once when its expiry comes within the window, and again after an extension', async () => {
		const [soon] = await createLicenses(1, 'days', 2);
		const [pausedSoon] = await createLicenses(1, 'days', 1);
		await createLicenses(1, 'days', 30);
		await createLicenses(1, 'lifetime');
		await keycrate.runOk({ resource: 'license', operation: 'updateStatus', licenseKey: pausedSoon, status: 'paused' });

		const trigger = createPoller(keycrate.credentials, { event: 'licenseExpiring', withinDays: 7 });
		expect(keysOf(await trigger.poll())).toEqual([soon]);
		expect(await trigger.poll()).toBeNull();

		await keycrate.runOk({ resource: 'license', operation: 'extend', licenseKey: soon, extendBy: 1, extendUnit: 'days' });
		expect(keysOf(await trigger.poll())).toEqual([soon]);
		expect(await trigger.poll()).toBeNull();
	});
});
