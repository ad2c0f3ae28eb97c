// What one line buys: the object's own keycrate_* metadata, else its price's, else PLANS_FILE (price id, then
// lookup_key). Metadata is validated like a PLANS_FILE entry; a bad value is a PermanentEventError naming the key.

import { parsePlan, type PlanMap } from '../config.js';
import type { HandlerResult, Plan, SeatLine } from '../model.js';
import type { PriceRef, StripeMetadata } from '../stripe/types.js';
import { PermanentEventError } from './context.js';

/** Plan field (as parsePlan reads it) → the metadata key a seller sets on a price, session or subscription. */
const METADATA_KEYS = {
	subscription_id: 'keycrate_subscription_id',
	duration_unit: 'keycrate_duration_unit',
	duration_value: 'keycrate_duration_value',
} as const;

/** The plan named by keycrate_* metadata, or undefined when the metadata names none. `where` e.g. "price price_1 metadata". */
export function planFromMetadata(metadata: StripeMetadata | null | undefined, where: string): Plan | undefined {
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
		const field = Object.keys(METADATA_KEYS).find((name) => message.startsWith(`${where}.${name}:`)) as
			| keyof typeof METADATA_KEYS
			| undefined;
		if (field === undefined) throw new PermanentEventError(message);
		const key = METADATA_KEYS[field];
		const given = entry[field] === undefined ? 'nothing' : JSON.stringify(entry[field]);
		throw new PermanentEventError(`${where}.${key}${message.slice(`${where}.${field}`.length)} (got ${given})`, key);
	}
}

export function priceId(price: PriceRef): string {
	return typeof price === 'string' ? price : price.id;
}

/** The plan for one line, given the plan its parent object's metadata names (if any). */
export function planForPrice(ownPlan: Plan | undefined, price: PriceRef | undefined, plans: PlanMap): Plan | undefined {
	if (ownPlan !== undefined) return ownPlan;
	if (price === undefined) return undefined;
	if (typeof price !== 'string') {
		const fromPrice = planFromMetadata(price.metadata, `price ${price.id} metadata`);
		if (fromPrice !== undefined) return fromPrice;
	}
	const lookupKey = typeof price === 'string' ? undefined : (price.lookup_key ?? undefined);
	return lookupPlan(plans, priceId(price)) ?? (lookupKey === undefined ? undefined : lookupPlan(plans, lookupKey));
}

function lookupPlan(plans: PlanMap, key: string): Plan | undefined {
	return Object.hasOwn(plans, key) ? plans[key] : undefined;
}

/** One line as a handler sees it before its plan is known. */
export interface LineCandidate {
	lineKey: string;
	price?: PriceRef;
	count: number;
}

export interface MappedLines {
	lines: SeatLine[];
	/** Price ids (or line keys, for a line without a price) that no plan covers. */
	unmapped: string[];
}

/** Maps each candidate to a SeatLine; candidates with the same key (e.g. one price twice) add their counts. */
export function mapLines(candidates: LineCandidate[], ownPlan: Plan | undefined, plans: PlanMap): MappedLines {
	const lines: SeatLine[] = [];
	const unmapped: string[] = [];
	for (const candidate of candidates) {
		const plan = planForPrice(ownPlan, candidate.price, plans);
		const id = candidate.price === undefined ? undefined : priceId(candidate.price);
		if (plan === undefined) {
			unmapped.push(id ?? candidate.lineKey);
			continue;
		}
		const same = lines.find((line) => line.lineKey === candidate.lineKey);
		if (same !== undefined) same.count += candidate.count;
		else lines.push({ lineKey: candidate.lineKey, ...(id === undefined ? {} : { priceId: id }), plan, count: candidate.count });
	}
	return { lines, unmapped };
}

/** What a seller must do so that these prices create licenses. */
export function unmappedDetail(priceIds: string[], owner: string): string {
	if (priceIds.length === 0) return `the ${owner} lists nothing that was bought`;
	return (
		`no Keycrate plan for ${priceIds.join(', ')}: set keycrate_duration_unit and keycrate_duration_value ` +
		`(and optionally keycrate_subscription_id) in the price's or the ${owner}'s metadata, ` +
		'or add the price id or its lookup_key to PLANS_FILE'
	);
}

/** Some lines were licensed and some not: the event goes through, and the seller is told what to configure. */
export function withUnmappedWarning(result: HandlerResult, unmapped: string[], owner: string): HandlerResult {
	if (unmapped.length === 0) return result;
	return { ...result, warnings: [`some lines were not licensed: ${unmappedDetail(unmapped, owner)}`] };
}
