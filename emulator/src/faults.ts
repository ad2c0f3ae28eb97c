/** Injected failures: what a client of Keycrate must survive (5xx, 429, lost replies, dropped sockets, slowness). */
import { compileSchema, contractPaths } from './contract';
import { invalidInput } from './errors';

export const FAULT_KINDS = ['error_500', 'error_429', 'commit_then_500', 'drop_connection', 'latency'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
	/** A contract path, or `*` for every endpoint. */
	endpoint: string;
	kind: FaultKind;
	/** Probability 0..1 that the rule fires on a matching call; 1 when omitted. */
	rate?: number;
	/** `latency` only: the delay added. */
	latency_ms?: number;
	/** `error_429` only: the Retry-After header, in seconds (1 when omitted). */
	retry_after_s?: number;
}

const faultRulesSchema = {
	type: 'object',
	required: ['rules'],
	additionalProperties: false,
	properties: {
		rules: {
			type: 'array',
			items: {
				type: 'object',
				required: ['endpoint', 'kind'],
				additionalProperties: false,
				properties: {
					endpoint: { enum: ['*', ...contractPaths] },
					kind: { enum: [...FAULT_KINDS] },
					rate: { type: 'number', minimum: 0, maximum: 1 },
					latency_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
					retry_after_s: { type: 'integer', minimum: 0, maximum: 86_400 },
				},
				if: { properties: { kind: { const: 'latency' } } },
				then: { required: ['latency_ms'] },
			},
		},
	},
};
const checkFaultRules = compileSchema(faultRulesSchema);

/** Throws INVALID_INPUT naming the offending field, e.g. `rules[0].kind: must be one of …`. */
export function parseFaultRules(body: unknown): FaultRule[] {
	const failure = checkFaultRules(body);
	if (failure) throw invalidInput(failure.field, failure.message);
	return (body as { rules: FaultRule[] }).rules;
}

export interface FaultDecision {
	/** Added delay from every `latency` rule that fired. */
	latencyMs: number;
	/** The first failing rule that fired, if any. */
	failure?: FaultRule;
}

export function decideFaults(rules: readonly FaultRule[], endpoint: string, random: () => number = Math.random): FaultDecision {
	const decision: FaultDecision = { latencyMs: 0 };
	for (const rule of rules) {
		if (rule.endpoint !== '*' && rule.endpoint !== endpoint) continue;
		if (random() >= (rule.rate ?? 1)) continue;
		if (rule.kind === 'latency') decision.latencyMs += rule.latency_ms ?? 0;
		else if (!decision.failure) decision.failure = rule;
	}
	return decision;
}
