/**
 * Stripe's `expand[]`: dotted paths that replace ids with the objects they name, step into lists through
 * `data`, and include fields Stripe leaves out unless asked (`line_items`, `payments`, `refunds`).
 * At most four levels, like Stripe.
 */
import { invalidRequest } from './errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ExpandSource {
	/** A copy of the stored object with this id, or undefined. */
	byId(id: string): JsonObject | undefined;
	/** The value of a field Stripe includes only on request (a list), or undefined when the object has none by that name. */
	includable(object: JsonObject, field: string): Json | undefined;
}

const MAX_DEPTH = 4;

function isObject(value: Json | undefined): value is JsonObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cannot(path: string): never {
	throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
}

function step(node: Json, segments: string[], index: number, path: string, source: ExpandSource): void {
	if (index >= segments.length || node === null) return;
	if (Array.isArray(node)) {
		for (const element of node) step(element, segments, index, path, source);
		return;
	}
	if (!isObject(node)) cannot(path);
	const field = segments[index];
	if (node.object === 'list' && field === 'data') {
		step(node.data, segments, index + 1, path, source);
		return;
	}
	if (!(field in node)) {
		const included = source.includable(node, field);
		if (included === undefined) cannot(path);
		node[field] = included;
	}
	const resolve = (value: Json): Json => {
		if (typeof value !== 'string') return value;
		const target = source.byId(value);
		if (!target) cannot(path);
		return target;
	};
	const value = node[field];
	if (Array.isArray(value)) node[field] = value.map(resolve);
	else if (typeof value === 'string') node[field] = resolve(value);
	else if (value !== null && !isObject(value)) cannot(path);
	step(node[field], segments, index + 1, path, source);
}

/** Expands `paths` in place on `root` (a copy the caller owns). */
export function expand(root: JsonObject, paths: readonly string[], source: ExpandSource): JsonObject {
	for (const path of paths) {
		const segments = path.split('.');
		if (segments.some((segment) => segment === '')) throw invalidRequest(`Invalid expand path: ${path}`, 'expand');
		if (segments.length > MAX_DEPTH) {
			throw invalidRequest(`You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`, 'expand');
		}
		step(root, segments, 0, path, source);
	}
	return root;
}
