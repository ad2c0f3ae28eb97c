#!/usr/bin/env node
/** `stripe-fake [--port 12111] [--host H] [--api-key sk_test_…] [--webhook-url URL]… [--webhook-secret whsec_…] [--auto-deliver]` */
import { exitOnUsageError, parseFlags, runMain, stopOnSignals, UsageError } from '@keycrate/http-kit';
import { FakeUsageError } from './errors';
import { startStripeFake, type StripeFakeOptions } from './fake';
import { newWebhookSecret } from './ids';

const USAGE = 'usage: stripe-fake [--port N] [--host H] [--api-key sk_test_…] [--webhook-url URL]… [--webhook-secret whsec_…] [--auto-deliver]';

export { UsageError };

export interface CliOptions extends StripeFakeOptions {
	help: boolean;
	/** True when the secret was generated here (then it is printed: it is how a user learns it). */
	generatedSecret: boolean;
}

/** Flags win over the environment; anything unusable is a UsageError with one clear line. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
	const { values } = parseFlags(argv, {
		port: { type: 'string' },
		host: { type: 'string' },
		'api-key': { type: 'string' },
		'webhook-url': { type: 'string', multiple: true },
		'webhook-secret': { type: 'string' },
		'auto-deliver': { type: 'boolean' },
		help: { type: 'boolean', short: 'h' },
	});
	const portText = values.port ?? env.STRIPE_FAKE_PORT ?? '12111';
	if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${portText}"`);
	const urls = values['webhook-url'] ?? (env.STRIPE_FAKE_WEBHOOK_URL ? [env.STRIPE_FAKE_WEBHOOK_URL] : []);
	const givenSecret = values['webhook-secret'] ?? env.STRIPE_FAKE_WEBHOOK_SECRET;
	if (givenSecret !== undefined && urls.length === 0) throw new UsageError('--webhook-secret needs --webhook-url');
	const secret = givenSecret ?? newWebhookSecret();
	return {
		help: values.help ?? false,
		port: Number(portText),
		host: values.host ?? '127.0.0.1',
		apiKey: values['api-key'] ?? env.STRIPE_FAKE_API_KEY,
		webhooks: urls.map((url) => ({ url, secret })),
		autoDeliver: values['auto-deliver'] ?? false,
		generatedSecret: givenSecret === undefined && urls.length > 0,
	};
}

async function main(): Promise<void> {
	let options: CliOptions;
	try {
		options = parseCli(process.argv.slice(2), process.env);
	} catch (error) {
		exitOnUsageError('stripe-fake', USAGE, error);
	}
	if (options.help) {
		process.stdout.write(
			`${USAGE}\nenv: STRIPE_FAKE_PORT, STRIPE_FAKE_API_KEY, STRIPE_FAKE_WEBHOOK_URL, STRIPE_FAKE_WEBHOOK_SECRET\nadmin: POST/GET ${'/__fake/'}<call> from loopback (see README)\n`,
		);
		return;
	}
	let fake;
	try {
		fake = await startStripeFake(options);
	} catch (error) {
		// The fake's own checks of its options (a webhook URL, a key) are usage mistakes too.
		exitOnUsageError('stripe-fake', USAGE, error instanceof FakeUsageError ? new UsageError(error.message) : error);
	}
	// A local test-mode key for a fake: printing it is how a user points a client at the fake.
	const lines = [`Stripe fake listening on ${fake.url}`, `STRIPE_API_BASE=${fake.url}`, `STRIPE_API_KEY=${fake.apiKey}`];
	for (const webhook of fake.webhooks) lines.push(`webhook: ${webhook.url}${options.autoDeliver ? ' (auto-deliver)' : ''}`);
	if (options.generatedSecret) lines.push(`STRIPE_WEBHOOK_SECRETS=${fake.webhooks[0].secret}`);
	process.stdout.write(`${lines.join('\n')}\n`);
	stopOnSignals(fake);
}

if (require.main === module) runMain('stripe-fake', main);
