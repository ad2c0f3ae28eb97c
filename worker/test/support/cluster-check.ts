// Compares the emulator's licenses with what every story must leave: for each root as many seats as it should
// have, exactly one license per active seat (found by its root and seat metadata, carrying both tags), at most one
// per paused seat (a seat never seen active by a sync is never created: nothing for what nobody paid for), no
// stray license, the expiry in whole seconds, the status, the tier and the linkage metadata. Returns readable
// problems (none = pass).

import { rootTag, seatTag } from '../../src/keycrate/record.js';
import type { License } from './cluster-harness.js';
import type { ExpectedRoot } from './cluster-stripe.js';

export interface CheckSummary {
	roots: number;
	seats: number;
	/** Seats that must hold a license (active ones); a paused seat may hold none. */
	activeSeats: number;
	licenses: number;
	problems: string[];
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function checkLicenses(licenses: readonly License[], expected: readonly ExpectedRoot[], options: { maxProblems?: number } = {}): CheckSummary {
	const problems: string[] = [];
	// root → seat → licenses (the seat is `<line key>:<n>`, from the license's metadata)
	const byRoot = new Map<string, Map<string, License[]>>();
	for (const license of licenses) {
		const root = license.metadata?.keycrate_sync_root;
		const seat = license.metadata?.keycrate_sync_seat;
		const rootKey = typeof root === 'string' ? root : `(no keycrate_sync_root: ${license.license_key})`;
		const seats = byRoot.get(rootKey) ?? new Map<string, License[]>();
		const seatKey = typeof seat === 'string' ? seat : `(no keycrate_sync_seat: ${license.license_key})`;
		seats.set(seatKey, [...(seats.get(seatKey) ?? []), license]);
		byRoot.set(rootKey, seats);
	}
	const expectedRoots = new Set(expected.map((root) => root.root));
	let seatCount = 0;
	let activeSeats = 0;
	for (const root of expected) {
		const seats = [...(byRoot.get(root.root) ?? new Map<string, License[]>()).entries()].sort(([a], [b]) => a.localeCompare(b));
		seatCount += root.seats.length;
		activeSeats += root.seats.filter((seat) => seat.status === 'active').length;
		const mustExist = root.seats.filter((seat) => seat.status === 'active').length;
		if (seats.length < mustExist || seats.length > root.seats.length) {
			const wanted = mustExist === root.seats.length ? `${mustExist}` : `${mustExist} to ${root.seats.length}`;
			problems.push(`${root.root} [${root.story}]: ${seats.length} seats with licenses, expected ${wanted} (${seats.map(([seat]) => seat).join(', ')})`);
		}
		for (const [index, [seatKey, found]] of seats.entries()) {
			const want = root.bySeat?.(seatKey) ?? root.seats[Math.min(index, root.seats.length - 1)];
			const key = `${root.root}#${seatKey}`;
			const seat = seatKey;
			const where = `${key} [${root.story}]`;
			if (want === undefined) continue;
			if (found.length !== 1) {
				problems.push(`${where}: ${found.length} licenses, expected exactly 1${found.length > 1 ? ` (${found.map((l) => l.license_key).join(', ')})` : ''}`);
				if (found.length === 0) continue;
			}
			const license = found[0];
			if (license.status !== want.status) problems.push(`${where}: status ${license.status}, expected ${want.status}`);
			if (want.expiry === null) {
				if (license.expires_at !== null) problems.push(`${where}: expires ${license.expires_at}, expected lifetime (null)`);
			} else if (license.expires_at === null) {
				problems.push(`${where}: lifetime, expected an expiry`);
			} else if (typeof want.expiry === 'number') {
				const got = seconds(license.expires_at);
				if (got !== want.expiry) {
					problems.push(
						`${where}: expires ${license.expires_at} (${got}), expected ${new Date(want.expiry * 1000).toISOString()} (${want.expiry}), off by ${got - want.expiry} s`,
					);
				}
			} else if ('between' in want.expiry) {
				const got = seconds(license.expires_at);
				const [low, high] = want.expiry.between;
				if (got < low || got > high) problems.push(`${where}: expires ${license.expires_at} (${got}), expected between ${low} and ${high}`);
			} else {
				const span = Math.round((Date.parse(license.expires_at) - Date.parse(license.created_at)) / 1000);
				if (span !== want.expiry.afterCreation) problems.push(`${where}: lasts ${span} s after creation, expected ${want.expiry.afterCreation} s`);
			}
			if (!license.tags.includes(seatTag(seat)) || !license.tags.includes(rootTag(root.root)))
				problems.push(`${where}: tags ${JSON.stringify(license.tags)} lack the root or seat tag`);
			if (!license.tags.includes('stripe')) problems.push(`${where}: tags ${JSON.stringify(license.tags)} lack the LICENSE_TAG "stripe"`);
			if ((license.subscription_id ?? null) !== want.tier) problems.push(`${where}: tier ${license.subscription_id}, expected ${want.tier}`);
			for (const [field, value] of Object.entries(root.metadata)) {
				if (license.metadata?.[field] !== value) problems.push(`${where}: metadata.${field} = ${JSON.stringify(license.metadata?.[field])}, expected ${value}`);
			}
		}
	}
	for (const [root, seats] of byRoot) {
		if (!expectedRoots.has(root))
			problems.push(
				`unexpected license(s) for ${root}: ${[...seats.values()]
					.flat()
					.map((l) => l.license_key)
					.join(', ')}`,
			);
	}
	const max = options.maxProblems ?? 50;
	const shown = problems.length > max ? [...problems.slice(0, max), `… and ${problems.length - max} more`] : problems;
	return { roots: expected.length, seats: seatCount, activeSeats, licenses: licenses.length, problems: shown };
}
