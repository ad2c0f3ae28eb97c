// How a license names its root and seat, and how a sync reads that back: tolerant of missing fields, never
// taking another root's license for its own (the get-bulk tag filter is only inferred).

import { belongsTo, licenseTags, readLicense, rootTag, seatTag } from '../../src/keycrate/record.js';

const APP = '11111111-1111-4111-8111-111111111111';

describe('record', () => {
	test('tags name the root and the seat first, then LICENSE_TAG and the plan, at most 20', () => {
		expect(licenseTags('sub_1', 'si_1:0', 'stripe', ['pro'])).toEqual(['kcsync:sub_1', 'kcseat:si_1:0', 'stripe', 'pro']);
		expect(
			licenseTags(
				'sub_1',
				'si_1:0',
				'stripe',
				Array.from({ length: 30 }, (_, i) => `t${i}`),
			),
		).toHaveLength(20);
		expect(rootTag(`pi_${'x'.repeat(80)}`)).toMatch(/^kcsync:#[0-9a-f]{40}$/);
		expect(seatTag(`si_${'y'.repeat(80)}:3`)).toMatch(/^kcseat:#[0-9a-f]{40}$/);
	});

	test.each([
		['its root tag', { license_key: 'K', tags: ['kcsync:sub_1'] }, true],
		['its root in metadata (tags missing from the reply)', { license_key: 'K', metadata: { keycrate_sync_root: 'sub_1' } }, true],
		[
			"another root's tag (a Keycrate that ignored the tag filter)",
			{ license_key: 'K', tags: ['kcsync:sub_2', 'kcseat:si_1:0'], metadata: { keycrate_sync_seat: 'si_1:0' } },
			false,
		],
		['a license of nobody (made by hand)', { license_key: 'K', tags: ['vip'], metadata: {} }, false],
		['not an object', 'K', false],
	])('belongsTo: %s → %p', (_name, raw, expected) => {
		expect(belongsTo(raw, 'sub_1')).toBe(expected);
	});

	test('readLicense keeps what the reply says and leaves out what it does not', () => {
		expect(
			readLicense({ license_key: 'K', tags: ['kcseat:si_1:2'], status: 'paused', expires_at: '2026-01-01T00:00:00.900Z', subscription_id: null }, APP),
		).toEqual({
			licenseKey: 'K',
			appId: APP,
			seat: 'si_1:2',
			status: 'paused',
			expiresAt: 1767225600,
			tier: null,
			metadata: {},
			handedOff: false,
		});
		expect(readLicense({ license_key: 'K', expires_at: null, metadata: { keycrate_sync_seat: 'li_9:0', keycrate_handoff: '2026-01-01' } }, APP)).toMatchObject({
			seat: 'li_9:0',
			expiresAt: null,
			handedOff: true,
		});
		expect(readLicense({ license_key: 'K', expires_at: 'soon' }, APP)).not.toHaveProperty('expiresAt');
		expect(readLicense({ status: 'active' }, APP)).toBeUndefined();
	});
});
