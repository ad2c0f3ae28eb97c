import type { INodeParameters } from 'n8n-workflow';

import { runKeycrate } from './harness';
import { useEmulator } from './fixtures';

const keycrate = useEmulator();

async function createLicense(): Promise<string> {
	const [created] = await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 30 });
	return created.license_key as string;
}

describe('bad input is refused before any request, naming the parameter', () => {
	const cases: Array<[string, INodeParameters, string, { appId?: string }?]> = [
		[
			'a bad App ID',
			{ resource: 'license', operation: 'create', appId: 'not-a-uuid', durationUnit: 'days', durationValue: 1 },
			'App ID must be a UUID, got "not-a-uuid"',
		],
		[
			'no App ID anywhere',
			{ resource: 'subscription', operation: 'getMany', appId: '', returnAll: true },
			'App ID is empty and the Keycrate API credential has no default App ID',
			{ appId: '' },
		],
		[
			'a bad default App ID in the credential',
			{ resource: 'subscription', operation: 'getMany', appId: '', returnAll: true },
			'The default App ID of the credential must be a UUID, got "app-1"',
			{ appId: 'app-1' },
		],
		['a bad subscription ID', { resource: 'subscription', operation: 'delete', subscriptionId: '1234' }, 'Subscription Tier must be a UUID, got "1234"'],
		[
			'a bad subscription ID in a locator',
			{ resource: 'subscription', operation: 'delete', subscriptionId: { __rl: true, mode: 'id', value: '={{ "tier-1" }}' } },
			'Subscription Tier must be a UUID, got "tier-1"',
		],
		[
			'no subscription tier to delete',
			{ resource: 'subscription', operation: 'delete', subscriptionId: { __rl: true, mode: 'list', value: '={{ $json.tier ?? "" }}' } },
			'Subscription Tier is empty',
		],
		[
			'a bad subscription ID in Create',
			{
				resource: 'license',
				operation: 'create',
				durationUnit: 'days',
				durationValue: 1,
				additionalFields: { subscriptionId: { __rl: true, mode: 'id', value: 'x' } },
			},
			'Subscription Tier must be a UUID, got "x"',
		],
		[
			'an empty tier filter',
			{ resource: 'license', operation: 'getMany', returnAll: true, filters: { subscriptionId: { __rl: true, mode: 'list', value: '' } } },
			'Filters → Subscription Tier is empty',
		],
		[
			'an empty tier under Additional Fields',
			{ resource: 'license', operation: 'createBulk', keyAmount: 1, durationUnit: 'days', durationValue: 1, additionalFields: { subscriptionId: '' } },
			'Additional Fields → Subscription Tier is empty',
		],
		[
			'Move to Tier without a tier',
			{
				resource: 'license',
				operation: 'updateSubscription',
				licenseKey: 'K-1',
				subscriptionAction: 'move',
				subscriptionId: { __rl: true, mode: 'id', value: '={{ "" }}' },
			},
			'Subscription Tier is empty',
		],
		[
			'an unknown Change',
			{
				resource: 'license',
				operation: 'updateSubscription',
				licenseKey: 'K-1',
				subscriptionAction: '={{ "toggle" }}',
				subscriptionId: { __rl: true, mode: 'id', value: '={{ "" }}' },
			},
			'Change must be "move" or "detach", got "toggle"',
		],
		['an empty HWID on Set', { resource: 'hwid', operation: 'set', licenseKey: 'K-1', hwid: '  ' }, 'HWID is empty'],
		[
			'a Set Lock value that is not a boolean',
			{ resource: 'hwid', operation: 'setLock', licenseKey: 'K-1', hwidLock: '={{ "yes" }}' },
			'HWID Lock must be true or false, got "yes"',
		],
		[
			'a Set Reset Allowed value that is not a boolean',
			{ resource: 'hwid', operation: 'setResetAllowed', licenseKey: 'K-1', resetAllowed: '={{ 1 }}' },
			'Reset Allowed must be true or false, got 1',
		],
		[
			'a Set Lock Many value that is not a boolean',
			{ resource: 'hwid', operation: 'setLockBulk', licenseKeys: 'K-1', hwidLock: '={{ null }}' },
			'HWID Lock must be true or false, got null',
		],
		[
			'an unknown extend unit',
			{ resource: 'license', operation: 'extend', licenseKey: 'K-1', extendBy: 1, extendUnit: '={{ "months" }}' },
			'Unit must be one of minutes, hours, days, weeks, got "months"',
		],
		[
			'an extension beyond the contract',
			{ resource: 'license', operation: 'extendBulk', licenseKeys: 'K-1', extendBy: 6000, extendUnit: 'weeks' },
			'Extend By must be a whole number from 1 to 5214, got 6000',
		],
		[
			'a Custom API Call path that is not a path',
			{ resource: 'license', operation: '__CUSTOM_API_CALL__', customPath: 'https://evil.example/x', customBody: '{}' },
			'Path must be an endpoint path like /license/get, got "https://evil.example/x"',
		],
		[
			'a Custom API Call path that climbs',
			{ resource: '__CUSTOM_API_CALL__', customPath: '/license/../admin', customBody: '{}' },
			'Path must be an endpoint path like /license/get, got "/license/../admin"',
		],
		[
			'a Custom API Call body that is not JSON',
			{ resource: '__CUSTOM_API_CALL__', customPath: '/license/get', customBody: '{license_key:' },
			'Body is not valid JSON',
		],
		[
			'a Custom API Call body that is not an object',
			{ resource: '__CUSTOM_API_CALL__', customPath: '/license/get', customBody: '[1]' },
			'Body must be a JSON object, like {"license_key": "ABCD-1234"}',
		],
		['an empty key list', { resource: 'license', operation: 'extendBulk', licenseKeys: ' ,\n, ', extendBy: 1, extendUnit: 'minutes' }, 'License Keys is empty'],
		['an empty key array', { resource: 'license', operation: 'deleteBulk', licenseKeys: '={{ [] }}' }, 'License Keys is empty'],
		[
			'a malformed key in a list',
			{ resource: 'license', operation: 'deleteBulk', licenseKeys: 'GOOD-1, bad key' },
			'License Keys: "bad key" is not a license key',
		],
		['an empty license key', { resource: 'license', operation: 'get', licenseKey: '  ' }, 'License Key is empty'],
		['a malformed license key', { resource: 'license', operation: 'get', licenseKey: 'ABC/DEF' }, 'License Key: "ABC/DEF" is not a license key'],
		[
			'metadata that is not JSON',
			{ resource: 'license', operation: 'updateMetadata', licenseKey: 'K-1', metadata: '{plan: pro' },
			'Metadata is not valid JSON',
		],
		[
			'metadata that is not an object',
			{ resource: 'license', operation: 'updateMetadata', licenseKey: 'K-1', metadata: '[1, 2]' },
			'Metadata must be a JSON object, like {"plan": "pro"}',
		],
		[
			'metadata over 2,000 characters',
			{ resource: 'license', operation: 'updateMetadata', licenseKey: 'K-1', metadata: JSON.stringify({ note: 'x'.repeat(1990) }) },
			'Metadata is 2001 characters of JSON; Keycrate allows at most 2000',
		],
		[
			'metadata over 2,000 characters on create',
			{
				resource: 'license',
				operation: 'create',
				durationUnit: 'days',
				durationValue: 1,
				additionalFields: { metadata: JSON.stringify({ note: 'x'.repeat(2000) }) },
			},
			'Metadata is 2011 characters of JSON; Keycrate allows at most 2000',
		],
		[
			'a batch size above the contract',
			{ resource: 'license', operation: 'deleteBulk', licenseKeys: 'A-1', options: { batchSize: 5000 } },
			'Batch Size must be a whole number from 1 to 1000, got 5000',
		],
		[
			'a page size above the contract',
			{ resource: 'license', operation: 'getMany', returnAll: true, options: { pageSize: 500 } },
			'Page Size must be a whole number from 1 to 100, got 500',
		],
		['a limit of 0', { resource: 'license', operation: 'getMany', returnAll: false, limit: 0 }, 'Limit must be a whole number of at least 1, got 0'],
		[
			'a key amount of 0',
			{ resource: 'license', operation: 'createBulk', keyAmount: 0, durationUnit: 'days', durationValue: 1 },
			'Number of Licenses must be a whole number of at least 1, got 0',
		],
		[
			'no username or password',
			{ resource: 'license', operation: 'updateUserCredentials', licenseKey: 'K-1', additionalFields: {} },
			'Nothing to update: set Username or Password under Additional Fields',
		],
		[
			'a subscription update that changes nothing',
			{ resource: 'subscription', operation: 'update', subscriptionId: '6f1f2f3e-1111-4222-8333-944455556666', updateFields: {} },
			'Nothing to update: add Name, Level or Single Key Per HWID under Update Fields',
		],
		['an empty subscription name', { resource: 'subscription', operation: 'create', name: ' ', level: 1 }, 'Name is empty'],
		[
			'an empty subscription name on update',
			{ resource: 'subscription', operation: 'update', subscriptionId: '6f1f2f3e-1111-4222-8333-944455556666', updateFields: { name: '={{ "" }}' } },
			'Name is empty',
		],
		[
			'an operation this version does not have (a name from before issue 8)',
			{ resource: 'hwid', operation: 'toggleLock', licenseKey: 'K-1' },
			'The operation "toggleLock" is not known for "hwid"',
		],
		[
			'a number that is not whole, from an expression',
			{ resource: 'license', operation: 'extend', licenseKey: 'K-1', extendBy: '={{ "1.5" }}', extendUnit: 'days' },
			'Extend By must be a whole number from 1 to 36500, got "1.5"',
		],
		[
			'a number out of range',
			{ resource: 'hwid', operation: 'updateResetInterval', licenseKey: 'K-1', resetInterval: 9000 },
			'Reset Interval (Hours) must be a whole number from 0 to 8760, got 9000',
		],
		[
			'a level out of range on update',
			{ resource: 'subscription', operation: 'update', subscriptionId: '6f1f2f3e-1111-4222-8333-944455556666', updateFields: { level: 1001 } },
			'Level must be a whole number from 0 to 1000, got 1001',
		],
		[
			'a duration value of 0',
			{ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 0 },
			'Duration Value must be a whole number from 1 to 100000, got 0',
		],
	];

	// A loop, not it.each: inferring it.each's types over INodeParameters stalls the TypeScript checker.
	for (const [name, parameters, message, credentialOverrides] of cases) {
		it(name, async () => {
			const result = await runKeycrate({ credentials: { ...keycrate.credentials, ...credentialOverrides }, parameters });
			expect(result.error?.message).toBe(message);
			expect(result.error?.name).toBe('NodeOperationError');
			expect(result.requests).toEqual([]);
		});
	}
});

describe('an operation of an earlier version', () => {
	it('says what replaced it', async () => {
		const result = await keycrate.run({ resource: 'hwid', operation: 'toggleLock', licenseKey: 'K-1' });
		expect(result.error?.description).toBe('It was replaced: choose HWID → Set Lock, with the value the lock should have.');
		expect(result.requests).toEqual([]);
	});
});

describe('Keycrate errors', () => {
	it("carry Keycrate's error and error_code in a NodeApiError, without the API key", async () => {
		const result = await keycrate.run({ resource: 'license', operation: 'get', licenseKey: 'MISSING-1' });
		expect(result.error?.name).toBe('NodeApiError');
		expect(result.error?.message).toMatch(/MISSING-1.*\[LICENSE_NOT_FOUND\]$/);
		expect(result.error?.description).toBe('Check the license key. POST /license/get answered HTTP 404.');
		expect((result.error as { httpCode?: string }).httpCode).toBe('404');
		expect(JSON.stringify(result.error)).not.toContain(keycrate.credentials.apiKey);
		expect(keycrate.callsTo('/license/get')).toBe(1);
	});

	it('a wrong API key says so, without echoing it', async () => {
		const wrongKey = 'kc_wrong_0123456789abcdef';
		const result = await runKeycrate({
			credentials: { ...keycrate.credentials, apiKey: wrongKey },
			parameters: { resource: 'license', operation: 'get', licenseKey: 'ANY-1' },
		});
		expect(result.error?.message).toMatch(/\[INVALID_API_KEY\]$/);
		expect(result.error?.description).toContain('Check the Keycrate API credential');
		expect(JSON.stringify(result.error)).not.toContain(wrongKey);
	});

	it('INVALID_INPUT from Keycrate is not retried', async () => {
		// 21 tags: the contract allows 20, and the node leaves that check to Keycrate.
		const tags = Array.from({ length: 21 }, (_, i) => `t${i}`);
		const result = await runKeycrate({
			credentials: keycrate.credentials,
			parameters: { resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1, additionalFields: { tags } },
		});
		expect(result.error?.message).toMatch(/\[INVALID_INPUT\]$/);
		expect(result.error?.description).toContain('Field: tags.');
		expect(keycrate.callsTo('/license/create')).toBe(1);
		expect(keycrate.retryDelays).toEqual([]);
	});
});

describe('Continue On Fail', () => {
	it('turns each failed input into an error item paired to it, and goes on', async () => {
		const key = await createLicense();
		const result = await keycrate.run(
			{ resource: 'license', operation: 'get', licenseKey: '={{ $json.key }}' },
			{ continueOnFail: true, input: [{ json: { key } }, { json: { key: 'MISSING-2' } }, { json: { key: 'bad key' } }] },
		);
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items[0].json.license_key).toBe(key);
		expect(result.items[1].json).toMatchObject({ error_code: 'LICENSE_NOT_FOUND', error: expect.stringContaining('MISSING-2') });
		expect(result.items[2].json).toMatchObject({ error: 'License Key: "bad key" is not a license key' });
	});

	it('gives one failed result per key when a whole bulk call fails (a status write is retried first)', async () => {
		const keys = [await createLicense(), await createLicense(), await createLicense()];
		keycrate.emulator.setFaults([{ endpoint: '/license/update-status-bulk', kind: 'error_500', rate: 1 }]);
		const result = await keycrate.run(
			{ resource: 'license', operation: 'updateStatusBulk', licenseKeys: keys, status: 'paused', options: { batchSize: 2 } },
			{ continueOnFail: true },
		);
		expect(result.items.map((item) => [item.json.license_key, item.json.success, item.json.error_code])).toEqual(
			keys.map((key) => [key, false, 'SERVER_ERROR']),
		);
		expect(keycrate.callsTo('/license/update-status-bulk')).toBe(8); // 2 batches x (1 + 3 retries)
	});

	it('marks the keys of an unconfirmed Extend Many call as possibly applied, sending each batch once', async () => {
		const keys = [await createLicense(), await createLicense(), await createLicense()];
		keycrate.emulator.setFaults([{ endpoint: '/license/extend-bulk', kind: 'error_500', rate: 1 }]);
		const result = await keycrate.run(
			{ resource: 'license', operation: 'extendBulk', licenseKeys: keys, extendBy: 1, extendUnit: 'minutes', options: { batchSize: 2 } },
			{ continueOnFail: true },
		);
		expect(result.items.map((item) => [item.json.license_key, item.json.success, item.json.may_have_applied])).toEqual(keys.map((key) => [key, false, true]));
		expect(keycrate.callsTo('/license/extend-bulk')).toBe(2);
		expect(keycrate.retryDelays).toEqual([]);
	});
});
