import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config.js';
import { clusterNodes, connectRedis } from '../src/redis.js';

const GOOD: Record<string, string> = {
	KEYCRATE_API_KEY: 'kc_config_test_0123456789',
	KEYCRATE_APP_ID: '6f1c1d2e-1111-4222-8333-444455556666',
	STRIPE_WEBHOOK_SECRETS: 'whsec_config_test_a,whsec_config_test_b',
	STRIPE_API_KEY: 'rk_test_config_0123456789',
};

const dir = mkdtempSync(join(tmpdir(), 'kc-config-'));
function plansFile(name: string, content: string): string {
	const path = join(dir, name);
	writeFileSync(path, content);
	return path;
}

function errorOf(env: Record<string, string>, role: 'all' | 'ingest' | 'process' | 'inspect' = 'all'): ConfigError {
	try {
		loadConfig({ ...GOOD, ...env }, role);
	} catch (error) {
		if (error instanceof ConfigError) return error;
		throw error;
	}
	throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
	test('defaults', () => {
		const config = loadConfig(GOOD, 'all');
		expect(config).toMatchObject({
			redisUrl: 'redis://127.0.0.1:6379',
			queuePrefix: '{keycrate}',
			keycrateApiUrl: 'https://api.keycrate.dev',
			keycrateTimeoutMs: 10000,
			stripeWebhookSecrets: ['whsec_config_test_a', 'whsec_config_test_b'],
			stripeToleranceSeconds: 300,
			livemode: 'both',
			plans: {},
			port: 3000,
			host: '0.0.0.0',
			bodyLimitBytes: 1048576,
			workerConcurrency: 10,
			retryScheduleMs: [10000, 60000, 300000, 1800000, 7200000, 21600000, 43200000, 86400000],
			jobLockMs: 15000,
			shutdownTimeoutMs: 10000,
			maxSeatsPerRoot: 100,
			headersTimeoutMs: 5000,
			bodyTimeoutMs: 10000,
			stripeRateLimit: 20,
			graceSeconds: 86400,
			pastDueStatus: 'active',
			licenseTag: 'stripe',
			logLevel: 'info',
		});
		expect(config.stripeApiBase).toBeUndefined();
		expect(config.licenseWebhookUrl).toBeUndefined();
	});

	test('roles: ingest needs no Keycrate settings, process no webhook secrets, inspect neither', () => {
		expect(loadConfig({ STRIPE_WEBHOOK_SECRETS: 'whsec_x1' }, 'ingest').keycrateApiKey).toBe('');
		expect(
			loadConfig({ KEYCRATE_API_KEY: GOOD.KEYCRATE_API_KEY, KEYCRATE_APP_ID: GOOD.KEYCRATE_APP_ID, STRIPE_API_KEY: GOOD.STRIPE_API_KEY }, 'process')
				.stripeWebhookSecrets,
		).toEqual([]);
		expect(errorOf({ STRIPE_API_KEY: '' }, 'process').variable).toBe('STRIPE_API_KEY');
		expect(loadConfig({ QUEUE_PREFIX: '{mine}' }, 'inspect').queuePrefix).toBe('{mine}');
		expect(errorOf({ KEYCRATE_API_KEY: '' }, 'process').variable).toBe('KEYCRATE_API_KEY');
		expect(errorOf({ STRIPE_WEBHOOK_SECRETS: '' }, 'ingest').variable).toBe('STRIPE_WEBHOOK_SECRETS');
	});

	test.each([
		[{ KEYCRATE_API_KEY: '' }, 'KEYCRATE_API_KEY: is required (the Keycrate API key, kc_…)'],
		[{ KEYCRATE_API_KEY: 'sk_live_wrongkind' }, 'KEYCRATE_API_KEY: must start with kc_ (a Keycrate API key)'],
		[{ KEYCRATE_APP_ID: '' }, 'KEYCRATE_APP_ID: is required (the Keycrate app id licenses are created in)'],
		[{ STRIPE_API_KEY: '' }, 'STRIPE_API_KEY: is required (a Stripe secret or restricted key with read access, sk_… or rk_…)'],
		[{ STRIPE_API_KEY: 'pk_test_publishable' }, 'STRIPE_API_KEY: must be a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_live_…, rk_test_…)'],
		[{ STRIPE_RATE_LIMIT: '-1' }, 'STRIPE_RATE_LIMIT: must be a whole number, got "-1"'],
		[{ MAX_SEATS_PER_ROOT: '0' }, 'MAX_SEATS_PER_ROOT: must be between 1 and 100000, got 0'],
		[{ MAX_SEATS_PER_ROOT: '0x10' }, 'MAX_SEATS_PER_ROOT: must be a whole number, got "0x10"'],
		[{ HEADERS_TIMEOUT_MS: '50' }, 'HEADERS_TIMEOUT_MS: must be between 100 and 120000, got 50'],
		[{ BODY_TIMEOUT_MS: '1e4' }, 'BODY_TIMEOUT_MS: must be a whole number, got "1e4"'],
		[{ SHUTDOWN_TIMEOUT_MS: 'soon' }, 'SHUTDOWN_TIMEOUT_MS: must be a whole number, got "soon"'],
		[{ RETRY_SCHEDULE: '10s,,1m' }, 'RETRY_SCHEDULE: "" is not a delay: use a whole number and ms, s, m, h or d (e.g. 30s)'],
		[{ RETRY_SCHEDULE: '1.5m' }, 'RETRY_SCHEDULE: "1.5m" is not a delay: use a whole number and ms, s, m, h or d (e.g. 30s)'],
		[{ KEYCRATE_APP_ID: '1234' }, 'KEYCRATE_APP_ID: must be a uuid'],
		[{ STRIPE_WEBHOOK_SECRETS: ' , ' }, 'STRIPE_WEBHOOK_SECRETS: is required (comma-separated whsec_… signing secrets)'],
		[{ STRIPE_WEBHOOK_SECRETS: 'whsec_ok,plainsecret' }, 'STRIPE_WEBHOOK_SECRETS: entry 2 must start with whsec_'],
		[{ QUEUE_PREFIX: 'kc{tag}' }, 'QUEUE_PREFIX: a hash tag must open the prefix, e.g. {keycrate}'],
		[{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL: must start with redis:// or rediss://'],
		[{ REDIS_URL: 'redis://127.0.0.1:7000,redis://127.0.0.1:7001' }, 'REDIS_URL: names several nodes: set REDIS_CLUSTER=true for a Redis Cluster'],
		[{ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:7000,127.0.0.1:7001' }, 'REDIS_URL: must start with redis:// or rediss://'],
		[
			{ REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'keycrate' },
			'QUEUE_PREFIX: on a Redis Cluster (REDIS_CLUSTER=true) the prefix must open with a hash tag, e.g. {keycrate}, so that every key of a queue is in one slot',
		],
		[{ REDIS_CLUSTER: 'yes' }, 'REDIS_CLUSTER: must be one of true, false, got "yes"'],
		[{ KEYCRATE_API_URL: 'api.keycrate.dev' }, 'KEYCRATE_API_URL: must be an absolute http(s) URL'],
		[{ KEYCRATE_API_URL: 'ftp://api.keycrate.dev' }, 'KEYCRATE_API_URL: must use http or https, got ftp:'],
		[{ STRIPE_API_BASE: 'not a url' }, 'STRIPE_API_BASE: must be an absolute http(s) URL'],
		[{ KEYCRATE_TIMEOUT_MS: '10s' }, 'KEYCRATE_TIMEOUT_MS: must be a whole number, got "10s"'],
		[{ STRIPE_TOLERANCE_SECONDS: '0' }, 'STRIPE_TOLERANCE_SECONDS: must be between 1 and 3600, got 0'],
		[{ STRIPE_LIVEMODE: 'prod' }, 'STRIPE_LIVEMODE: must be one of live, test, both, got "prod"'],
		[{ PORT: '65536' }, 'PORT: must be between 0 and 65535, got 65536'],
		[{ BODY_LIMIT_BYTES: '1.5' }, 'BODY_LIMIT_BYTES: must be a whole number, got "1.5"'],
		[{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY: must be between 1 and 1000, got 0'],
		[{ JOB_LOCK_MS: '500' }, 'JOB_LOCK_MS: must be between 1000 and 600000, got 500'],
		[{ LICENSE_GRACE_SECONDS: 'a day' }, 'LICENSE_GRACE_SECONDS: must be a whole number, got "a day"'],
		[{ PAST_DUE_STATUS: 'expired' }, 'PAST_DUE_STATUS: must be one of active, paused, got "expired"'],
		[{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
		[{ LICENSE_WEBHOOK_URL: 'n8n.local/webhook' }, 'LICENSE_WEBHOOK_URL: must be an absolute http(s) URL'],
		[{ LICENSE_WEBHOOK_URL: 'https://n8n.example.com/webhook/x' }, 'LICENSE_WEBHOOK_SECRET: is required when LICENSE_WEBHOOK_URL is set (signs the hand-off)'],
		[
			{ LICENSE_WEBHOOK_URL: 'https://n8n.example.com/webhook/x', LICENSE_WEBHOOK_SECRET: 'old-plain-secret' },
			"LICENSE_WEBHOOK_SECRET: must be a Standard Webhooks secret \"whsec_<base64>\" (a plain secret is no longer accepted); generate one with: node -e \"console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))\" and give the same value to the receiver (Keycrate Sync Trigger credential)",
		],
	])('%o → %s', (env, message) => {
		const error = errorOf(env);
		expect(error.message).toBe(message);
		expect(error.variable).toBe(message.split(':')[0]);
	});

	test('errors about secrets never quote the secret', () => {
		expect(errorOf({ STRIPE_WEBHOOK_SECRETS: 'whsec_ok,hunter2-secret' }).message).not.toContain('hunter2');
		expect(errorOf({ KEYCRATE_API_KEY: 'sk_live_abcdefgh' }).message).not.toContain('abcdefgh');
	});

	describe('PLANS_FILE', () => {
		test('a valid file maps price ids and lookup keys to plans; a tier alone is a plan (subscriptions need no duration)', () => {
			const path = plansFile(
				'good.json',
				JSON.stringify({
					price_monthly: { subscription_id: '0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e' },
					price_other_app: { subscription_id: '0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e', app_id: '6f1c1d2e-1111-4222-8333-444455556666' },
					pro_lifetime: { duration_unit: 'lifetime', key_pattern: 'PRO-****-****', hwid_lock: true, tags: ['pro'] },
					app_30d: { duration_unit: 'days', duration_value: 30 },
				}),
			);
			expect(loadConfig({ ...GOOD, PLANS_FILE: path }, 'all').plans).toEqual({
				price_monthly: { subscriptionId: '0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e' },
				price_other_app: { subscriptionId: '0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e', appId: '6f1c1d2e-1111-4222-8333-444455556666' },
				pro_lifetime: { durationUnit: 'lifetime', keyPattern: 'PRO-****-****', hwidLock: true, tags: ['pro'] },
				app_30d: { durationUnit: 'days', durationValue: 30 },
			});
		});

		test.each([
			['unreadable', undefined, /^PLANS_FILE: cannot read \/nonexistent\/plans\.json \(ENOENT\)$/],
			['not JSON', '{ price_1: ', /^PLANS_FILE: .*not-json\.json is not valid JSON \(/],
			['an array', '[]', /^PLANS_FILE: must hold a JSON object of price id → plan$/],
			['an entry that is not an object', '{"price_a": 30}', /^PLANS_FILE: entry price_a: must be an object/],
			['an unknown field', '{"price_b": {"duration_unit":"days","duration_value":30,"days":30}}', /^PLANS_FILE: entry price_b: unknown field "days"/],
			[
				'a bad duration_unit',
				'{"price_c": {"duration_unit":"weeks","duration_value":2}}',
				/^PLANS_FILE: entry price_c\.duration_unit: must be one of minutes, hours, days, months, years, lifetime$/,
			],
			['no duration_value', '{"price_d": {"duration_unit":"days"}}', /^PLANS_FILE: entry price_d\.duration_value: is required when duration_unit is days$/],
			[
				'a duration in hex',
				'{"price_d2": {"duration_unit":"days","duration_value":"0x10"}}',
				/^PLANS_FILE: entry price_d2\.duration_value: must be a whole decimal number from 1 to 100000$/,
			],
			[
				'a duration in exponent form',
				'{"price_d3": {"duration_unit":"days","duration_value":"1e3"}}',
				/^PLANS_FILE: entry price_d3\.duration_value: must be a whole decimal number from 1 to 100000$/,
			],
			['an empty plan', '{"price_d4": {}}', /^PLANS_FILE: entry price_d4: names nothing \(give at least subscription_id or duration_unit\)$/],
			[
				'a bad subscription_id',
				'{"price_e": {"duration_unit":"lifetime","subscription_id":"gold"}}',
				/^PLANS_FILE: entry price_e\.subscription_id: must be a Keycrate id \(uuid\)$/,
			],
			[
				'a bad app_id',
				'{"price_e2": {"subscription_id":"0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e","app_id":"main"}}',
				/^PLANS_FILE: entry price_e2\.app_id: must be a Keycrate id \(uuid\)$/,
			],
			['a bad key_pattern', '{"price_f": {"duration_unit":"lifetime","key_pattern":"A B"}}', /^PLANS_FILE: entry price_f\.key_pattern: must be 1-64 of/],
			['a bad hwid_lock', '{"price_g": {"duration_unit":"lifetime","hwid_lock":"yes"}}', /^PLANS_FILE: entry price_g\.hwid_lock: must be true or false$/],
			[
				'bad tags',
				'{"price_h": {"duration_unit":"lifetime","tags":["ok",""]}}',
				/^PLANS_FILE: entry price_h\.tags: must be a list of non-empty strings of at most 64 characters$/,
			],
		])('%s → an error naming PLANS_FILE and the bad entry', (label, content, message) => {
			const path =
				content === undefined ? '/nonexistent/plans.json' : plansFile(label === 'not JSON' ? 'not-json.json' : `${label.replace(/\W+/g, '-')}.json`, content);
			const error = errorOf({ PLANS_FILE: path });
			expect(error.variable).toBe('PLANS_FILE');
			expect(error.message).toMatch(message);
		});
	});
});

describe('README "Configuration" table', () => {
	const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
	const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Ingest guarantees'));
	const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map(([, name, fallback]) => ({ name, fallback: fallback.trim() }));
	const source = readFileSync(fileURLToPath(new URL('../src/config.ts', import.meta.url)), 'utf8');
	const readByConfig = new Set([...source.matchAll(/\(env, '([A-Z_]+)'/g)].map(([, name]) => name));

	test('lists exactly the variables config.ts reads', () => {
		expect(readByConfig.size).toBeGreaterThan(20);
		expect(new Set(rows.map((row) => row.name))).toEqual(readByConfig);
	});

	test('every documented literal default is the real default (setting it explicitly changes nothing)', () => {
		const base = loadConfig(GOOD, 'all');
		const literal = rows.filter((row) => /^`[^`]+`$/.test(row.fallback));
		expect(literal.length).toBeGreaterThan(15);
		for (const { name, fallback } of literal) {
			expect([name, loadConfig({ ...GOOD, [name]: fallback.slice(1, -1) }, 'all')]).toEqual([name, base]);
		}
	});
});

describe('REDIS_CLUSTER', () => {
	test('REDIS_URL lists the seed nodes; the first URL gives every node its user, password and TLS', () => {
		expect(clusterNodes('rediss://app:s%3Acret@10.0.0.1:7000, rediss://10.0.0.2')).toEqual({
			nodes: [
				{ host: '10.0.0.1', port: 7000 },
				{ host: '10.0.0.2', port: 6379 },
			],
			nodeOptions: { username: 'app', password: 's:cret', tls: {} },
		});
		const config = loadConfig({ ...GOOD, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:7000,redis://127.0.0.1:7001' }, 'all');
		expect(config).toMatchObject({ redisCluster: true, queuePrefix: '{keycrate}' });
		const cluster = connectRedis(config, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false });
		const single = connectRedis(loadConfig(GOOD, 'all'), { lazyConnect: true });
		try {
			expect(cluster).toBeInstanceOf(Cluster);
			// BullMQ reads a cluster's per-node options for its maxRetriesPerRequest check.
			expect((cluster as Cluster).options).toMatchObject({ enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: null } });
			expect(single).toBeInstanceOf(Redis);
		} finally {
			cluster.disconnect();
			single.disconnect();
		}
	});
});
