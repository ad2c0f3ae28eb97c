import { invalidInput } from './errors';
import type { Schemas } from './contract';

type DurationUnit = Schemas['DurationUnit'];

const MS_PER_UNIT: Partial<Record<DurationUnit, number>> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };
/** ISO 8601 `date-time` (and so the contract) stops at year 9999. */
export const LATEST_REPRESENTABLE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Calendar months in UTC; a day that the target month lacks is clamped (Jan 31 + 1 month = Feb 28/29). */
function addMonths(fromMs: number, months: number): number {
	const from = new Date(fromMs);
	const firstOfTarget = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + months, 1));
	const daysInTarget = new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, 0)).getUTCDate();
	firstOfTarget.setUTCDate(Math.min(from.getUTCDate(), daysInTarget));
	firstOfTarget.setUTCHours(from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds(), from.getUTCMilliseconds());
	return firstOfTarget.getTime();
}

/** The expiry of a license created at `fromMs`; null for lifetime. */
export function expiryFor(fromMs: number, unit: DurationUnit, value: number | undefined): number | null {
	if (unit === 'lifetime') return null;
	if (value === undefined) throw invalidInput('duration_value', `is required unless duration_unit is lifetime (duration_unit is ${unit})`);
	const perUnit = MS_PER_UNIT[unit];
	const expiresAt = perUnit !== undefined ? fromMs + value * perUnit : addMonths(fromMs, unit === 'years' ? value * 12 : value);
	if (!(expiresAt <= LATEST_REPRESENTABLE_MS)) throw invalidInput('duration_value', `puts the expiry after the year 9999 (${value} ${unit})`);
	return expiresAt;
}

export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
