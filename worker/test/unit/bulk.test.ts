// Table tests of the pure parts of bulk jobs: the request (every refusal names its field), chunking, extend
// groups, the export's lines, and the CLI's flags as a request body.

import { bulkBody } from '../../src/bulk/cli.js';
import { chunkCount, chunkSize, exportLine, extendGroups, selects, settleCalls } from '../../src/bulk/plan.js';
import { BulkRequestError, parseBulkRequest } from '../../src/bulk/request.js';

const APP = '11111111-1111-4111-8111-111111111111';
const TIER = '33333333-3333-4333-8333-333333333333';

describe('parseBulkRequest', () => {
	test.each([
		[
			'a create',
			{ kind: 'create', app_id: APP, count: 3, duration_unit: 'days', duration_value: 30, tags: ['a', 'a'] },
			{ kind: 'create', appId: APP, count: 3, durationUnit: 'days', durationValue: 30, tags: ['a'] },
		],
		[
			'a lifetime create needs no value',
			{ kind: 'create', app_id: APP, count: 1, duration_unit: 'lifetime' },
			{ kind: 'create', appId: APP, count: 1, durationUnit: 'lifetime', tags: [] },
		],
		[
			'an extend of a tier by a month (30 days)',
			{ kind: 'extend', app_id: APP, filter: { subscription_id: TIER }, duration_unit: 'months', duration_value: 1 },
			{ kind: 'extend', appId: APP, selection: { filter: { subscriptionId: TIER } }, seconds: 30 * 86400 },
		],
		[
			'a pause of listed keys (each once)',
			{ kind: 'pause', app_id: APP, license_keys: ['A', 'B', 'A'] },
			{ kind: 'pause', appId: APP, selection: { keys: ['A', 'B'] } },
		],
		['no selection = the whole app', { kind: 'delete', app_id: APP }, { kind: 'delete', appId: APP, selection: { filter: {} } }],
		[
			'retier to no tier',
			{ kind: 'retier', app_id: APP, subscription_id: null },
			{ kind: 'retier', appId: APP, selection: { filter: {} }, subscriptionId: null },
		],
		[
			'an export defaults to CSV',
			{ kind: 'export', app_id: APP, filter: { status: 'active' } },
			{ kind: 'export', appId: APP, selection: { filter: { status: 'active' } }, format: 'csv' },
		],
	])('%s', (_name, body, spec) => {
		expect(parseBulkRequest(body).spec).toEqual(spec);
	});

	test.each([
		[null, 'body'],
		[{ kind: 'create', app_id: APP, count: 1_000_001, duration_unit: 'days', duration_value: 1 }, 'count'],
		[{ kind: 'create', app_id: APP, count: 1, duration_unit: 'weeks', duration_value: 1 }, 'duration_unit'],
		[{ kind: 'create', app_id: APP, count: 1, duration_unit: 'days', duration_value: 1, key_pattern: 'no spaces' }, 'key_pattern'],
		[{ kind: 'create', app_id: APP, count: 1, duration_unit: 'days', duration_value: 1, metadata: [] }, 'metadata'],
		[{ kind: 'create', app_id: APP, count: 1, duration_unit: 'days', duration_value: 1, license_keys: ['A'] }, 'license_keys'],
		[{ kind: 'create', app_id: APP, count: 1, duration_unit: 'days', duration_value: 1, tags: Array.from({ length: 19 }, (_, i) => `t${i}`) }, 'tags'],
		[{ kind: 'pause', app_id: APP, license_keys: [] }, 'license_keys'],
		[{ kind: 'pause', app_id: APP, filter: { status: 'gone' } }, 'filter.status'],
		[{ kind: 'pause', app_id: APP, filter: { subscription_id: 'gold' } }, 'filter.subscription_id'],
		[{ kind: 'retier', app_id: APP }, 'subscription_id'],
		[{ kind: 'lock', app_id: APP, hwid_lock: 'yes' }, 'hwid_lock'],
		[{ kind: 'export', app_id: APP, format: 'xlsx' }, 'format'],
		[{ kind: 'pause', app_id: APP, dry_run: 'yes' }, 'dry_run'],
	])('refuses %j naming %s', (body, field) => {
		let thrown: unknown;
		try {
			parseBulkRequest(body);
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(BulkRequestError);
		expect((thrown as BulkRequestError).field).toBe(field);
	});
});

describe('chunks and settling', () => {
	test('100,000 in chunks of 1,000: 100 chunks, the last one full; 2,500: the last has 500', () => {
		expect([chunkCount(100000, 1000), chunkSize(100000, 1000, 99), chunkCount(2500, 1000), chunkSize(2500, 1000, 2), chunkSize(2500, 1000, 3)]).toEqual([
			100, 1000, 3, 500, 0,
		]);
	});

	test('what a settle costs (README)', () => {
		expect([settleCalls('create', 1000, 100), settleCalls('extend', 1000, 100), settleCalls('pause', 1000, 100), settleCalls('retier', 1000, 100)]).toEqual([
			11, 1001, 1, 1000,
		]);
	});

	test('an extend settles to each target: keys past it, lifetime and unknown need nothing; the rest grouped by what they lack', () => {
		const targets = new Map([
			['A', 1000],
			['B', 1000],
			['C', 1000],
			['D', 1000],
			['E', 2000],
		]);
		const expiries = new Map<string, number | null | undefined>([
			['A', 1000],
			['B', 400],
			['C', null],
			['D', undefined],
			['E', 1400],
		]);
		expect([...extendGroups(targets, expiries)]).toEqual([[600, ['B', 'E']]]);
	});

	test('a filter is checked on every license (get-bulk filters are inferred)', () => {
		const entry = { license_key: 'K', status: 'active', subscription_id: TIER, tags: ['x'] };
		expect(selects(entry, { filter: { subscriptionId: TIER, status: 'active', tag: 'x' } })).toBe(true);
		expect(selects(entry, { filter: { tag: 'y' } })).toBe(false);
		expect(selects(entry, { filter: { status: 'paused' } })).toBe(false);
	});

	test('export lines: CSV quoted where needed, JSON lines with ISO expiry', () => {
		const entry = { license_key: 'K-1', status: 'active', expires_at: 1_800_000_000, email: 'a,b@example.com', tags: ['x', 'y'] };
		expect(exportLine(entry, 'csv')).toBe('K-1,active,2027-01-15T08:00:00.000Z,,,"a,b@example.com",,,x y\n');
		expect(JSON.parse(exportLine(entry, 'jsonl'))).toEqual({
			license_key: 'K-1',
			status: 'active',
			expires_at: '2027-01-15T08:00:00.000Z',
			email: 'a,b@example.com',
			tags: ['x', 'y'],
		});
	});
});

describe('the CLI flags as a request body', () => {
	test('a filter from --tier/--status/--tag, a target tier for retier, booleans and lists parsed', () => {
		expect(bulkBody('extend', { 'app-id': APP, tier: TIER, status: 'active', 'duration-unit': 'days', 'duration-value': '7' })).toEqual({
			kind: 'extend',
			app_id: APP,
			duration_unit: 'days',
			duration_value: 7,
			filter: { subscription_id: TIER, status: 'active' },
		});
		expect(bulkBody('retier', { 'app-id': APP, tier: 'none', keys: 'A, B' })).toEqual({
			kind: 'retier',
			app_id: APP,
			subscription_id: null,
			license_keys: ['A', 'B'],
		});
		expect(bulkBody('lock', { 'app-id': APP, 'hwid-lock': 'true', 'dry-run': true })).toEqual({ kind: 'lock', app_id: APP, hwid_lock: true, dry_run: true });
	});
});
