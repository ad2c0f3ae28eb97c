// `npm run demo`: the Keycrate emulator, the Stripe fake, Redis and this worker (ingest + processor) on one
// machine, no Stripe account needed. Four customers buy, renew, cancel and get refunded on the Stripe fake,
// which delivers its events signed over HTTP, every one three times in a shuffled order; then a table of the
// licenses that resulted, each checked against what should happen.
// Everything it writes to Redis lives under its own random QUEUE_PREFIX and is deleted at the end.

import { startEmulator } from '@keycrate/emulator';
import { startStripeFake, type StripeFake } from '@keycrate/stripe-fake';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { destination } from 'pino';
import type Stripe from 'stripe';
import { loadConfig } from '../src/config.js';
import { WEBHOOK_PATH } from '../src/ingest/server.js';
import { HANDOFF_QUEUE, SYNC_QUEUE } from '../src/jobs/queues.js';
import { createLogger, describeRedisUrl } from '../src/log.js';
import type { KeycrateLicense } from '../src/model.js';
import { startWorker } from '../src/runner.js';
import { answersPing, deletePrefix, freePort, redisServerInstalled, startPrivateRedis } from '../test/support/redis-private.js';

const DRAIN_TIMEOUT_MS = 20000;
const GRACE_SECONDS = 86400;
const out = (line = '') => process.stdout.write(`${line}\n`);

/** REDIS_URL if something answers there; else a private redis-server when one is installed; else exit 1. */
async function findRedis(): Promise<string> {
	const url = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
	if (await answersPing(url)) {
		out(`Redis: using ${describeRedisUrl(url)} (the demo's keys live under their own prefix and are removed at the end)`);
		return url;
	}
	if (!redisServerInstalled()) {
		process.stderr.write(
			`demo: no Redis answers at ${describeRedisUrl(url)} and redis-server is not installed; install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL\n`,
		);
		process.exit(1);
	}
	const server = await startPrivateRedis();
	// However the demo ends (even a crash or Ctrl-C), the private server goes with it.
	process.on('exit', () => void server.stop('SIGTERM'));
	out(`Redis: nothing answered at ${describeRedisUrl(url)}, so the demo started a private redis-server on port ${server.port} (stopped at the end)`);
	return server.url;
}

/** Stands in for an n8n Webhook node: receives the signed "license created" hand-offs. */
async function startHandoffReceiver(): Promise<{ server: Server; url: string; received: string[] }> {
	const received: string[] = [];
	const server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { license_key: string; email: string | null } };
			received.push(`${body.data.email ?? '?'} ${body.data.license_key}`);
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/keycrate-license`, received };
}

async function drained(redis: Redis, prefix: string): Promise<void> {
	const queues = [SYNC_QUEUE, HANDOFF_QUEUE].map((name) => new Queue(name, { connection: redis, prefix }));
	const deadline = Date.now() + DRAIN_TIMEOUT_MS;
	try {
		for (let quiet = 0; quiet < 3;) {
			const counts = await Promise.all(queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
			const pending = counts.reduce((sum, c) => sum + c.waiting + c.active + c.delayed + c.prioritized, 0);
			quiet = pending === 0 ? quiet + 1 : 0;
			if (Date.now() > deadline) throw new Error(`the queue did not drain in ${DRAIN_TIMEOUT_MS / 1000} s`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	} finally {
		await Promise.all(queues.map((queue) => queue.close()));
	}
}

interface Expectation {
	email: string;
	story: string;
	status: 'active' | 'paused';
	/** Unix seconds, null = lifetime, 'days30' = 30 days from creation. */
	expiry: number | null | 'days30';
}

async function main(): Promise<void> {
	out('Keycrate Stripe sync worker — demo (no Stripe account needed: a local Stripe fake plays Stripe)');
	const redisUrl = await findRedis();
	const emulator = await startEmulator({ port: 0 });
	const tier = await fetch(`${emulator.url}/subscription/create`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
		body: JSON.stringify({ app_id: emulator.appId, name: 'Basic', level: 1 }),
	}).then((response) => response.json() as Promise<{ data: { subscription_id: string } }>);
	const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
	const port = await freePort();
	const stripe: StripeFake = await startStripeFake({ port: 0, webhooks: [{ url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`, secret: webhookSecret }] });
	const handoff = await startHandoffReceiver();
	const prefix = `{keycrate-demo-${randomBytes(4).toString('hex')}}`;
	out(`Keycrate emulator: ${emulator.url}   Stripe fake: ${stripe.url}   queue prefix: ${prefix}`);

	const config = loadConfig(
		{
			REDIS_URL: redisUrl,
			QUEUE_PREFIX: prefix,
			HOST: '127.0.0.1',
			PORT: String(port),
			KEYCRATE_API_URL: emulator.url,
			KEYCRATE_API_KEY: emulator.apiKey,
			KEYCRATE_APP_ID: emulator.appId,
			STRIPE_WEBHOOK_SECRETS: webhookSecret,
			STRIPE_API_KEY: stripe.apiKey,
			STRIPE_API_BASE: stripe.url,
			LICENSE_WEBHOOK_URL: handoff.url,
			LICENSE_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
			LICENSE_GRACE_SECONDS: String(GRACE_SECONDS),
			LOG_LEVEL: 'warn',
		},
		'all',
	);
	const worker = await startWorker(config, createLogger(config, destination(2)), 'all');
	const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });

	// The seller's catalogue: a 30-day license, a lifetime license, and a monthly plan in the Basic tier. Each
	// says what it buys in its own metadata (PLANS_FILE could say it instead).
	stripe.createPrice({ id: 'price_app_30d', unit_amount: 1500, metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '30' } });
	stripe.createPrice({ id: 'price_app_lifetime', unit_amount: 9900, metadata: { keycrate_duration_unit: 'lifetime' } });
	stripe.createPrice({
		id: 'price_basic_monthly',
		unit_amount: 900,
		recurring: { interval: 'month' },
		metadata: { keycrate_subscription_id: tier.data.subscription_id },
	});

	const customer = (email: string) => stripe.createCustomer({ email }).id;
	const alice = stripe.checkoutPayment({ customer: customer('alice@example.com'), lines: [{ price: 'price_app_30d', quantity: 1 }] });
	stripe.checkoutPayment({ customer: customer('dave@example.com'), lines: [{ price: 'price_app_lifetime', quantity: 1 }] });
	const bob = stripe.createSubscription({ customer: customer('bob@example.com'), items: [{ price: 'price_basic_monthly', quantity: 1 }] });
	const carol = stripe.createSubscription({ customer: customer('carol@example.com'), items: [{ price: 'price_basic_monthly', quantity: 1 }] });
	const deliverStep = async (what: string) => {
		const result = await stripe.deliver({ copies: 3, shuffleSeed: 7 });
		out(`  ${what}: ${result.sent} deliveries (each event ×3, shuffled) → HTTP ${JSON.stringify(result.byStatus)}`);
	};
	out('');
	out('Stripe sends (signed, as Stripe does):');
	await deliverStep('alice buys 30 days, dave a lifetime license, bob and carol subscribe');
	await drained(redis, prefix);
	stripe.renewSubscription(bob.subscription.id);
	stripe.cancelSubscription(carol.subscription.id);
	stripe.refund({ payment_intent: alice.payment_intent?.id as string });
	await deliverStep("bob's renewal, carol's cancellation, alice's refund");
	await drained(redis, prefix);

	const expected: Expectation[] = [
		{ email: 'alice@example.com', story: 'bought 30 days, refunded', status: 'paused', expiry: 'days30' },
		{ email: 'dave@example.com', story: 'bought a lifetime license', status: 'active', expiry: null },
		{
			email: 'bob@example.com',
			story: 'subscribed, renewed once',
			status: 'active',
			expiry: (stripe.get(bob.subscription.id) as Stripe.Subscription).items.data[0].current_period_end + GRACE_SECONDS,
		},
		{
			email: 'carol@example.com',
			story: 'subscribed, canceled',
			status: 'paused',
			expiry: (stripe.get(carol.subscription.id) as Stripe.Subscription).items.data[0].current_period_end + GRACE_SECONDS,
		},
	];
	const licenses = emulator.state().apps.flatMap((app) => app.licenses) as KeycrateLicense[];
	out('');
	out('Licenses on Keycrate:');
	let wrong = 0;
	for (const want of expected) {
		const found = licenses.filter((license) => (license.metadata as Record<string, unknown>).stripe_email === want.email);
		const license = found[0];
		const expiry = license?.expires_at ?? null;
		const expiryOk =
			want.expiry === null
				? expiry === null
				: want.expiry === 'days30'
					? expiry !== null && Date.parse(expiry) - Date.parse(license.created_at) === 30 * 86400 * 1000
					: expiry !== null && Math.floor(Date.parse(expiry) / 1000) === want.expiry;
		const ok = found.length === 1 && license.status === want.status && expiryOk;
		if (!ok) wrong += 1;
		const shown = expiry === null ? 'never (lifetime)' : expiry;
		out(
			`  ${ok ? '✓' : '✗'} ${want.email.padEnd(18)} ${String(license?.license_key ?? '(none)').padEnd(20)} ${String(license?.status ?? '').padEnd(7)} ${String(shown).padEnd(25)} ${want.story}${found.length > 1 ? ` (${found.length} licenses!)` : ''}`,
		);
	}
	const calls = emulator.calls();
	out('');
	out(
		`Licenses on Keycrate: ${licenses.length}; Keycrate writes: ${['create', 'extend', 'update-status'].map((name) => `/license/${name} ×${calls[`/license/${name}`]?.['200'] ?? 0}`).join(', ')}`,
	);
	out(`Hand-offs posted to LICENSE_WEBHOOK_URL (an n8n Keycrate Sync Trigger would email the key): ${handoff.received.length}`);
	out(wrong === 0 && licenses.length === expected.length ? 'All as expected.' : `${wrong} license(s) not as expected.`);

	await worker.close();
	await deletePrefix(redisUrl, prefix);
	redis.disconnect();
	await Promise.all([emulator.stop(), stripe.stop(), new Promise((resolve) => handoff.server.close(resolve))]);
	process.exit(wrong === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
	process.stderr.write(`demo: ${(error as Error).message}\n`);
	process.exit(1);
});
