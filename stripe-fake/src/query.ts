/**
 * Stripe's form-style query strings (`expand[0]=a`, `payment[type]=payment_intent`, `created[gte]=…`,
 * `types[]=…`) into nested values, and the list parameters every list endpoint shares.
 */
import { invalidRequest } from './errors';

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type Query = Record<string, QueryValue>;

/** `a[b][0]` → ['a', 'b', '0']; `types[]` → ['types', '']. Null for a malformed key. */
function keyPath(key: string): string[] | null {
	const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
	if (!match) return null;
	const path = [match[1]];
	for (const part of match[2].matchAll(/\[([^[\]]*)\]/g)) path.push(part[1]);
	return path;
}

type Node = { [key: string]: Node | string };

/** Objects whose keys are all indices (or appended with `[]`) become arrays, in index order. */
function arrays(node: Node | string): QueryValue {
	if (typeof node === 'string') return node;
	const keys = Object.keys(node);
	if (keys.length > 0 && keys.every((key) => /^\d+$/.test(key) || key.startsWith('\u0000'))) {
		return keys.sort((a, b) => (a.startsWith('\u0000') || b.startsWith('\u0000') ? 0 : Number(a) - Number(b))).map((key) => arrays(node[key]));
	}
	const result: { [key: string]: QueryValue } = {};
	for (const key of keys) result[key] = arrays(node[key]);
	return result;
}

export function parseQuery(search: string): Query {
	const root: Node = {};
	let appended = 0;
	for (const [key, value] of new URLSearchParams(search)) {
		const path = keyPath(key);
		if (!path) throw invalidRequest(`Invalid parameter name: ${key}`, key);
		let node = root;
		for (let i = 0; i < path.length; i++) {
			const part = path[i] === '' ? `\u0000${appended++}` : path[i];
			const last = i === path.length - 1;
			const existing = node[part];
			if (last) {
				if (existing !== undefined) throw invalidRequest(`Received the parameter ${path.slice(0, i + 1).join('.')} twice`, key);
				node[part] = value;
			} else {
				if (typeof existing === 'string') throw invalidRequest(`Invalid parameter: ${key} mixes a value and nested fields`, key);
				node = node[part] = (existing as Node | undefined) ?? {};
			}
		}
	}
	return arrays(root) as Query;
}

/** The list of strings of an array parameter (`expand`, `types`); a single value is a list of one. */
export function stringList(query: Query, name: string): string[] {
	const value = query[name];
	if (value === undefined) return [];
	const list = Array.isArray(value) ? value : [value];
	return list.map((item, index) => {
		if (typeof item !== 'string') throw invalidRequest(`Invalid array: ${name}[${index}] must be a string`, name);
		return item;
	});
}

export function optionalString(query: Query, name: string): string | undefined {
	const value = query[name];
	if (value === undefined) return undefined;
	if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${name} must be a string`, name);
	return value;
}

/** Rejects what the endpoint does not take, as Stripe does: `Received unknown parameter: foo`. */
export function checkParameters(query: Query, allowed: readonly string[]): void {
	for (const name of Object.keys(query)) {
		if (!allowed.includes(name)) throw invalidRequest(`Received unknown parameter: ${name}`, name);
	}
}

export interface Range {
	gt?: number;
	gte?: number;
	lt?: number;
	lte?: number;
}

function integerParam(text: unknown, param: string): number {
	if (typeof text !== 'string' || !/^-?\d+$/.test(text)) throw invalidRequest(`Invalid integer: ${String(text)}`, param);
	return Number(text);
}

/** `created=T` or `created[gte]=T` and friends. */
export function rangeParam(query: Query, name: string): Range | undefined {
	const value = query[name];
	if (value === undefined) return undefined;
	if (typeof value === 'string') {
		const exact = integerParam(value, name);
		return { gte: exact, lte: exact };
	}
	if (Array.isArray(value)) throw invalidRequest(`Invalid ${name}: must be an integer or a hash of gt, gte, lt, lte`, name);
	const range: Range = {};
	for (const [key, item] of Object.entries(value)) {
		if (key !== 'gt' && key !== 'gte' && key !== 'lt' && key !== 'lte') throw invalidRequest(`Received unknown parameter: ${name}[${key}]`, `${name}[${key}]`);
		range[key] = integerParam(item, `${name}[${key}]`);
	}
	return range;
}

export function inRange(value: number, range: Range | undefined): boolean {
	if (!range) return true;
	return (
		(range.gt === undefined || value > range.gt) &&
		(range.gte === undefined || value >= range.gte) &&
		(range.lt === undefined || value < range.lt) &&
		(range.lte === undefined || value <= range.lte)
	);
}

export interface Page {
	limit: number;
	startingAfter?: string;
	endingBefore?: string;
}

export const LIST_PARAMETERS = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

export function pageParams(query: Query): Page {
	const limitText = optionalString(query, 'limit');
	let limit = 10;
	if (limitText !== undefined) {
		if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) {
			throw invalidRequest(`Invalid limit: must be an integer from 1 to 100, got ${limitText}`, 'limit');
		}
		limit = Number(limitText);
	}
	const startingAfter = optionalString(query, 'starting_after');
	const endingBefore = optionalString(query, 'ending_before');
	if (startingAfter !== undefined && endingBefore !== undefined) {
		throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
	}
	return { limit, startingAfter, endingBefore };
}
