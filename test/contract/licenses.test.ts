import { limits, type Emulator, type Schemas } from '../../emulator/src';
import { call, createLicense, createSubscription, DAY_MS, HOUR_MS, ok, OTHER_API_KEY, OTHER_APP_ID, refused, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
	emulator = await startTwoAppEmulator();
});
beforeEach(() => emulator.reset());
afterAll(() => emulator.stop());

const expiryOffset = (license: Schemas['License']): number => Date.parse(license.expires_at as string) - Date.parse(license.created_at);

describe('/license/create', () => {
	test.each([
		['minutes', 90, 90 * 60_000],
		['hours', 5, 5 * HOUR_MS],
		['days', 7, 7 * DAY_MS],
	] as const)('%s count from creation', async (duration_unit, duration_value, expected) => {
		expect(expiryOffset(await createLicense(emulator, { duration_unit, duration_value }))).toBe(expected);
	});

	test('months and years are calendar months in UTC, clamped to the end of a shorter month', async () => {
		const created = await createLicense(emulator, { duration_unit: 'months', duration_value: 1 });
		const start = new Date(created.created_at);
		const end = new Date(created.expires_at as string);
		expect((end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth()).toBe(1);
		expect(end.getUTCDate()).toBeLessThanOrEqual(start.getUTCDate());

		// 2027-01-31 + 1 month = 2027-02-28 (not March 3rd)
		emulator.setClockOffset(Date.UTC(2027, 0, 31, 12) - Date.now());
		const endOfJanuary = await createLicense(emulator, { duration_unit: 'months', duration_value: 1 });
		expect(endOfJanuary.expires_at?.slice(0, 10)).toBe('2027-02-28');
		const yearly = await createLicense(emulator, { duration_unit: 'years', duration_value: 2 });
		expect(yearly.expires_at?.slice(0, 10)).toBe('2029-01-31');
	});

	test('lifetime has no expiry and no duration value', async () => {
		const lifetime = await createLicense(emulator, { duration_unit: 'lifetime', duration_value: undefined });
		expect(lifetime).toMatchObject({ duration_unit: 'lifetime', duration_value: null, expires_at: null, status: 'active' });
	});

	test('an expiry past the year 9999 is refused, naming duration_value', async () => {
		const reply = await refused(emulator, '/license/create', { app_id: emulator.appId, duration_unit: 'years', duration_value: 9000 });
		expect(reply.status).toBe(400);
		expect(reply.body).toMatchObject({ error_code: 'INVALID_INPUT', field: 'duration_value' });
		expect(reply.body.error).toMatch(/^duration_value: puts the expiry after the year 9999/);
	});

	test('key patterns: * becomes A-Z0-9, other characters stay; the default pattern comes from the contract', async () => {
		const patterned = await createLicense(emulator, { key_pattern: 'ABC-****-****' });
		expect(patterned.license_key).toMatch(/^ABC-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
		const plain = await createLicense(emulator);
		expect(plain.license_key).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
	});

	test('a pattern without * gives a fixed key once; the second time it is refused, naming key_pattern', async () => {
		expect((await createLicense(emulator, { key_pattern: 'FIXED-KEY-1' })).license_key).toBe('FIXED-KEY-1');
		const again = await refused(emulator, '/license/create', { app_id: emulator.appId, duration_unit: 'lifetime', key_pattern: 'FIXED-KEY-1' });
		expect(again.status).toBe(400);
		expect(again.body).toEqual({
			error: 'key_pattern: gives the key FIXED-KEY-1, which already exists (add * for random characters)',
			error_code: 'INVALID_INPUT',
			field: 'key_pattern',
		});
	});

	test('keys stay unique when a pattern has few random characters, and a pattern that runs out is refused', async () => {
		const bulk = await ok(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: 30, duration_unit: 'lifetime', key_pattern: 'X*' });
		expect(new Set(bulk.data.map((license) => license.license_key)).size).toBe(30);
		const tooMany = await refused(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: 7, duration_unit: 'lifetime', key_pattern: 'X*' });
		expect(tooMany.body).toMatchObject({ field: 'key_pattern', error: 'key_pattern: has too few * characters to make 7 unused keys' });
		expect(emulator.state().apps[0].licenses).toHaveLength(30); // all or nothing
	});

	test('username and password: the password is never returned', async () => {
		const created = await createLicense(emulator, { username: 'ada', password: 's3cret-pw' });
		expect(created).toMatchObject({ username: 'ada', has_password: true });
		expect(JSON.stringify(created)).not.toContain('s3cret-pw');
	});

	test('defaults: active, no hwid, reset allowed, no cooldown, empty metadata and tags', async () => {
		expect(await createLicense(emulator)).toMatchObject({
			subscription_id: null,
			status: 'active',
			metadata: {},
			tags: [],
			hwid: null,
			hwid_lock: false,
			hwid_reset_allowed: true,
			hwid_reset_interval: 0,
			hwid_last_reset_at: null,
			username: null,
			has_password: false,
		});
	});
});

describe('/license/create-bulk', () => {
	test('creates key_amount licenses with the same settings', async () => {
		const subscription = await createSubscription(emulator);
		const bulk = await ok(emulator, '/license/create-bulk', {
			app_id: emulator.appId,
			key_amount: 5,
			subscription_id: subscription.subscription_id,
			duration_unit: 'hours',
			duration_value: 2,
			hwid_lock: true,
			tags: ['batch'],
			metadata: { source: 'bulk' },
		});
		expect(bulk.data).toHaveLength(5);
		for (const license of bulk.data) {
			expect(license).toMatchObject({ subscription_id: subscription.subscription_id, hwid_lock: true, tags: ['batch'], metadata: { source: 'bulk' } });
			expect(expiryOffset(license)).toBe(2 * HOUR_MS);
		}
	});

	test(`takes at most max_batch (${limits.max_batch}) keys`, async () => {
		const full = await ok(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: limits.max_batch, duration_unit: 'lifetime' });
		expect(full.data).toHaveLength(limits.max_batch);
		const reply = await refused(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: limits.max_batch + 1, duration_unit: 'lifetime' });
		expect(reply.body).toEqual({ error: `key_amount: must be <= ${limits.max_batch}`, error_code: 'INVALID_INPUT', field: 'key_amount' });
	});
});

describe('expiry and extend', () => {
	test('a license past its expiry reads as expired; extend adds to the current expiry, not to now', async () => {
		const license = await createLicense(emulator, { duration_unit: 'hours', duration_value: 1 });
		emulator.setClockOffset(3 * HOUR_MS);
		expect((await ok(emulator, '/license/get', { license_key: license.license_key })).data.status).toBe('expired');

		const extended = await ok(emulator, '/license/extend', { license_key: license.license_key, extend_seconds: 3600 });
		expect(Date.parse(extended.data.expires_at as string)).toBe(Date.parse(license.expires_at as string) + HOUR_MS);
		expect(extended.data.status).toBe('expired'); // still an hour short of the shifted now

		const further = await ok(emulator, '/license/extend', { license_key: license.license_key, extend_seconds: 2 * 3600 });
		expect(further.data.status).toBe('active');
	});

	test('a paused license stays paused after its expiry; lifetime is unchanged by extend', async () => {
		const paused = await createLicense(emulator, { duration_unit: 'minutes', duration_value: 1 });
		await ok(emulator, '/license/update-status', { license_key: paused.license_key, status: 'paused' });
		emulator.setClockOffset(HOUR_MS);
		expect((await ok(emulator, '/license/get', { license_key: paused.license_key })).data.status).toBe('paused');

		const lifetime = await createLicense(emulator, { duration_unit: 'lifetime', duration_value: undefined });
		const extended = await ok(emulator, '/license/extend', { license_key: lifetime.license_key, extend_seconds: 3600 });
		expect(extended.data).toMatchObject({ expires_at: null, duration_unit: 'lifetime', status: 'active' });
	});
});

describe('bulk calls: per-key results in request order, a bad key fails alone', () => {
	let mine: string[];
	let theirs: string;
	beforeEach(async () => {
		const bulk = await ok(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: 2, duration_unit: 'days', duration_value: 1 });
		mine = bulk.data.map((license) => license.license_key);
		theirs = (await createLicense(emulator, { app_id: OTHER_APP_ID }, { apiKey: OTHER_API_KEY })).license_key;
	});

	const expectMixed = (reply: Schemas['BulkResultResponse'], keys: string[]): void => {
		expect(reply.results.map((result) => result.license_key)).toEqual(keys);
		expect(reply.results.map((result) => result.success)).toEqual([true, false, false, true]);
		expect(reply.results[1]).toMatchObject({ error_code: 'LICENSE_NOT_FOUND', error: 'license NO-SUCH-KEY does not exist' });
		expect(reply.results[2]).toMatchObject({ error_code: 'ACCESS_DENIED', error: `license ${theirs} belongs to an app of another API key` });
		expect(reply).toMatchObject({ succeeded: 2, failed: 2 });
	};

	test('/license/extend-bulk', async () => {
		const keys = [mine[0], 'NO-SUCH-KEY', theirs, mine[1]];
		const reply = await ok(emulator, '/license/extend-bulk', { license_keys: keys, extend_seconds: 86_400 });
		expectMixed(reply, keys);
		expect(expiryOffset(reply.results[0].license as Schemas['License'])).toBe(2 * DAY_MS);
	});

	test('/license/update-status-bulk', async () => {
		const keys = [mine[0], 'NO-SUCH-KEY', theirs, mine[1]];
		const reply = await ok(emulator, '/license/update-status-bulk', { license_keys: keys, status: 'paused' });
		expectMixed(reply, keys);
		expect(reply.results[3].license?.status).toBe('paused');
		const other = await ok(emulator, '/license/get', { license_key: theirs }, { apiKey: OTHER_API_KEY });
		expect(other.data.status).toBe('active');
	});

	test('/hwid/toggle-lock-bulk', async () => {
		const keys = [mine[0], 'NO-SUCH-KEY', theirs, mine[1]];
		const reply = await ok(emulator, '/hwid/toggle-lock-bulk', { license_keys: keys, hwid_lock: true });
		expectMixed(reply, keys);
		expect(reply.results[0].license?.hwid_lock).toBe(true);
	});

	test('/license/delete-bulk', async () => {
		const keys = [mine[0], 'NO-SUCH-KEY', theirs, mine[1]];
		const reply = await ok(emulator, '/license/delete-bulk', { license_keys: keys });
		expectMixed(reply, keys);
		expect(reply.results[0].license).toBeUndefined();
		expect(emulator.state().apps[0].licenses).toEqual([]);
		expect(emulator.state().apps[1].licenses.map((license) => license.license_key)).toEqual([theirs]);
	});

	test('an extend past the year 9999 fails for that key only', async () => {
		const farOff = (await createLicense(emulator, { duration_unit: 'years', duration_value: 7950 })).license_key;
		const reply = await ok(emulator, '/license/extend-bulk', { license_keys: [farOff, mine[0]], extend_seconds: 3_153_600_000 });
		expect(reply.results[0]).toMatchObject({ success: false, error_code: 'INVALID_INPUT', error: 'extend_seconds: puts the expiry after the year 9999' });
		expect(reply.results[1].success).toBe(true);
	});
});

describe('updates', () => {
	test('/license/update-metadata replaces the metadata', async () => {
		const license = await createLicense(emulator, { metadata: { a: 1, b: 2 } });
		const updated = await ok(emulator, '/license/update-metadata', { license_key: license.license_key, metadata: { c: [1, 2, 3] } });
		expect(updated.data.metadata).toEqual({ c: [1, 2, 3] });
		expect(Date.parse(updated.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(license.updated_at));
	});

	test(`/license/update-metadata: exactly ${limits.max_metadata_chars} characters of JSON pass, one more is refused`, async () => {
		const license = await createLicense(emulator);
		const fill = (chars: number): Record<string, string> => ({ k: 'x'.repeat(chars - '{"k":""}'.length) });
		expect(JSON.stringify(fill(limits.max_metadata_chars))).toHaveLength(limits.max_metadata_chars);
		await ok(emulator, '/license/update-metadata', { license_key: license.license_key, metadata: fill(limits.max_metadata_chars) });
		const reply = await refused(emulator, '/license/update-metadata', { license_key: license.license_key, metadata: fill(limits.max_metadata_chars + 1) });
		expect(reply.body).toEqual({
			error: `metadata: must be JSON of at most ${limits.max_metadata_chars} characters (got ${limits.max_metadata_chars + 1})`,
			error_code: 'INVALID_INPUT',
			field: 'metadata',
		});
	});

	test('/license/update-user-credentials sets the username and/or the password', async () => {
		const license = await createLicense(emulator);
		const named = await ok(emulator, '/license/update-user-credentials', { license_key: license.license_key, username: 'grace' });
		expect(named.data).toMatchObject({ username: 'grace', has_password: false });
		const withPassword = await ok(emulator, '/license/update-user-credentials', { license_key: license.license_key, password: 'hunter22' });
		expect(withPassword.data).toMatchObject({ username: 'grace', has_password: true });
		const nothing = await refused(emulator, '/license/update-user-credentials', { license_key: license.license_key });
		expect(nothing.body).toEqual({ error: 'username: at least one of username, password is required', error_code: 'INVALID_INPUT', field: 'username' });
	});

	test('/license/update-subscription moves a license between tiers of its app, or detaches it (null)', async () => {
		const basic = await createSubscription(emulator, { name: 'Basic', level: 1 });
		const pro = await createSubscription(emulator, { name: 'Pro', level: 2 });
		const license = await createLicense(emulator, { subscription_id: basic.subscription_id });
		const moved = await ok(emulator, '/license/update-subscription', { license_key: license.license_key, subscription_id: pro.subscription_id });
		expect(moved.data.subscription_id).toBe(pro.subscription_id);
		const tiers = await ok(emulator, '/subscription/get-bulk', { app_id: emulator.appId });
		expect(tiers.data.map((tier) => [tier.name, tier.license_count])).toEqual([
			['Basic', 0],
			['Pro', 1],
		]);
		const detached = await ok(emulator, '/license/update-subscription', { license_key: license.license_key, subscription_id: null });
		expect(detached.data.subscription_id).toBeNull();
	});

	test('a subscription of another app is refused (400 subscription_id), an unknown one is 404', async () => {
		const foreign = await ok(emulator, '/subscription/create', { app_id: OTHER_APP_ID, name: 'Theirs', level: 1 }, { apiKey: OTHER_API_KEY });
		const license = await createLicense(emulator);
		// Same key owning both apps would be 400; here the tier's app belongs to another key, so access is denied first.
		const denied = await refused(emulator, '/license/update-subscription', { license_key: license.license_key, subscription_id: foreign.data.subscription_id });
		expect(denied.status).toBe(403);
		expect(denied.body.error_code).toBe('ACCESS_DENIED');
		const unknown = await refused(emulator, '/license/create', {
			app_id: emulator.appId,
			duration_unit: 'lifetime',
			subscription_id: '00000000-0000-4000-8000-000000000000',
		});
		expect(unknown.status).toBe(404);
		expect(unknown.body).toEqual({ error: 'subscription 00000000-0000-4000-8000-000000000000 does not exist', error_code: 'SUBSCRIPTION_NOT_FOUND' });
	});
});

describe('/license/get-bulk', () => {
	test('filters by status (incl. expired), subscription and tag', async () => {
		const tier = await createSubscription(emulator);
		const shortLived = await createLicense(emulator, { duration_unit: 'minutes', duration_value: 5, tags: ['trial'] });
		const paused = await createLicense(emulator, { subscription_id: tier.subscription_id, tags: ['trial', 'vip'] });
		await ok(emulator, '/license/update-status', { license_key: paused.license_key, status: 'paused' });
		const active = await createLicense(emulator, { subscription_id: tier.subscription_id });
		await createLicense(emulator, { app_id: OTHER_APP_ID, tags: ['trial'] }, { apiKey: OTHER_API_KEY });
		emulator.setClockOffset(HOUR_MS);

		const keysOf = async (filter: Partial<Parameters<typeof ok<'/license/get-bulk'>>[2]>): Promise<string[]> =>
			(await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, sort_field: 'license_key', sort_order: 'asc', ...filter })).data.map(
				(l) => l.license_key,
			);
		const sorted = (...keys: string[]): string[] => [...keys].sort();

		expect(await keysOf({})).toEqual(sorted(shortLived.license_key, paused.license_key, active.license_key));
		expect(await keysOf({ status: 'expired' })).toEqual([shortLived.license_key]);
		expect(await keysOf({ status: 'paused' })).toEqual([paused.license_key]);
		expect(await keysOf({ status: 'active' })).toEqual([active.license_key]);
		expect(await keysOf({ subscription_id: tier.subscription_id })).toEqual(sorted(paused.license_key, active.license_key));
		expect(await keysOf({ tag: 'trial' })).toEqual(sorted(shortLived.license_key, paused.license_key));
		expect(await keysOf({ tag: 'vip', subscription_id: tier.subscription_id, status: 'paused' })).toEqual([paused.license_key]);
	});

	test('pages through several pages without repeats or gaps, with a stable tie-break on license_key', async () => {
		// 23 licenses created in one call share created_at: only the tie-break orders them.
		await ok(emulator, '/license/create-bulk', { app_id: emulator.appId, key_amount: 23, duration_unit: 'days', duration_value: 3 });
		const seen: string[] = [];
		let page = 1;
		for (;;) {
			const reply = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, page, per_page: 10, sort_field: 'created_at', sort_order: 'desc' });
			expect(reply.pagination).toEqual({ page, per_page: 10, total: 23, total_pages: 3, has_more: page < 3 });
			seen.push(...reply.data.map((license) => license.license_key));
			if (!reply.pagination.has_more) break;
			page++;
		}
		expect(seen).toHaveLength(23);
		expect(seen).toEqual([...seen].sort().reverse());
		const beyond = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, page: 9, per_page: 10 });
		expect(beyond).toEqual({ data: [], pagination: { page: 9, per_page: 10, total: 23, total_pages: 3, has_more: false } });
		const byDefault = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId });
		expect(byDefault.pagination.per_page).toBe(limits.default_per_page);
	});

	test('sorts by expires_at with lifetime last ascending, and by updated_at', async () => {
		const week = await createLicense(emulator, { duration_unit: 'days', duration_value: 7 });
		const lifetime = await createLicense(emulator, { duration_unit: 'lifetime', duration_value: undefined });
		const day = await createLicense(emulator, { duration_unit: 'days', duration_value: 1 });
		const byExpiry = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, sort_field: 'expires_at', sort_order: 'asc' });
		expect(byExpiry.data.map((license) => license.license_key)).toEqual([day.license_key, week.license_key, lifetime.license_key]);

		emulator.setClockOffset(60_000);
		await ok(emulator, '/license/update-metadata', { license_key: week.license_key, metadata: { touched: true } });
		const byUpdate = await ok(emulator, '/license/get-bulk', { app_id: emulator.appId, sort_field: 'updated_at', sort_order: 'desc', per_page: 1 });
		expect(byUpdate.data[0].license_key).toBe(week.license_key);
	});

	test('a write between two identical reads shows in the second (no stale sort cache)', async () => {
		const query = { app_id: emulator.appId, sort_field: 'updated_at', sort_order: 'desc' } as const;
		const older = await createLicense(emulator);
		emulator.setClockOffset(1000);
		const newer = await createLicense(emulator);
		emulator.setClockOffset(2000);
		expect((await ok(emulator, '/license/get-bulk', query)).data[0].license_key).toBe(newer.license_key);
		await ok(emulator, '/license/update-metadata', { license_key: older.license_key, metadata: { v: 2 } });
		expect((await ok(emulator, '/license/get-bulk', query)).data[0].license_key).toBe(older.license_key);
		await ok(emulator, '/license/delete', { license_key: older.license_key });
		expect((await ok(emulator, '/license/get-bulk', query)).data.map((license) => license.license_key)).toEqual([newer.license_key]);
	});

	test('a subscription filter of another app is refused, naming subscription_id', async () => {
		await createSubscription(emulator);
		const theirs = await ok(emulator, '/subscription/create', { app_id: OTHER_APP_ID, name: 'Theirs', level: 0 }, { apiKey: OTHER_API_KEY });
		const reply = await call(emulator, '/license/get-bulk', { app_id: emulator.appId, subscription_id: theirs.data.subscription_id });
		expect(reply.status).toBe(403);
	});
});
