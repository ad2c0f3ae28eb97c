// `npm run demo`: a Keycrate emulator, Redis, and this worker (ingest + processor) on one machine; a signed
// sequence of Stripe webhooks over HTTP (purchases, a renewal, a duplicate, an out-of-order event, a
// cancellation, a refund); then a table of the licenses that resulted, checked against what should happen.
// Everything it writes to Redis lives under its own random QUEUE_PREFIX and is deleted at the end.

import { startEmulator, type Emulator } from '@keycrate/emulator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination } from 'pino';
import { loadConfig, type Config } from './config.js';
import { createLogger, describeRedisUrl } from './log.js';
import type { KeycrateLicense } from './model.js';
import { EVENTS_QUEUE, HANDOFF_QUEUE } from './queue.js';
import { answersPing, deletePrefix, redisServerInstalled, startPrivateRedis, type PrivateRedis } from './redis-private.js';
import { startWorker, type RunningWorker } from './runner.js';
import { WEBHOOK_PATH } from './ingest/server.js';
import {
	chargeRefunded,
	checkoutSessionCompleted,
	DAY,
	invoicePaid,
	nowSeconds,
	signEvent,
	stripeId,
	stripePrice,
	subscriptionEvent,
	type BuiltPrice,
} from './stripe/example-events.js';
import type { StripeEvent, SubscriptionStatus } from './stripe/types.js';

const DRAIN_TIMEOUT_MS = 15000;
const out = (line = '') => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------- Redis

interface DemoRedis {
	url: string;
	private?: PrivateRedis;
}

/** REDIS_URL if something answers there; else a private redis-server when one is installed; else null. */
async function findRedis(): Promise<DemoRedis | null> {
	const url = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
	if (await answersPing(url)) {
		out(`Redis: using ${describeRedisUrl(url)} (the demo's keys live under their own prefix and are removed at the end)`);
		return { url };
	}
	if (!redisServerInstalled()) return null;
	const server = await startPrivateRedis();
	// However the demo ends (even a crash or Ctrl-C), the private server goes with it.
	process.on('exit', () => void server.stop('SIGTERM'));
	out(`Redis: nothing answered at ${describeRedisUrl(url)}, so the demo started a private redis-server on port ${server.port} (stopped at the end)`);
	return { url: server.url, private: server };
}

// ------------------------------------------------------------------------------------------ hand-offs

/** Stands in for an n8n Webhook node: receives the signed "license created" posts and counts them. */
async function startHandoffReceiver(): Promise<{ server: Server; url: string; received: Array<Record<string, unknown>> }> {
	const received: Array<Record<string, unknown>> = [];
	const server = createHttpServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/keycrate-license`, received };
}

// ------------------------------------------------------------------------------------------ delivery

function postWebhook(url: string, payload: string, signature: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature } }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
		});
		req.on('error', reject);
		req.end(payload);
	});
}

/** Waits until no event or hand-off job is waiting, delayed or running. */
async function drained(queues: Queue[]): Promise<void> {
	const deadline = Date.now() + DRAIN_TIMEOUT_MS;
	for (;;) {
		const counts = await Promise.all(queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused')));
		if (counts.every((count) => Object.values(count).every((n) => n === 0))) return;
		if (Date.now() > deadline) throw new Error(`the queue did not drain within ${DRAIN_TIMEOUT_MS / 1000} s: ${JSON.stringify(counts)}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

// ------------------------------------------------------------------------------------------ the story

interface Step {
	title: string;
	events: StripeEvent[];
}

interface Buyer {
	customer: string;
	email: string;
	name: string;
}

interface OneOffPurchase {
	buyer: Buyer;
	session: string;
	paymentIntent: string;
	charge: string;
	amount: number;
	/** keycrate_* metadata the seller put on the Checkout Session: what one purchase buys. */
	metadata: Record<string, string>;
}

interface SubscriptionPurchase {
	buyer: Buyer;
	session: string;
	subscription: string;
	item: string;
	price: BuiltPrice;
}

interface Period {
	start: number;
	end: number;
}

interface Expectation {
	buyer: Buyer;
	origin: string;
	story: string;
	status: 'active' | 'paused';
	/** Unix seconds; null = lifetime; undefined = not checked (a one-off's expiry counts from its creation). */
	expiresAt?: number | null;
}

/** A Stripe id cut to fit the table: `sub_1K0wbLyg…`. */
function short(id: string): string {
	return `${id.slice(0, id.indexOf('_') + 9)}…`;
}

function buyer(name: string): Buyer {
	return { customer: stripeId('cus', 14), email: `${name.toLowerCase()}@example.com`, name };
}

function oneOff(person: Buyer, amount: number, metadata: Record<string, string>): OneOffPurchase {
	return { buyer: person, session: stripeId('cs_test_a1', 56), paymentIntent: stripeId('pi'), charge: stripeId('ch'), amount, metadata };
}

// The story's events, from the shared example builders (current API shape). Each names the same buyer,
// session, subscription and item throughout, as Stripe would.

/** checkout.session.completed, mode payment, paid. Webhooks carry no line items: the session metadata says what was bought. */
function oneOffCheckoutCompleted(purchase: OneOffPurchase, created: number): StripeEvent {
	const { buyer: person, session, paymentIntent, metadata, amount } = purchase;
	// A Buyer is exactly the session's customer, email and name.
	return checkoutSessionCompleted({ ...person, id: session, mode: 'payment', paymentIntent, metadata, amountTotal: amount, created });
}

/** charge.refunded for the whole amount of a one-off purchase. */
function refundedInFull(purchase: OneOffPurchase, created: number): StripeEvent {
	return chargeRefunded({ id: purchase.charge, customer: purchase.buyer.customer, paymentIntent: purchase.paymentIntent, amount: purchase.amount, created });
}

/** checkout.session.completed, mode subscription: links the buyer to the new subscription. */
function subscriptionCheckoutCompleted(purchase: SubscriptionPurchase, created: number): StripeEvent {
	const { buyer: person, session, subscription, price } = purchase;
	return checkoutSessionCompleted({ ...person, id: session, mode: 'subscription', subscription, amountTotal: price.unit_amount, created });
}

/** customer.subscription.created|updated|deleted; the current period sits on the item (current API shape). */
function subscriptionChanged(
	kind: 'created' | 'updated' | 'deleted',
	purchase: SubscriptionPurchase,
	period: Period,
	status: SubscriptionStatus,
	created: number,
	previousAttributes?: Record<string, unknown>,
): StripeEvent {
	return subscriptionEvent(kind, {
		id: purchase.subscription,
		customer: purchase.buyer.customer,
		status,
		items: [{ id: purchase.item, price: purchase.price }],
		periodStart: period.start,
		periodEnd: period.end,
		created,
		previousAttributes,
	});
}

/** invoice.paid for one period of a subscription (the first one, or a renewal). */
function periodPaid(purchase: SubscriptionPurchase, period: Period, billingReason: 'subscription_create' | 'subscription_cycle', created: number): StripeEvent {
	return invoicePaid({
		subscription: purchase.subscription,
		customer: purchase.buyer.customer,
		email: purchase.buyer.email,
		lines: [{ price: purchase.price, subscriptionItem: purchase.item, periodStart: period.start, periodEnd: period.end }],
		billingReason,
		created,
	});
}

function story(now: number, priceId: string, graceSeconds: number): { steps: Step[]; expected: Expectation[] } {
	const price = stripePrice({ id: priceId, unitAmount: 1900, recurring: { interval: 'month' } });
	const alice = oneOff(buyer('Alice'), 4900, { keycrate_duration_unit: 'years', keycrate_duration_value: '1' });
	const dave = oneOff(buyer('Dave'), 14900, { keycrate_duration_unit: 'lifetime' });
	const subscriber = (person: Buyer): SubscriptionPurchase => ({
		buyer: person,
		session: stripeId('cs_test_b1', 56),
		subscription: stripeId('sub'),
		item: stripeId('si', 14),
		price,
	});
	const bob = subscriber(buyer('Bob'));
	const carol = subscriber(buyer('Carol'));

	// Bob subscribed a month and an hour ago, so his first period ended an hour ago and renewed then.
	const bobStart = now - 30 * DAY - 3600;
	const bobFirst = { start: bobStart, end: bobStart + 30 * DAY };
	const bobSecond = { start: bobFirst.end, end: bobFirst.end + 30 * DAY };
	const bobRenewal = periodPaid(bob, bobSecond, 'subscription_cycle', bobSecond.start + 60);
	// Carol subscribed ten days ago, changed something five days ago, and cancels now.
	const carolStart = now - 10 * DAY;
	const carolPeriod = { start: carolStart, end: carolStart + 30 * DAY };
	const carolOlderUpdate = subscriptionChanged('updated', carol, carolPeriod, 'active', carolStart + 5 * DAY, { metadata: {} });

	const steps: Step[] = [
		{ title: 'Alice buys a 1-year license (one-off Checkout, mode payment)', events: [oneOffCheckoutCompleted(alice, now - 7200)] },
		{ title: 'Dave buys a lifetime license (one-off Checkout)', events: [oneOffCheckoutCompleted(dave, now - 7000)] },
		{
			title: 'Bob subscribes to Pro monthly (a month ago): Checkout + subscription created + first invoice paid',
			events: [
				subscriptionCheckoutCompleted(bob, bobStart + 2),
				subscriptionChanged('created', bob, bobFirst, 'active', bobStart + 1),
				periodPaid(bob, bobFirst, 'subscription_create', bobStart + 3),
			],
		},
		{
			title: 'Carol subscribes to Pro monthly (ten days ago)',
			events: [
				subscriptionCheckoutCompleted(carol, carolStart + 2),
				subscriptionChanged('created', carol, carolPeriod, 'active', carolStart + 1),
				periodPaid(carol, carolPeriod, 'subscription_create', carolStart + 3),
			],
		},
		{
			title: "Bob's subscription renews: subscription updated + invoice paid for the next period",
			events: [subscriptionChanged('updated', bob, bobSecond, 'active', bobSecond.start + 30, { items: {} }), bobRenewal],
		},
		{ title: "Stripe delivers Bob's renewal invoice.paid AGAIN (same event id: a duplicate)", events: [bobRenewal] },
		{ title: 'Carol cancels (customer.subscription.deleted)', events: [subscriptionChanged('deleted', carol, carolPeriod, 'canceled', now - 600)] },
		{ title: "An OLDER event for Carol arrives late (updated, status active, from five days ago)", events: [carolOlderUpdate] },
		{ title: "Alice's purchase is refunded in full (charge.refunded)", events: [refundedInFull(alice, now - 300)] },
	];
	const expected: Expectation[] = [
		{ buyer: alice.buyer, origin: `one-off ${short(alice.paymentIntent)}`, story: 'refunded', status: 'paused' },
		{ buyer: dave.buyer, origin: `one-off ${short(dave.paymentIntent)}`, story: 'kept', status: 'active', expiresAt: null },
		{ buyer: bob.buyer, origin: `subscription ${short(bob.subscription)}`, story: 'renewed (+ a duplicate)', status: 'active', expiresAt: bobSecond.end + graceSeconds },
		{ buyer: carol.buyer, origin: `subscription ${short(carol.subscription)}`, story: 'canceled (+ a late older event)', status: 'paused', expiresAt: carolPeriod.end + graceSeconds },
	];
	return { steps, expected };
}

// ------------------------------------------------------------------------------------------ reporting

function table(rows: string[][]): string[] {
	const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
	return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

function describeExpiry(license: KeycrateLicense): string {
	if (license.expires_at === null) return 'never (lifetime)';
	return license.expires_at.slice(0, 16).replace('T', ' ');
}

/** Checks one license against the story; returns what is wrong, or undefined. */
function mismatch(license: KeycrateLicense | undefined, expected: Expectation): string | undefined {
	if (license === undefined) return 'no license';
	if (license.status !== expected.status) return `status ${license.status}, expected ${expected.status}`;
	if (expected.expiresAt === null && license.expires_at !== null) return `expires ${license.expires_at}, expected never`;
	if (typeof expected.expiresAt === 'number') {
		const actual = license.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(license.expires_at) / 1000;
		if (Math.abs(actual - expected.expiresAt) > 2) return `expires ${license.expires_at}, expected ${new Date(expected.expiresAt * 1000).toISOString()}`;
	}
	return undefined;
}

function callSummary(emulator: Emulator): string {
	const totals: Record<string, number> = {};
	for (const [path, byOutcome] of Object.entries(emulator.calls())) {
		totals[path] = Object.values(byOutcome).reduce((sum, n) => sum + n, 0);
	}
	return Object.entries(totals)
		.sort(([a], [b]) => a.localeCompare(b))
		.map(([path, n]) => `${path} ×${n}`)
		.join(', ');
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<number> {
	const started = Date.now();
	out('Keycrate Stripe sync — demo');
	out('');
	const redis = await findRedis();
	if (redis === null) {
		const url = describeRedisUrl(process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379');
		process.stderr.write(
			`demo: no Redis answers at ${url} and redis-server is not installed; install Redis (apt-get install redis-server, brew install redis) or run "docker run -p 6379:6379 redis:7", or set REDIS_URL\n`,
		);
		return 1;
	}

	const emulator = await startEmulator({ port: 0 });
	const receiver = await startHandoffReceiver();
	const dir = mkdtempSync(join(tmpdir(), 'keycrate-demo-'));
	const priceId = stripeId('price');
	const plansFile = join(dir, 'plans.json');
	writeFileSync(plansFile, `${JSON.stringify({ [priceId]: { duration_unit: 'months', duration_value: 1 } }, null, 2)}\n`);
	const secret = `whsec_${randomBytes(24).toString('base64url')}`;
	const prefix = `{keycrate-demo-${randomBytes(4).toString('hex')}}`;
	const config: Config = loadConfig(
		{
			REDIS_URL: redis.url,
			QUEUE_PREFIX: prefix,
			KEYCRATE_API_URL: emulator.url,
			KEYCRATE_API_KEY: emulator.apiKey,
			KEYCRATE_APP_ID: emulator.appId,
			STRIPE_WEBHOOK_SECRETS: secret,
			PLANS_FILE: plansFile,
			LICENSE_WEBHOOK_URL: receiver.url,
			LICENSE_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
			HOST: '127.0.0.1',
			PORT: '0',
			JOB_BACKOFF_MS: '200',
			LOG_LEVEL: 'info',
		},
		'all',
	);
	const logFile = join(dir, 'worker.log');
	const log = createLogger(config, destination({ dest: logFile, sync: true }));

	let worker: RunningWorker | undefined;
	const inspect = new Redis(redis.url, { maxRetriesPerRequest: null });
	const queues = [EVENTS_QUEUE, HANDOFF_QUEUE].map((name) => new Queue(name, { connection: inspect, prefix }));
	try {
		worker = await startWorker(config, log, 'all');
		const webhookUrl = `${worker.ingest?.url}${WEBHOOK_PATH}`;
		out(`Keycrate emulator: ${emulator.url}   worker: ${webhookUrl}   queue prefix: ${prefix}`);
		out(`PLANS_FILE: ${plansFile} maps the Pro price to 1 month; one-off sessions say what they sell in keycrate_* metadata`);
		out('');

		const now = nowSeconds();
		const { steps, expected } = story(now, priceId, config.graceSeconds);
		for (const [index, step] of steps.entries()) {
			out(`${index + 1}. ${step.title}`);
			for (const event of step.events) {
				// Each delivery is signed afresh, as Stripe does for a retry: same body, new timestamp.
				const { body, header } = signEvent(event, secret);
				const answer = await postWebhook(webhookUrl, body, header);
				out(`     ${event.type.padEnd(36)} ${event.id}  → HTTP ${answer.status} ${answer.body}`);
				if (answer.status !== 200) throw new Error(`the ingest refused ${event.id}: ${answer.status} ${answer.body}`);
			}
			await drained(queues);
		}

		const failed = await queues[0].getFailed();
		const licenses = emulator.state().apps.find((app) => app.app_id === emulator.appId)?.licenses ?? [];
		const byEmail = (email: string) => licenses.filter((license) => license.metadata.stripe_email === email);

		out('');
		out('What happened to each license (read back from the Keycrate emulator):');
		out('');
		const rows = [['', 'BUYER', 'LICENSE KEY', 'STATUS', 'EXPIRES (UTC)', 'ORIGIN', 'WHAT HAPPENED']];
		const problems: string[] = [];
		for (const expectation of expected) {
			const found = byEmail(expectation.buyer.email);
			const license = found[0];
			const wrong = found.length > 1 ? `${found.length} licenses, expected 1` : mismatch(license, expectation);
			if (wrong !== undefined) problems.push(`${expectation.buyer.email}: ${wrong}`);
			rows.push([
				wrong === undefined ? '✓' : '✗',
				expectation.buyer.email,
				license?.license_key ?? '-',
				license?.status ?? '-',
				license === undefined ? '-' : describeExpiry(license),
				expectation.origin,
				wrong === undefined ? expectation.story : `${expectation.story} — WRONG: ${wrong}`,
			]);
		}
		for (const line of table(rows)) out(`  ${line}`);
		out('');
		out(`Licenses on Keycrate: ${licenses.length} (one per purchase or subscription). Keycrate calls: ${callSummary(emulator)}`);
		out(`Hand-offs posted to LICENSE_WEBHOOK_URL (an n8n Webhook node would email the key): ${receiver.received.length}`);
		if (failed.length > 0) problems.push(`${failed.length} event(s) in the dead-letter set: ${failed.map((job) => `${job.id} ${job.failedReason}`).join('; ')}`);
		if (licenses.length !== expected.length) problems.push(`${licenses.length} licenses on Keycrate, expected ${expected.length}`);

		out('');
		out('What you just saw:');
		out('  • Every delivery was verified against its Stripe-Signature, queued in Redis (job id = event id) and answered 200.');
		out('  • Purchases created exactly one license each, tagged and with metadata linking it to the Stripe customer,');
		out('    email, session, payment intent and subscription; each new license was handed off once.');
		out(`  • The renewal moved Bob's expiry to the end of the paid period plus ${config.graceSeconds / 3600} h of grace (LICENSE_GRACE_SECONDS);`);
		out('    its duplicate changed nothing: expiries converge on a target instead of adding days.');
		out("  • Carol's cancellation paused her license; the older 'active' event that arrived after it did not undo that,");
		out('    because the newest Stripe event time wins, whatever the delivery order.');
		out("  • The full refund paused Alice's license; Dave's purchase, not refunded, stays active.");
		out(`  • Worker log (JSON lines): ${logFile}`);
		out('');
		if (problems.length > 0) {
			for (const problem of problems) process.stderr.write(`demo: unexpected: ${problem}\n`);
			return 1;
		}
		out(`All as expected. Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
		return 0;
	} finally {
		await worker?.close();
		await Promise.all(queues.map((queue) => queue.close()));
		await inspect.quit();
		await deletePrefix(redis.url, prefix);
		await emulator.stop();
		await new Promise((resolve) => receiver.server.close(resolve));
		await redis.private?.stop('SIGTERM');
	}
}

// Output piped into `head` must not crash the demo halfway through its cleanup.
process.stdout.on('error', () => undefined);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`demo: failed: ${(error as Error).message}\n`);
		process.exit(1);
	},
);
