// Bounds on what a webhook body may be, checked before anything is acknowledged: an event that could never be
// processed must be refused with a 4xx now (Stripe shows it in the dashboard), not acknowledged and then fail
// in every attempt, and never answered 5xx (Stripe would retry it for days).

/** Stripe's objects nest about ten levels deep with expansions; anything near this is not a Stripe event. */
export const MAX_JSON_DEPTH = 64;

export type PayloadProblem = { reason: 'too_deep' | 'invalid_text'; message: string };

const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Nesting depth of a JSON text, by a linear scan that never recurses (a parser or a walk could overflow). */
export function jsonDepthExceeds(body: Buffer, maxDepth = MAX_JSON_DEPTH): boolean {
	let depth = 0;
	let inString = false;
	for (let index = 0; index < body.length; index++) {
		const byte = body[index];
		if (inString) {
			if (byte === BACKSLASH) index++;
			else if (byte === QUOTE) inString = false;
		} else if (byte === QUOTE) inString = true;
		else if (OPEN.has(byte)) {
			if (++depth > maxDepth) return true;
		} else if (CLOSE.has(byte)) depth--;
	}
	return false;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body's problem, or undefined: bytes that are not UTF-8, or nesting deeper than MAX_JSON_DEPTH. */
export function checkRawPayload(body: Buffer): PayloadProblem | undefined {
	try {
		UTF8.decode(body);
	} catch {
		return { reason: 'invalid_text', message: 'the body is not valid UTF-8' };
	}
	if (jsonDepthExceeds(body)) return { reason: 'too_deep', message: `the JSON nests deeper than ${MAX_JSON_DEPTH} levels` };
	return undefined;
}

/** A string in the parsed event that no text store can keep (a lone UTF-16 surrogate such as "\ud800"). */
export function checkParsedText(value: unknown, path = '$', depth = 0): PayloadProblem | undefined {
	if (typeof value === 'string') {
		return value.isWellFormed() ? undefined : { reason: 'invalid_text', message: `${path} holds a lone UTF-16 surrogate` };
	}
	if (typeof value !== 'object' || value === null || depth > MAX_JSON_DEPTH) return undefined;
	for (const [key, child] of Object.entries(value)) {
		if (!key.isWellFormed()) return { reason: 'invalid_text', message: `a key under ${path} holds a lone UTF-16 surrogate` };
		const problem = checkParsedText(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
		if (problem) return problem;
	}
	return undefined;
}
