import { useEmulator } from './fixtures';

const keycrate = useEmulator();

const license = (operation: string, parameters: Record<string, unknown> = {}) => ({
	resource: 'license',
	operation,
	...parameters,
});

function licensesInEmulator() {
	return keycrate.emulator.state().apps[0].licenses;
}

async function createLicense(parameters: Record<string, unknown> = {}): Promise<string> {
	const [created] = await keycrate.runOk(license('create', { durationUnit: 'days', durationValue: 30, ...parameters }));
	return created.license_key as string;
}

async function createSubscription(name: string): Promise<string> {
	const [tier] = await keycrate.runOk({ resource: 'subscription', operation: 'create', name, level: 1 });
	return tier.subscription_id as string;
}

describe('license operations', () => {
	it('create: sends every additional field and outputs the license', async () => {
		const subscriptionId = await createSubscription('Pro');
		const [created] = await keycrate.runOk(
			license('create', {
				appId: keycrate.emulator.appId,
				durationUnit: 'months',
				durationValue: 2,
				simplify: false,
				additionalFields: {
					hwid: 'HW-1',
					hwidLock: true,
					keyPattern: 'PRO-****',
					metadata: '{"plan":"pro"}',
					password: 'secret-pass',
					subscriptionId,
					tags: 'stripe, pro',
					username: 'ada',
				},
			}),
		);
		expect(created).toMatchObject({
			duration_unit: 'months',
			duration_value: 2,
			hwid: 'HW-1',
			hwid_lock: true,
			metadata: { plan: 'pro' },
			subscription_id: subscriptionId,
			tags: ['stripe', 'pro'],
			username: 'ada',
			has_password: true,
		});
		expect(created.license_key).toMatch(/^PRO-[A-Z0-9]{4}$/);
		expect(licensesInEmulator()).toHaveLength(1);
	});

	it('create: a lifetime license sends no duration value; appId falls back to the credential', async () => {
		const result = await keycrate.run(license('create', { appId: '', durationUnit: 'lifetime', durationValue: 5, simplify: false }));
		expect(result.requests.map((r) => r.body)).toEqual([{ app_id: keycrate.emulator.appId, duration_unit: 'lifetime', hwid_lock: false }]);
		expect(result.items[0].json).toMatchObject({ duration_unit: 'lifetime', expires_at: null });
	});

	it('createBulk: one item per license, in calls of the batch size', async () => {
		const items = await keycrate.runOk(
			license('createBulk', {
				keyAmount: 25,
				durationUnit: 'days',
				durationValue: 7,
				additionalFields: { tags: ['trial'] },
				options: { batchSize: 10 },
			}),
		);
		expect(items).toHaveLength(25);
		expect(keycrate.callsTo('/license/create-bulk')).toBe(3);
		expect(new Set(items.map((item) => item.license_key)).size).toBe(25);
		expect(licensesInEmulator()).toHaveLength(25);
		expect(licensesInEmulator().every((l) => l.tags.includes('trial'))).toBe(true);
	});

	it('extend: moves the expiry by Extend By in its unit (a number, or a numeric string from an expression)', async () => {
		const key = await createLicense();
		const before = Date.parse(licensesInEmulator()[0].expires_at!);
		const extend = await keycrate.run(license('extend', { licenseKey: key, extendBy: 1, extendUnit: 'days' }));
		expect(extend.requests[0].body).toEqual({ license_key: key, extend_seconds: 86400 });
		expect(Date.parse(extend.items[0].json.expires_at as string) - before).toBe(86400 * 1000);
		const [again] = await keycrate.runOk(license('extend', { licenseKey: key, extendBy: '={{ $json.n }}', extendUnit: 'hours' }), [{ json: { n: '1' } }]);
		expect(Date.parse(again.expires_at as string) - before).toBe((86400 + 3600) * 1000);
		for (const [extendUnit, seconds] of [
			['minutes', 120],
			['weeks', 2 * 604800],
		] as const) {
			const run = await keycrate.run(license('extend', { licenseKey: key, extendBy: 2, extendUnit }));
			expect((run.requests[0].body as { extend_seconds: number }).extend_seconds).toBe(seconds);
		}
	});

	it('extendBulk: one result per key', async () => {
		const keys = [await createLicense(), await createLicense()];
		const results = await keycrate.runOk(license('extendBulk', { licenseKeys: keys.join('\n'), extendBy: 1, extendUnit: 'hours' }));
		expect(results.map((r) => [r.license_key, r.success])).toEqual(keys.map((k) => [k, true]));
	});

	it('delete and deleteBulk remove the licenses', async () => {
		const [a, b, c] = [await createLicense(), await createLicense(), await createLicense()];
		expect(await keycrate.runOk(license('delete', { licenseKey: a }))).toEqual([{ license_key: a, deleted: true }]);
		const results = await keycrate.runOk(license('deleteBulk', { licenseKeys: `${b},${c}` }));
		expect(results.map((r) => r.success)).toEqual([true, true]);
		expect(licensesInEmulator()).toEqual([]);
	});

	it('get reads one license', async () => {
		const key = await createLicense();
		const [read] = await keycrate.runOk(license('get', { licenseKey: key, simplify: false }));
		expect(read).toMatchObject({ license_key: key, status: 'active', app_id: keycrate.emulator.appId });
		expect(Object.keys(read)).toHaveLength(18);
	});

	it('Simplify (on by default) outputs the common license fields; off gives the full object', async () => {
		const key = await createLicense({ additionalFields: { tags: 'vip' } });
		for (const [operation, parameters] of [
			['get', { licenseKey: key }],
			['getMany', { returnAll: true }],
			['updateStatus', { licenseKey: key, status: 'active' }],
			['create', { durationUnit: 'days', durationValue: 1 }],
			['createBulk', { keyAmount: 2, durationUnit: 'days', durationValue: 1 }],
		] as const) {
			const items = await keycrate.runOk(license(operation, parameters));
			for (const item of items) {
				expect([operation, Object.keys(item)]).toEqual([
					operation,
					['license_key', 'status', 'expires_at', 'subscription_id', 'tags', 'hwid', 'hwid_lock', 'username', 'created_at'],
				]);
			}
		}
	});

	it('getMany filters by status, subscription and tag, and sorts', async () => {
		const subscriptionId = await createSubscription('Team');
		const tagged = await createLicense({ additionalFields: { tags: 'vip', subscriptionId } });
		const other = await createLicense();
		await keycrate.runOk(license('updateStatus', { licenseKey: other, status: 'paused' }));

		const byTag = await keycrate.runOk(license('getMany', { returnAll: true, filters: { tag: 'vip', subscriptionId, status: 'active' } }));
		expect(byTag.map((l) => l.license_key)).toEqual([tagged]);
		const paused = await keycrate.runOk(license('getMany', { returnAll: true, filters: { status: 'paused' } }));
		expect(paused.map((l) => l.license_key)).toEqual([other]);
		const sorted = await keycrate.runOk(license('getMany', { returnAll: true, sort: { field: 'license_key', order: 'asc' } }));
		expect(sorted.map((l) => l.license_key)).toEqual([tagged, other].sort());
	});

	it('updateStatus and updateStatusBulk pause and activate', async () => {
		const [a, b] = [await createLicense(), await createLicense()];
		const [paused] = await keycrate.runOk(license('updateStatus', { licenseKey: a, status: 'paused' }));
		expect(paused.status).toBe('paused');
		const results = await keycrate.runOk(license('updateStatusBulk', { licenseKeys: [a, b], status: 'paused' }));
		expect(results.map((r) => (r.license as { status: string }).status)).toEqual(['paused', 'paused']);
		await keycrate.runOk(license('updateStatusBulk', { licenseKeys: [a, b], status: 'active' }));
		expect(licensesInEmulator().map((l) => l.status)).toEqual(['active', 'active']);
	});

	it('updateSubscription moves a license to a tier (From List, By ID or a plain ID), and Detach detaches it', async () => {
		const subscriptionId = await createSubscription('Gold');
		const key = await createLicense();
		for (const locator of [
			{ __rl: true, mode: 'list', value: subscriptionId, cachedResultName: 'Gold (level 1)' },
			{ __rl: true, mode: 'id', value: subscriptionId },
			subscriptionId,
		]) {
			const [moved] = await keycrate.runOk(license('updateSubscription', { licenseKey: key, subscriptionAction: 'move', subscriptionId: locator }));
			expect(moved.subscription_id).toBe(subscriptionId);
		}
		const detach = await keycrate.run(license('updateSubscription', { licenseKey: key, subscriptionAction: 'detach' }));
		expect(detach.requests[0].body).toEqual({ license_key: key, subscription_id: null });
		expect(detach.items[0].json.subscription_id).toBeNull();
	});

	it('updateSubscription never detaches by accident: Move with an empty tier is refused', async () => {
		const key = await createLicense();
		const result = await keycrate.run(license('updateSubscription', { licenseKey: key, subscriptionAction: 'move', subscriptionId: '={{ "" }}' }));
		expect(result.error?.message).toBe('Subscription Tier is empty');
		expect(result.requests).toEqual([]);
	});

	it('updateUserCredentials sets the username and password', async () => {
		const key = await createLicense();
		const [updated] = await keycrate.runOk(
			license('updateUserCredentials', { licenseKey: key, simplify: false, additionalFields: { username: 'grace', password: 'pw-123456' } }),
		);
		expect(updated).toMatchObject({ username: 'grace', has_password: true });
		expect(updated).not.toHaveProperty('password');
	});

	it('updateMetadata replaces the metadata, from JSON text or an object expression', async () => {
		const key = await createLicense({ additionalFields: { metadata: '{"a":1}' } });
		const [fromText] = await keycrate.runOk(license('updateMetadata', { licenseKey: key, metadata: '{"b":2}', simplify: false }));
		expect(fromText.metadata).toEqual({ b: 2 });
		const [fromExpression] = await keycrate.runOk(license('updateMetadata', { licenseKey: key, metadata: '={{ { c: $json.n } }}', simplify: false }), [
			{ json: { n: 3 } },
		]);
		expect(fromExpression.metadata).toEqual({ c: 3 });
	});

	it('runs once per input item, with expressions, and pairs every output item to its input', async () => {
		const [a, b] = [await createLicense(), await createLicense()];
		const result = await keycrate.run(license('get', { licenseKey: '={{ $json.key }}' }), {
			input: [{ json: { key: a } }, { json: { key: b } }],
		});
		expect(result.items.map((item) => [item.json.license_key, item.pairedItem])).toEqual([
			[a, { item: 0 }],
			[b, { item: 1 }],
		]);
	});

	it('takes License Keys from an array expression', async () => {
		const keys = [await createLicense(), await createLicense()];
		const results = await keycrate.runOk(license('deleteBulk', { licenseKeys: '={{ $json.keys }}' }), [{ json: { keys } }]);
		expect(results.map((r) => r.license_key)).toEqual(keys);
	});

	it('sends a key listed twice once, and outputs one result per distinct key', async () => {
		const [a, b] = [await createLicense(), await createLicense()];
		const result = await keycrate.run(license('updateStatusBulk', { licenseKeys: `${a}, ${b}, ${a}`, status: 'paused' }));
		expect(result.requests.map((r) => (r.body as { license_keys: string[] }).license_keys)).toEqual([[a, b]]);
		expect(result.items.map((item) => [item.json.license_key, item.json.success])).toEqual([
			[a, true],
			[b, true],
		]);
	});
});
