import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { startIngest } from '../src/ingest/server.js';
import { CENSOR, createLogger, describeRedisUrl, secretScrubber, secretValues } from '../src/log.js';
import { runCli, spawnCli } from './support/ingest-cli.js';
import { SECRET_A, SECRET_B, deliver, post, sampleEvent, signatureHeader } from './support/ingest-webhooks.js';
import { startStripeFake } from '@keycrate/stripe-fake';
import { deletePrefix } from './support/redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';
import { waitFor } from './support/wait.js';

const KEYCRATE_KEY = `kc_${randomBytes(12).toString('hex')}`;
const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`;
const HANDOFF_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SECRETS = [KEYCRATE_KEY, STRIPE_KEY, HANDOFF_SECRET, SECRET_A, SECRET_B];
/** A webhook secret of some other endpoint, never configured: caught by its whsec_ shape. */
const FOREIGN_SECRET = `whsec_${randomBytes(12).toString('hex')}`;

function capture(): { stream: Writable; text(): string } {
	const chunks: string[] = [];
	const stream = new Writable({
		write(chunk: Buffer, _encoding, done) {
			chunks.push(chunk.toString('utf8'));
			done();
		},
	});
	return { stream, text: () => chunks.join('') };
}

function expectNoSecret(output: string): void {
	for (const secret of [...SECRETS, FOREIGN_SECRET]) expect(output).not.toContain(secret);
}

describe('secret scrubbing', () => {
	test('the scrubber replaces configured values and Stripe-shaped secrets; describeRedisUrl hides the password', () => {
		const scrub = secretScrubber(secretValues({ keycrateApiKey: KEYCRATE_KEY, redisUrl: 'redis://:p%40ssword1@redis:6379' }));
		expect(scrub(`key ${KEYCRATE_KEY} pw p@ssword1 and ${FOREIGN_SECRET} and rk_live_abc123`)).toBe(`key ${CENSOR} pw ${CENSOR} and ${CENSOR} and ${CENSOR}`);
		expect(describeRedisUrl('redis://user:p%40ssword1@redis:6379/0')).toBe('redis://user:***@redis:6379/0');
	});

	test("a cluster's seed list: every node's password scrubbed and hidden", () => {
		const nodes = 'redis://:clusterpw1@10.0.0.1:7000, redis://:clusterpw2@10.0.0.2:7000';
		expect(secretScrubber(secretValues({ redisUrl: nodes }))('pw clusterpw1 clusterpw2')).toBe(`pw ${CENSOR} ${CENSOR}`);
		expect(describeRedisUrl(nodes)).toBe('redis://:***@10.0.0.1:7000,redis://:***@10.0.0.2:7000');
	});

	test('logger: secret fields are redacted wherever they sit, secret values scrubbed from any text', () => {
		const config = loadConfig(
			{
				KEYCRATE_API_KEY: KEYCRATE_KEY,
				KEYCRATE_APP_ID: '6f1c1d2e-1111-4222-8333-444455556666',
				STRIPE_WEBHOOK_SECRETS: `${SECRET_A},${SECRET_B}`,
				STRIPE_API_KEY: STRIPE_KEY,
				LICENSE_WEBHOOK_URL: 'https://n8n.example.com/webhook/license',
				LICENSE_WEBHOOK_SECRET: HANDOFF_SECRET,
				LOG_LEVEL: 'trace',
			},
			'all',
		);
		const out = capture();
		const log = createLogger(config, out.stream);
		log.info({ config }, 'the whole config');
		log.info({ env: { KEYCRATE_API_KEY: KEYCRATE_KEY, STRIPE_WEBHOOK_SECRETS: SECRET_A } }, 'an env dump');
		log.warn({ req: { headers: { authorization: `Bearer ${STRIPE_KEY}`, 'x-api-key': KEYCRATE_KEY, 'stripe-signature': 't=1,v1=ab' } } }, 'a request');
		log.error({ err: new Error(`upstream said: invalid key ${KEYCRATE_KEY}`) }, 'an error quoting a key');
		log.error(`message text with ${SECRET_B}, ${HANDOFF_SECRET} and ${FOREIGN_SECRET}`);
		log.child({ options: { headers: { 'x-api-key': KEYCRATE_KEY } } }).info('a child');
		const text = out.text();
		expectNoSecret(text);
		expect(text).not.toContain('v1=ab');
		expect(text.split('\n').filter(Boolean)).toHaveLength(6);
		expect(text).toContain(CENSOR);
	});

	test('ingest: every outcome (queued, refused, stale, too large, filtered) logs without a secret', async () => {
		const prefix = uniquePrefix();
		const config = loadConfig(
			{
				REDIS_URL: SHARED_REDIS_URL,
				QUEUE_PREFIX: prefix,
				HOST: '127.0.0.1',
				PORT: '0',
				STRIPE_WEBHOOK_SECRETS: `${SECRET_A},${SECRET_B}`,
				STRIPE_LIVEMODE: 'test',
				BODY_LIMIT_BYTES: '2048',
				KEYCRATE_API_KEY: KEYCRATE_KEY,
				LOG_LEVEL: 'trace',
			},
			'ingest',
		);
		const out = capture();
		const ingest = await startIngest(config, createLogger(config, out.stream));
		try {
			expect((await deliver(ingest.url, sampleEvent(), SECRET_B)).status).toBe(200);
			expect((await deliver(ingest.url, sampleEvent(), FOREIGN_SECRET)).status).toBe(400);
			expect((await deliver(ingest.url, sampleEvent(), SECRET_A, Math.floor(Date.now() / 1000) - 1000)).status).toBe(400);
			expect((await deliver(ingest.url, sampleEvent({ livemode: true }))).status).toBe(200);
			const big = JSON.stringify({ ...sampleEvent(), padding: SECRET_A.repeat(100) });
			expect((await post(`${ingest.url}/webhooks/stripe`, big, { 'stripe-signature': signatureHeader(big, SECRET_A) })).status).toBe(413);
		} finally {
			await ingest.close();
			await deletePrefix(SHARED_REDIS_URL, prefix);
		}
		const text = out.text();
		expectNoSecret(text);
		for (const msg of ['webhook queued', 'webhook refused: no signature matches any configured signing secret', 'webhook ignored: livemode filtered']) {
			expect(text).toContain(msg);
		}
	});
});

describe('log scan of a running keycrate-worker', () => {
	let echo: Server;
	let echoed = 0;
	const prefix = uniquePrefix('kc-logs');

	beforeAll(async () => {
		// A hostile upstream: refuses every call and quotes the request's headers (API keys included) back.
		echo = createServer((req, res) => {
			echoed += 1;
			req.resume();
			const message = `invalid credentials: ${JSON.stringify(req.headers)}`;
			res.writeHead(401, { 'content-type': 'application/json' });
			// Stripe's error envelope on /v1/…, Keycrate's elsewhere.
			const stripe = (req.url ?? '').startsWith('/v1/');
			res.end(
				JSON.stringify(
					stripe ? { error: { type: 'invalid_request_error', code: 'UNAUTHORIZED', message } } : { error: message, error_code: 'INVALID_API_KEY' },
				),
			);
		});
		await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
	});

	afterAll(async () => {
		await new Promise((resolve) => echo.close(resolve));
		await deletePrefix(SHARED_REDIS_URL, prefix);
	});

	test('stdout and stderr hold no API key or signing secret, even when Stripe and Keycrate errors quote them', async () => {
		const upstream = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
		// One purchase Stripe knows (its sync reaches Keycrate, which quotes the Keycrate key back) …
		const fake = await startStripeFake({ port: 0, apiKey: STRIPE_KEY });
		const customer = fake.createCustomer({ email: 'buyer@example.com' });
		fake.createPrice({ id: 'price_logscan', unit_amount: 500, metadata: { keycrate_duration_unit: 'days', keycrate_duration_value: '30' } });
		fake.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_logscan', quantity: 1 }] });
		const env = (stripeBase: string, queuePrefix: string) => ({
			REDIS_URL: SHARED_REDIS_URL,
			QUEUE_PREFIX: queuePrefix,
			HOST: '127.0.0.1',
			PORT: '0',
			LOG_LEVEL: 'trace',
			KEYCRATE_API_URL: upstream,
			KEYCRATE_API_KEY: KEYCRATE_KEY,
			KEYCRATE_APP_ID: '6f1c1d2e-1111-4222-8333-444455556666',
			STRIPE_WEBHOOK_SECRETS: `${SECRET_A},${SECRET_B}`,
			STRIPE_API_KEY: STRIPE_KEY,
			STRIPE_API_BASE: stripeBase,
			LICENSE_WEBHOOK_URL: `${upstream}/handoff`,
			LICENSE_WEBHOOK_SECRET: HANDOFF_SECRET,
			RETRY_SCHEDULE: '50ms',
		});
		const stripePrefix = `${prefix}-stripe`;
		const runs = [spawnCli(['start'], env(fake.url, prefix)), spawnCli(['start'], env(upstream, stripePrefix))];
		try {
			const [keycrateRun, stripeRun] = runs;
			const keycrateUrl = String((await keycrateRun.waitForLog('ingest listening')).url);
			const stripeUrl = String((await stripeRun.waitForLog('ingest listening')).url);
			const purchase = fake.events().find((event) => event.type === 'checkout.session.completed');
			expect((await deliver(keycrateUrl, purchase as object, SECRET_A)).status).toBe(200);
			// … and one whose read from Stripe is refused with the Stripe key quoted back.
			expect((await deliver(stripeUrl, sampleEvent(), SECRET_B)).status).toBe(200);
			expect((await deliver(keycrateUrl, sampleEvent(), FOREIGN_SECRET)).status).toBe(400);

			const deadLetters = () =>
				runs.map(
					(run) =>
						run
							.output()
							.stdout.split('\n')
							.filter((line) => line.includes('"msg":"sync moved to the dead letters (keycrate-worker dead-letters)"')).length,
				);
			await waitFor(() => deadLetters().every((count) => count >= 1), {
				what: () => `a dead letter logged by each run: ${JSON.stringify(deadLetters())}`,
				timeoutMs: 30000,
				intervalMs: 100,
			});
			expect(deadLetters()).toEqual([1, 1]);
			expect(echoed).toBeGreaterThanOrEqual(2);

			for (const run of runs) run.child.kill('SIGTERM');
			for (const run of runs) expect(await run.exited).toBe(0);
			const everything = runs.map((run) => run.output().stdout + run.output().stderr).join('\n');
			expectNoSecret(everything);
			expect(everything).toContain('webhook refused');
			expect(everything).toContain('INVALID_API_KEY');

			// The dead-letter listings show the failure reasons (which quoted the keys) scrubbed as well.
			for (const queuePrefix of [prefix, stripePrefix]) {
				const listing = await runCli(['dead-letters'], {
					REDIS_URL: SHARED_REDIS_URL,
					QUEUE_PREFIX: queuePrefix,
					KEYCRATE_API_KEY: KEYCRATE_KEY,
					STRIPE_API_KEY: STRIPE_KEY,
				});
				expect(listing.code).toBe(0);
				expect(listing.stdout).toContain(`1 dead letter(s) in ${queuePrefix}`);
				expectNoSecret(listing.stdout + listing.stderr);
			}
		} finally {
			for (const run of runs) run.child.kill('SIGKILL');
			await fake.stop();
			await deletePrefix(SHARED_REDIS_URL, stripePrefix);
		}
	});
});
