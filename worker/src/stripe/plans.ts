// Pure: what one line buys. A price's plan comes from its keycrate_* metadata, else PLANS_FILE by price id, then
// by lookup_key; the owner's keycrate_* metadata (Checkout Session or subscription) completes it key by key.
// Metadata is validated like a PLANS_FILE entry; a bad value is a PermanentError naming the metadata key the
// seller wrote.

import { parsePlan, type PlanMap } from '../config.js';
import { PermanentError } from '../errors.js';
import type { Plan, PriceInfo } from '../model.js';

/** Plan field (as parsePlan reads it) → the metadata key a seller sets on a price, session or subscription. */
export const METADATA_KEYS = {
	app_id: 'keycrate_app_id',
	subscription_id: 'keycrate_subscription_id',
	duration_unit: 'keycrate_duration_unit',
	duration_value: 'keycrate_duration_value',
	key_pattern: 'keycrate_key_pattern',
	hwid_lock: 'keycrate_hwid_lock',
} as const;

/** A parsed plan as the raw entry parsePlan reads, so that metadata can override it key by key. */
function entryOf(plan: Plan): Record<string, unknown> {
	const entry: Record<string, unknown> = {
		app_id: plan.appId,
		subscription_id: plan.subscriptionId,
		duration_unit: plan.durationUnit,
		duration_value: plan.durationValue,
		key_pattern: plan.keyPattern,
		hwid_lock: plan.hwidLock,
		tags: plan.tags,
	};
	return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
}

/**
 * The plan named by keycrate_* metadata over `base` (the price's plan): each key the metadata names replaces the
 * same field of `base`, a key it does not name keeps base's value. Undefined when neither names anything.
 * `where` names the metadata in errors (e.g. "price price_1 metadata").
 */
export function planFromMetadata(metadata: Record<string, string> | null | undefined, where: string, base?: Plan): Plan | undefined {
	const named: Record<string, string> = {};
	for (const [field, key] of Object.entries(METADATA_KEYS)) {
		const value = metadata?.[key];
		if (typeof value === 'string' && value.trim() !== '') named[field] = value.trim();
	}
	if (Object.keys(named).length === 0) return base;
	const entry: Record<string, unknown> = { ...(base ? entryOf(base) : {}), ...named };
	// A unit named without a value replaces the base's duration whole (lifetime needs none; others are asked for).
	if (named.duration_unit !== undefined && named.duration_value === undefined) delete entry.duration_value;
	try {
		return parsePlan(entry, where);
	} catch (error) {
		// parsePlan names the plan field (`<where>.duration_unit: …`); say the metadata key the seller wrote instead.
		const message = (error as Error).message;
		const field = (Object.keys(METADATA_KEYS) as (keyof typeof METADATA_KEYS)[]).find((name) => message.startsWith(`${where}.${name}:`));
		if (field === undefined) throw new PermanentError(message);
		const key = METADATA_KEYS[field];
		const given = named[field] === undefined ? 'nothing' : JSON.stringify(named[field]);
		throw new PermanentError(`${where}.${key}${message.slice(`${where}.${field}`.length)} (got ${given})`, key);
	}
}

function lookup(plans: PlanMap, key: string): Plan | undefined {
	return Object.hasOwn(plans, key) ? plans[key] : undefined;
}

/** The price's own plan: its keycrate_* metadata, else PLANS_FILE by price id, then by lookup_key; undefined = none. */
export function pricePlan(price: PriceInfo | undefined, plans: PlanMap): Plan | undefined {
	if (price === undefined) return undefined;
	return (
		planFromMetadata(price.metadata, `price ${price.id} metadata`) ??
		lookup(plans, price.id) ??
		(price.lookupKey === undefined ? undefined : lookup(plans, price.lookupKey))
	);
}

/** What a seller must do so that these prices create licenses. */
export function noPlanDetail(priceIds: string[], owner: string, oneOff: boolean): string {
	const what = oneOff ? 'keycrate_duration_unit and keycrate_duration_value' : 'keycrate_subscription_id';
	return (
		`no Keycrate plan for ${priceIds.length === 0 ? 'anything it sold' : priceIds.join(', ')}: set ${what} ` +
		`in the price's or the ${owner}'s metadata, or add the price id or its lookup_key to PLANS_FILE`
	);
}
