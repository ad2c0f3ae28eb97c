// The worker's logger: pino, JSON lines, with the structured fields every module uses (eventId, eventType,
// root, licenseKey). Secrets are kept out twice: `redact` blanks every field a secret could sit in, and the
// stream hook scrubs the configured secret values (and anything shaped like a Stripe secret) from whatever
// text still reaches the output, e.g. an error message that quoted a header.

import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

export const CENSOR = '[Redacted]';

/** Field names that hold credentials: config fields, env names, HTTP headers, generic names. */
const SECRET_FIELDS = [
	'keycrateApiKey',
	'stripeWebhookSecrets',
	'stripeApiKey',
	'licenseWebhookSecret',
	'redisUrl',
	'adminToken',
	'metricsToken',
	'KEYCRATE_API_KEY',
	'STRIPE_WEBHOOK_SECRETS',
	'STRIPE_API_KEY',
	'LICENSE_WEBHOOK_SECRET',
	'REDIS_URL',
	'apiKey',
	'api_key',
	'secret',
	'secrets',
	'password',
	'token',
	'authorization',
	'cookie',
	'set-cookie',
	'x-api-key',
	'stripe-signature',
	'x-keycrate-signature',
];

/** `field`, `*.field` and `*.*.field` for each secret field: covers `config.x`, `req.headers.x`, `err.options.headers.x`. */
export function redactPaths(): string[] {
	const paths: string[] = [];
	for (const field of SECRET_FIELDS) {
		const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
		const dotted = key.startsWith('[') ? key : `.${key}`;
		paths.push(key.startsWith('[') ? key : field, `*${dotted}`, `*.*${dotted}`, `*.*.*${dotted}`);
	}
	return paths;
}

/** Shapes of Stripe credentials, scrubbed even when no configured value matches (e.g. another endpoint's secret). */
const SECRET_SHAPES = /\b(?:whsec|sk_live|sk_test|rk_live|rk_test)_[A-Za-z0-9+/=_-]+/g;

/** The secret values of a config: API keys, signing secrets, and a password inside REDIS_URL. */
export function secretValues(config: Partial<Config>): string[] {
	const values = [
		config.keycrateApiKey,
		config.stripeApiKey,
		config.licenseWebhookSecret,
		config.adminToken,
		config.metricsToken,
		...(config.stripeWebhookSecrets ?? []),
	];
	// A cluster's REDIS_URL lists its seed nodes, comma-separated: each may carry the password.
	for (const node of config.redisUrl?.split(',') ?? []) {
		try {
			const password = new URL(node.trim()).password;
			if (password !== '') values.push(decodeURIComponent(password), password);
		} catch {
			// An unparsable URL was refused by loadConfig already; nothing to add.
		}
	}
	// Very short values would blank ordinary words; the config refuses such secrets anyway.
	return values.filter((value): value is string => value !== undefined && value.length >= 6);
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns a function that replaces every secret in a line of output by the censor. */
export function secretScrubber(secrets: string[]): (line: string) => string {
	const known = secrets.length === 0 ? undefined : new RegExp(secrets.map(escapeRegExp).join('|'), 'g');
	return (line) => {
		const scrubbed = known === undefined ? line : line.replace(known, CENSOR);
		return scrubbed.replace(SECRET_SHAPES, CENSOR);
	};
}

/** REDIS_URL without its password(s), for log lines and messages. */
export function describeRedisUrl(redisUrl: string): string {
	return redisUrl
		.split(',')
		.map((node) => {
			try {
				const url = new URL(node.trim());
				if (url.password !== '') url.password = '***';
				return url.toString();
			} catch {
				return 'redis://?';
			}
		})
		.join(',');
}

export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Config>, destination?: DestinationStream): Logger {
	const scrub = secretScrubber(secretValues(config));
	return pino(
		{
			name: 'keycrate-worker',
			level: config.logLevel,
			redact: { paths: redactPaths(), censor: CENSOR },
			hooks: { streamWrite: scrub },
		},
		destination,
	);
}

/** The fields that tie a log line to a Stripe event. */
export function eventFields(event: { id: string; type: string }): { eventId: string; eventType: string } {
	return { eventId: event.id, eventType: event.type };
}
