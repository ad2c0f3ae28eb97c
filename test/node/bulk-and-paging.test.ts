import { useEmulator } from './fixtures';

const keycrate = useEmulator();

/** Creates `amount` licenses through the node (create-bulk in batches) and returns their keys. */
async function seedLicenses(amount: number): Promise<string[]> {
	const created = await keycrate.runOk({
		resource: 'license',
		operation: 'createBulk',
		keyAmount: amount,
		durationUnit: 'days',
		durationValue: 30,
	});
	expect(created).toHaveLength(amount);
	return created.map((license) => license.license_key as string);
}

const getMany = (parameters: Record<string, unknown>) => ({ resource: 'license', operation: 'getMany', ...parameters });

describe('Return All and Limit over get-bulk pages', () => {
	it('Return All walks every page of 1,050 licenses until has_more is false', async () => {
		const keys = await seedLicenses(1050);
		expect(keycrate.callsTo('/license/create-bulk')).toBe(2);

		const result = await keycrate.run(getMany({ returnAll: true }));
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1050);
		expect(new Set(result.items.map((item) => item.json.license_key))).toEqual(new Set(keys));
		expect(keycrate.callsTo('/license/get-bulk')).toBe(11);
		expect(result.requests.map((r) => (r.body as { page: number }).page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
		expect(result.items.every((item) => item.pairedItem && (item.pairedItem as { item: number }).item === 0)).toBe(true);
	});

	it('Page Size changes how many calls Return All makes', async () => {
		await seedLicenses(210);
		const items = await keycrate.runOk(getMany({ returnAll: true, options: { pageSize: 50 } }));
		expect(items).toHaveLength(210);
		expect(keycrate.callsTo('/license/get-bulk')).toBe(5);
	});

	it('Limit stops without fetching more pages than needed', async () => {
		await seedLicenses(1050);
		const small = await keycrate.run(getMany({ returnAll: false, limit: 30 }));
		expect(small.items).toHaveLength(30);
		expect(small.requests.map((r) => r.body)).toEqual([
			{ app_id: keycrate.emulator.appId, sort_field: 'created_at', sort_order: 'desc', page: 1, per_page: 30 },
		]);

		const twoPages = await keycrate.run(getMany({ returnAll: false, limit: 150 }));
		expect(twoPages.items).toHaveLength(150);
		expect(twoPages.requests).toHaveLength(2);
		expect(keycrate.callsTo('/license/get-bulk')).toBe(3);
	});
});

describe('bulk operations split long key lists', () => {
	it('extends 2,500 keys in exactly 3 calls (batch 1,000) and outputs 2,500 items', async () => {
		const keys = await seedLicenses(2500);
		expect(keycrate.callsTo('/license/create-bulk')).toBe(3);
		const expiryBefore = new Map(keycrate.emulator.state().apps[0].licenses.map((l) => [l.license_key, l.expires_at!]));

		const result = await keycrate.run(
			{ resource: 'license', operation: 'extendBulk', licenseKeys: '={{ $json.keys }}', extendBy: 1, extendUnit: 'days' },
			{ input: [{ json: { keys } }] },
		);
		expect(result.error).toBeUndefined();
		expect(keycrate.callsTo('/license/extend-bulk')).toBe(3);
		expect(result.requests.map((r) => (r.body as { license_keys: string[] }).license_keys.length)).toEqual([1000, 1000, 500]);
		expect(result.items).toHaveLength(2500);
		expect(result.items.map((item) => item.json.license_key)).toEqual(keys);
		expect(result.items.every((item) => item.json.success === true)).toBe(true);
		for (const license of keycrate.emulator.state().apps[0].licenses) {
			expect(Date.parse(license.expires_at!) - Date.parse(expiryBefore.get(license.license_key)!)).toBe(86400_000);
		}
	});

	it('honours a smaller Batch Size', async () => {
		const keys = await seedLicenses(1300);
		const results = await keycrate.runOk({
			resource: 'license',
			operation: 'updateStatusBulk',
			licenseKeys: keys.join(','),
			status: 'paused',
			options: { batchSize: 300 },
		});
		expect(results).toHaveLength(1300);
		expect(keycrate.callsTo('/license/update-status-bulk')).toBe(5);
	});

	it('reports a key that fails alone as a failed result, not a failed node', async () => {
		const [key] = await seedLicenses(1);
		const results = await keycrate.runOk({ resource: 'license', operation: 'deleteBulk', licenseKeys: `${key}, NO-SUCH-KEY` });
		expect(results).toEqual([
			{ license_key: key, success: true },
			expect.objectContaining({ license_key: 'NO-SUCH-KEY', success: false, error_code: 'LICENSE_NOT_FOUND' }),
		]);
	});
});
