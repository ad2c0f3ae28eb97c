// Pure: what one line buys. The owner's keycrate_* metadata (Checkout Session or subscription) wins, then the
// price's, then PLANS_FILE by price id, then by lookup_key. Metadata is validated like a PLANS_FILE entry; a
// bad value is a PermanentError naming the metadata key the seller wrote.

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

/** The plan named by keycrate_* metadata, or undefined when it names none. `where` e.g. "price price_1 metadata". */
export function planFromMetadata(metadata: Record<string, string> | null | undefined, where: string): Plan | undefined {
	if (metadata === null || metadata === undefined) return undefined;
	const entry: Record<string, string> = {};
	for (const [field, key] of Object.entries(METADATA_KEYS)) {
		const value = metadata[key];
		if (typeof value === 'string' && value.trim() !== '') entry[field] = value.trim();
	}
	if (Object.keys(entry).length === 0) return undefined;
	try {
		return parsePlan(entry, where);
	} catch (error) {
		// parsePlan names the plan field (`<where>.duration_unit: …`); say the metadata key the seller wrote instead.
		const message = (error as Error).message;
		const field = (Object.keys(METADATA_KEYS) as (keyof typeof METADATA_KEYS)[]).find((name) => message.startsWith(`${where}.${name}:`));
		if (field === undefined) throw new PermanentError(message);
		const key = METADATA_KEYS[field];
		const given = entry[field] === undefined ? 'nothing' : JSON.stringify(entry[field]);
		throw new PermanentError(`${where}.${key}${message.slice(`${where}.${field}`.length)} (got ${given})`, key);
	}
}

function lookup(plans: PlanMap, key: string): Plan | undefined {
	return Object.hasOwn(plans, key) ? plans[key] : undefined;
}

/** The plan for one line, given the plan its owner's metadata names (if any); undefined = not licensed. */
export function planForPrice(ownerPlan: Plan | undefined, price: PriceInfo | undefined, plans: PlanMap): Plan | undefined {
	if (ownerPlan !== undefined) return ownerPlan;
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
