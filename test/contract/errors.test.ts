import { contractPaths, errorCodes, errorHttpStatus, limits, type Emulator } from '../../emulator/src';
import { call, createLicense, ok, OTHER_API_KEY, OTHER_APP_ID, refused, seenErrorCodes, startTwoAppEmulator } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
	emulator = await startTwoAppEmulator();
});
afterEach(() => emulator.setFaults([]));
afterAll(() => emulator.stop());

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

describe('auth', () => {
	test.each(contractPaths)('%s without x-api-key answers 401 MISSING_AUTH', async (path) => {
		const reply = await refused(emulator, path, {}, { apiKey: null });
		expect(reply.status).toBe(401);
		expect(reply.body).toEqual({ error: 'the x-api-key header is missing', error_code: 'MISSING_AUTH' });
	});

	test('an unknown key answers 401 INVALID_API_KEY and does not echo the key', async () => {
		const reply = await refused(emulator, '/license/get', { license_key: 'ANY' }, { apiKey: 'kc_not-a-real-key-123' });
		expect(reply.status).toBe(401);
		expect(reply.body).toEqual({ error: 'the x-api-key header is not a known API key', error_code: 'INVALID_API_KEY' });
		expect(JSON.stringify(reply.body)).not.toContain('kc_not-a-real-key-123');
	});
});

describe('apps and ownership', () => {
	test('an unknown app_id is 404 APP_NOT_FOUND', async () => {
		const reply = await refused(emulator, '/license/create', { app_id: UNKNOWN_UUID, duration_unit: 'lifetime' });
		expect(reply.status).toBe(404);
		expect(reply.body).toEqual({ error: `app ${UNKNOWN_UUID} does not exist`, error_code: 'APP_NOT_FOUND' });
	});

	test("another key's app is 403 ACCESS_DENIED for create, create-bulk, get-bulk and subscription calls", async () => {
		const attempts = [
			['/license/create', { app_id: OTHER_APP_ID, duration_unit: 'lifetime' }],
			['/license/create-bulk', { app_id: OTHER_APP_ID, key_amount: 1, duration_unit: 'lifetime' }],
			['/license/get-bulk', { app_id: OTHER_APP_ID }],
			['/subscription/create', { app_id: OTHER_APP_ID, name: 'X', level: 1 }],
			['/subscription/get-bulk', { app_id: OTHER_APP_ID }],
		] as const;
		for (const [path, body] of attempts) {
			const reply = await refused(emulator, path, body);
			expect(reply.status).toBe(403);
			expect(reply.body).toEqual({ error: `app ${OTHER_APP_ID} belongs to another API key`, error_code: 'ACCESS_DENIED' });
		}
	});

	test("another key's license is 403 ACCESS_DENIED on every single-license endpoint, and stays unchanged", async () => {
		const theirs = await createLicense(emulator, { app_id: OTHER_APP_ID }, { apiKey: OTHER_API_KEY });
		const key = theirs.license_key;
		const attempts = [
			['/license/get', { license_key: key }],
			['/license/extend', { license_key: key, extend_seconds: 60 }],
			['/license/delete', { license_key: key }],
			['/license/update-status', { license_key: key, status: 'paused' }],
			['/license/update-subscription', { license_key: key, subscription_id: null }],
			['/license/update-user-credentials', { license_key: key, username: 'mallory' }],
			['/license/update-metadata', { license_key: key, metadata: {} }],
			['/hwid/edit', { license_key: key, hwid: 'X' }],
			['/hwid/toggle-lock', { license_key: key }],
			['/hwid/toggle-reset-allowed', { license_key: key }],
			['/hwid/update-reset-interval', { license_key: key, reset_interval: 1 }],
		] as const;
		for (const [path, body] of attempts) {
			const reply = await refused(emulator, path, body);
			expect([path, reply.status, reply.body.error_code]).toEqual([path, 403, 'ACCESS_DENIED']);
		}
		expect((await ok(emulator, '/license/get', { license_key: key }, { apiKey: OTHER_API_KEY })).data).toEqual(theirs);
	});
});

describe('bad input answers 400 INVALID_INPUT naming the field', () => {
	const expectInvalid = async (path: Parameters<typeof call>[1], body: unknown, field: string, message: string): Promise<void> => {
		const reply = await refused(emulator, path, body);
		expect(reply.status).toBe(400);
		expect(reply.body).toEqual({ error: `${field}: ${message}`, error_code: 'INVALID_INPUT', field });
	};

	test('bad uuid', () => expectInvalid('/license/get-bulk', { app_id: 'not-a-uuid' }, 'app_id', 'must be a valid uuid'));
	test('empty key list', () => expectInvalid('/license/delete-bulk', { license_keys: [] }, 'license_keys', 'must not be empty'));
	test('more keys than max_batch', () =>
		expectInvalid(
			'/license/extend-bulk',
			{ license_keys: Array.from({ length: limits.max_batch + 1 }, (_, index) => `K-${index}`), extend_seconds: 60 },
			'license_keys',
			`must have at most ${limits.max_batch} items`,
		));
	test('a repeated key', () =>
		expectInvalid(
			'/license/update-status-bulk',
			{ license_keys: ['A', 'A'], status: 'paused' },
			'license_keys',
			'must not repeat an item (items 0 and 1 are the same)',
		));
	test('a bad key inside the list, by index', () =>
		expectInvalid('/hwid/toggle-lock-bulk', { license_keys: ['OK-1', 'not ok'], hwid_lock: true }, 'license_keys[1]', 'must match pattern "^[A-Za-z0-9_-]+$"'));
	test('metadata over the limit', () =>
		expectInvalid(
			'/license/create',
			{ app_id: emulator.appId, duration_unit: 'lifetime', metadata: { note: 'x'.repeat(limits.max_metadata_chars) } },
			'metadata',
			`must be JSON of at most ${limits.max_metadata_chars} characters (got ${limits.max_metadata_chars + 11})`,
		));
	test('missing duration_value', () =>
		expectInvalid(
			'/license/create',
			{ app_id: emulator.appId, duration_unit: 'days' },
			'duration_value',
			'is required unless duration_unit is lifetime (duration_unit is days)',
		));
	test('missing duration_value in create-bulk', () =>
		expectInvalid(
			'/license/create-bulk',
			{ app_id: emulator.appId, key_amount: 2, duration_unit: 'months' },
			'duration_value',
			'is required unless duration_unit is lifetime (duration_unit is months)',
		));
	test('bad status', () => expectInvalid('/license/update-status', { license_key: 'ANY', status: 'expired' }, 'status', 'must be one of paused, active'));
	test('bad duration unit', () =>
		expectInvalid(
			'/license/create',
			{ app_id: emulator.appId, duration_unit: 'weeks', duration_value: 1 },
			'duration_unit',
			'must be one of minutes, hours, days, months, years, lifetime',
		));
	test('unknown field', () => expectInvalid('/license/get', { license_key: 'ANY', expand: true }, 'expand', 'is not a known field'));
	test('missing required field', () => expectInvalid('/license/extend', { license_key: 'ANY' }, 'extend_seconds', 'is required'));
	test('wrong type', () => expectInvalid('/hwid/edit', { license_key: 'ANY', hwid: 42 }, 'hwid', 'must be string'));
	test('per_page over the maximum', () =>
		expectInvalid('/license/get-bulk', { app_id: emulator.appId, per_page: limits.max_per_page + 1 }, 'per_page', `must be <= ${limits.max_per_page}`));
	test('a body that is not an object', () => expectInvalid('/license/get', ['ANY'], 'body', 'must be object'));

	test('a body that is not JSON', async () => {
		const reply = await refused(emulator, '/license/get', undefined, { rawBody: '{"license_key": ' });
		expect(reply.body).toEqual({ error: 'body: is not valid JSON', error_code: 'INVALID_INPUT', field: 'body' });
	});

	test('validation comes after auth: a bad body without a key is still MISSING_AUTH', async () => {
		const reply = await refused(emulator, '/license/get', undefined, { apiKey: null, rawBody: 'nonsense' });
		expect(reply.body.error_code).toBe('MISSING_AUTH');
	});
});

describe('not found', () => {
	test('LICENSE_NOT_FOUND and SUBSCRIPTION_NOT_FOUND', async () => {
		expect((await refused(emulator, '/license/extend', { license_key: 'NOPE', extend_seconds: 1 })).body).toEqual({
			error: 'license NOPE does not exist',
			error_code: 'LICENSE_NOT_FOUND',
		});
		expect((await refused(emulator, '/subscription/edit', { subscription_id: UNKNOWN_UUID, level: 1 })).body).toEqual({
			error: `subscription ${UNKNOWN_UUID} does not exist`,
			error_code: 'SUBSCRIPTION_NOT_FOUND',
		});
	});
});

describe('server-side failures', () => {
	test('RATE_LIMITED (429 with Retry-After) and SERVER_ERROR (500)', async () => {
		emulator.setFaults([{ endpoint: '/license/get', kind: 'error_429', rate: 1, retry_after_s: 3 }]);
		const limited = await refused(emulator, '/license/get', { license_key: 'ANY' });
		expect([limited.status, limited.headers.get('retry-after'), limited.body.error_code]).toEqual([429, '3', 'RATE_LIMITED']);
		emulator.setFaults([{ endpoint: '*', kind: 'error_500' }]);
		const failed = await refused(emulator, '/license/get', { license_key: 'ANY' });
		expect([failed.status, failed.body.error_code]).toEqual([500, 'SERVER_ERROR']);
	});
});

test('every error code of the contract was produced, with the status the contract gives it', () => {
	expect([...seenErrorCodes].sort()).toEqual([...errorCodes].sort());
	expect(Object.keys(errorHttpStatus).sort()).toEqual([...errorCodes].sort());
});
