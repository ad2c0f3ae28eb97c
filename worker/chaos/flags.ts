// The chaos runs' flags (node:util parseArgs), shared by run.ts and cluster.ts.

import type { ChaosOptions } from './chaos.js';

export const CHAOS_FLAGS = {
	events: { type: 'string' },
	kills: { type: 'string' },
	seed: { type: 'string' },
	copies: { type: 'string' },
} as const;

type Given = { [name in keyof typeof CHAOS_FLAGS]?: string };

function whole(given: Given, name: keyof Given, fallback: number, min: number): number {
	const raw = given[name];
	if (raw === undefined) return fallback;
	if (!/^[0-9]+$/.test(raw) || Number(raw) < min) throw new Error(`--${name}: must be a whole number ≥ ${min}`);
	return Number(raw);
}

/** The run: ≥ 5,000 events ×3, ≥ 20 SIGKILLs, 20% error_500 + 10% error_429 + 5% commit_then_500, Stripe 5% 500 + 5% 429. */
export function chaosOptions(
	given: Given,
	label: string,
	defaults: { events: number; kills: number } = { events: 5000, kills: 20 },
): Omit<ChaosOptions, 'restartRedis' | 'print'> {
	return {
		label,
		events: whole(given, 'events', defaults.events, 1),
		kills: whole(given, 'kills', defaults.kills, 0),
		seed: whole(given, 'seed', 20261204, 0),
		copies: whole(given, 'copies', 3, 1),
		killGapMs: [1000, 6000],
		keycrate: { error500: 0.2, error429: 0.1, commitThen500: 0.05 },
		stripe: { error500: 0.05, error429: 0.05 },
	};
}
