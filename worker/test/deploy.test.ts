// The deploy path, as far as it can be checked without a Docker engine:
// - the compose file, .env.example and the Dockerfile name the variables and the port the worker reads, where
//   that list comes from src/config.ts itself (every variable loadConfig asks the environment for);
// - plans.schema.json and the start-up check of PLANS_FILE (parsePlan) agree, and plans.example.json passes;
// - the Dockerfile's install path replayed: the packed worker tarball installed with production dependencies
//   only (its own RUN npm install line), no workspace sibling in it, its declarations self-contained, started
//   as the image's ENTRYPOINT, answering /readyz; and a start with an invalid plans file naming entry and field.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { DURATION_UNITS, KEY_PATTERN, loadConfig, parsePlan, PLAN_FIELDS, UUID } from '../src/config.js';
import { WEBHOOK_PATH } from '../src/ingest/server.js';

const WORKER_DIR = fileURLToPath(new URL('..', import.meta.url));
const read = (name: string) => readFileSync(join(WORKER_DIR, name), 'utf8');

const VALID_ENV: Record<string, string> = {
	KEYCRATE_API_KEY: 'kc_deploy_test',
	KEYCRATE_APP_ID: '0b6c4e52-7f55-4f0c-9d59-8a1f9c2b3d4e',
	STRIPE_API_KEY: 'rk_test_deploy',
	STRIPE_WEBHOOK_SECRETS: 'whsec_deploy',
};

/** Every variable loadConfig reads, in any role: the environment is a proxy that records each name asked for. */
function variablesRead(): Set<string> {
	const names = new Set<string>();
	for (const role of ['all', 'ingest', 'process', 'inspect'] as const) {
		const env = new Proxy(VALID_ENV, {
			get(target, name) {
				if (typeof name === 'string') names.add(name);
				return typeof name === 'string' ? target[name] : undefined;
			},
		});
		loadConfig(env, role);
	}
	return names;
}

const READ = variablesRead();
const DEFAULT_PORT = loadConfig(VALID_ENV, 'ingest').port;
/** Compose-only: the Stripe CLI's test-mode key (the worker never reads it). */
const COMPOSE_ONLY = ['STRIPE_CLI_API_KEY'];

interface ComposeService {
	build?: { context: string; dockerfile: string };
	image?: string;
	command?: string[];
	environment?: Record<string, string>;
	env_file?: string;
	ports?: string[];
	volumes?: string[];
	healthcheck?: { test?: string[]; disable?: boolean };
}
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };
const dockerfile = read('Dockerfile');

describe('the variables the worker reads', () => {
	test('come from loadConfig, and include the ones every deployment sets', () => {
		for (const name of ['REDIS_URL', 'PORT', 'PLANS_FILE', ...Object.keys(VALID_ENV)]) expect(READ).toContain(name);
		expect(READ.size).toBeGreaterThan(30);
	});

	test('.env.example names each of them (and only compose-only extras), with every value empty', () => {
		const lines = read('.env.example')
			.split('\n')
			.filter((line) => /^[A-Z0-9_]+=/.test(line));
		const named = lines.map((line) => line.slice(0, line.indexOf('=')));
		expect([...named].sort()).toEqual([...READ, ...COMPOSE_ONLY].sort());
		expect(new Set(named).size).toBe(named.length);
		// Empty means "default" to the worker, and no secret is ever filled in here.
		expect(lines.filter((line) => !line.endsWith('='))).toEqual([]);
		for (const extra of COMPOSE_ONLY) expect(composeText).toContain(`\${${extra}`);
	});
});

describe('docker-compose.yml', () => {
	const { redis, ingest, process: processor, stripe } = compose.services;

	test('Redis keeps an append-only file on a volume', () => {
		expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
		expect(redis.volumes).toEqual([expect.stringMatching(/:\/data$/)]);
	});

	test.each([
		['ingest', 'ingest'],
		['process', 'process'],
	])('the %s service runs the worker image with --role %s, .env and only variables the worker reads', (name, role) => {
		const service = compose.services[name];
		expect(service.build).toEqual({ context: '..', dockerfile: 'worker/Dockerfile' });
		expect(service.command).toEqual(['start', '--role', role]);
		expect(service.env_file).toBe('.env');
		for (const variable of Object.keys(service.environment ?? {})) expect(READ).toContain(variable);
		expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
		// The plans file is mounted where PLANS_FILE points.
		expect(service.volumes).toContain(`./plans.json:${service.environment?.PLANS_FILE}:ro`);
	});

	test('the ingest publishes the port it listens on, and the Stripe CLI forwards to its webhook path', () => {
		const port = Number(ingest.environment?.PORT ?? DEFAULT_PORT);
		expect(ingest.ports).toEqual([`${port}:${port}`]);
		expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
		expect(stripe.image).toMatch(/^stripe\/stripe-cli(:|$)/);
		const forwardTo = stripe.command?.[stripe.command.indexOf('--forward-to') + 1] ?? '';
		expect(stripe.command?.[0]).toBe('listen');
		const url = new URL(forwardTo);
		expect([url.hostname, Number(url.port), url.pathname]).toEqual(['ingest', port, WEBHOOK_PATH]);
	});

	test("the processing service keeps the image's /readyz probe (every role serves it on PORT)", () => {
		expect(processor.healthcheck?.disable).not.toBe(true);
		expect(Number(processor.environment?.PORT ?? DEFAULT_PORT)).toBe(DEFAULT_PORT);
		expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*process\.env\.PORT[\s\S]*\/readyz/);
	});
});

describe('Dockerfile', () => {
	test('runs as a non-root user, probes /readyz, installs production dependencies only from the packed tarball', () => {
		const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]);
		expect(users.at(-1)).not.toMatch(/^(root|0)$/);
		expect(dockerfile).toMatch(/^HEALTHCHECK .*\\\n.*\/readyz/m);
		expect(dockerfile).toMatch(/^RUN .*npm pack -w worker/m);
		expect(installFlags()).toContain('--omit=dev');
	});
});

/** The flags of the Dockerfile's `RUN npm install … <tarball>` line. */
function installFlags(): string[] {
	const match = /^RUN npm install (.+?) \S+\.tgz/m.exec(dockerfile);
	if (!match) throw new Error('Dockerfile: no "RUN npm install <flags> <tarball>.tgz" line');
	return match[1].split(' ');
}

/** The image's ENTRYPOINT, relative to its WORKDIR. */
function entrypoint(): string {
	const workdir = [...dockerfile.matchAll(/^WORKDIR (\S+)$/gm)].at(-1)?.[1] ?? '/';
	const match = /^ENTRYPOINT \["([^"]+)"\]$/m.exec(dockerfile);
	if (!match || !match[1].startsWith(`${workdir}/`)) throw new Error(`Dockerfile: ENTRYPOINT must be one path under ${workdir}`);
	return match[1].slice(workdir.length + 1);
}

describe('plans.schema.json and the start-up check agree', () => {
	const schema = JSON.parse(read('plans.schema.json')) as {
		definitions: { uuid: { pattern: string }; plan: { properties: Record<string, { enum?: string[]; pattern?: string }> } };
	};
	const ajv = new Ajv({ allErrors: true });
	const validate = ajv.compile(schema);

	test('on the fields, the units, the key pattern and the id pattern', () => {
		const { properties } = schema.definitions.plan;
		expect(Object.keys(properties).sort()).toEqual([...PLAN_FIELDS].sort());
		expect(properties.duration_unit.enum).toEqual([...DURATION_UNITS]);
		expect(properties.key_pattern.pattern).toBe(KEY_PATTERN.source);
		// The code's uuid check is case-insensitive; the schema spells both cases out.
		expect(UUID.flags).toContain('i');
		expect(schema.definitions.uuid.pattern.replaceAll('0-9a-fA-F', '0-9a-f')).toBe(UUID.source);
	});

	const ID = VALID_ENV.KEYCRATE_APP_ID;
	const entries: [string, unknown][] = [
		['a subscription tier', { subscription_id: ID }],
		['a lifetime plan', { duration_unit: 'lifetime' }],
		['30 days', { duration_unit: 'days', duration_value: 30 }],
		['30 days as a string', { duration_unit: 'days', duration_value: '30' }],
		['everything', { app_id: ID, subscription_id: ID, duration_unit: 'months', duration_value: 1, key_pattern: 'PRO-****', hwid_lock: true, tags: ['a'] }],
		['hwid_lock as a string', { duration_unit: 'lifetime', hwid_lock: 'false' }],
		['an empty plan', {}],
		['not an object', 30],
		['a list', [{ duration_unit: 'lifetime' }]],
		['an unknown field', { duration_unit: 'lifetime', days: 30 }],
		['weeks', { duration_unit: 'weeks', duration_value: 2 }],
		['days without a value', { duration_unit: 'days' }],
		['a value without a unit', { duration_value: 3 }],
		['a value of 0', { duration_unit: 'days', duration_value: 0 }],
		['a value too large', { duration_unit: 'days', duration_value: 100001 }],
		['the largest value', { duration_unit: 'days', duration_value: 100000 }],
		['a fractional value', { duration_unit: 'days', duration_value: 1.5 }],
		['a value in hex', { duration_unit: 'days', duration_value: '0x10' }],
		['a tier that is no uuid', { subscription_id: 'gold' }],
		['an app that is no uuid', { app_id: 'main', duration_unit: 'lifetime' }],
		['a key pattern with a space', { duration_unit: 'lifetime', key_pattern: 'A B' }],
		['a yes/no lock', { duration_unit: 'lifetime', hwid_lock: 'yes' }],
		['an empty tag', { duration_unit: 'lifetime', tags: ['ok', ''] }],
		['a tag of 65 characters', { duration_unit: 'lifetime', tags: ['x'.repeat(65)] }],
	];
	test.each(entries)('%s: the same verdict', (_label, entry) => {
		let parsed = true;
		try {
			parsePlan(entry, 'price_x');
		} catch {
			parsed = false;
		}
		expect(validate({ price_x: entry })).toBe(parsed);
	});

	test('plans.example.json passes both', () => {
		const example = JSON.parse(read('plans.example.json')) as Record<string, unknown>;
		expect(validate(example)).toBe(true);
		const dir = mkdtempSync(join(tmpdir(), 'keycrate-plans-'));
		try {
			writeFileSync(join(dir, 'plans.json'), read('plans.example.json'));
			const { plans } = loadConfig({ ...VALID_ENV, PLANS_FILE: join(dir, 'plans.json') }, 'all');
			expect(Object.keys(plans).sort()).toEqual(
				Object.keys(example)
					.filter((key) => key !== '$schema')
					.sort(),
			);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

/** Runs a command to its end; throws with its output when it fails. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
	const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300000 });
	if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stdout}\n${result.stderr}`);
	return result.stdout;
}

describe('the Dockerfile install path, replayed', () => {
	let dir: string;
	let app: string;
	let bin: string;
	/** A clean environment, as in the image: only what the test sets (plus PATH and HOME). */
	const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra });

	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), 'keycrate-deploy-'));
		app = join(dir, 'app');
		// The suite runs after `npm run build`: the tarball packs that dist (the image's `npm pack` builds it itself).
		const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], WORKER_DIR).trim().split('\n').at(-1) ?? '';
		mkdirSync(app);
		// npm keeps this machine's settings (registry, CA certificates, cache); the worker starts with a clean env.
		run('npm', ['install', ...installFlags(), join(dir, tarball)], app);
		bin = join(app, entrypoint());
	}, 300000);

	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	test('holds the worker and its production dependencies, no workspace sibling, no dev dependency', () => {
		expect(readdirSync(join(app, 'node_modules', '@keycrate'))).toEqual(['stripe-sync-worker']);
		const installed = readdirSync(join(app, 'node_modules'));
		for (const name of ['bullmq', 'ioredis', 'stripe', 'got', 'pino']) expect(installed).toContain(name);
		for (const name of ['typescript', 'jest', 'ajv', 'yaml']) expect(installed).not.toContain(name);
		const packed = readdirSync(join(app, 'node_modules', '@keycrate', 'stripe-sync-worker'));
		expect(packed.sort()).toEqual(['.env.example', 'README.md', 'bin', 'dist', 'package.json', 'plans.example.json', 'plans.schema.json']);
	});

	test('its type declarations stand alone: a consumer type-checks against the installed package', () => {
		const consumer = join(app, 'consumer.ts');
		writeFileSync(
			consumer,
			[
				"import { loadConfig, type Plan, type RootState } from '@keycrate/stripe-sync-worker';",
				"const config = loadConfig({}, 'inspect');",
				'const port: number = config.port;',
				"const plan: Plan = { durationUnit: 'days', durationValue: 30 };",
				"// @ts-expect-error not a Keycrate duration unit (the contract's DurationUnit, shipped in dist/keycrate.d.ts)",
				"const bad: Plan = { durationUnit: 'weeks' };",
				'export const used: [number, Plan, Plan, RootState | undefined] = [port, plan, bad, undefined];',
				'',
			].join('\n'),
		);
		const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
		const typeRoots = fileURLToPath(new URL('../../node_modules/@types', import.meta.url));
		run(
			process.execPath,
			[
				tsc,
				'--noEmit',
				'--strict',
				'--module',
				'nodenext',
				'--moduleResolution',
				'nodenext',
				'--target',
				'es2022',
				'--skipLibCheck',
				'--typeRoots',
				typeRoots,
				'--types',
				'node',
				consumer,
			],
			app,
		);
		// And no declaration reaches outside the package (the repo's openapi/) or into a workspace sibling.
		const outside = spawnSync(
			'grep',
			[
				'-rlE',
				"from '(\\.\\./)+(openapi|emulator|stripe-fake)|@keycrate/(emulator|stripe-fake)",
				'--include=*.d.ts',
				'node_modules/@keycrate/stripe-sync-worker/dist',
			],
			{ cwd: app, encoding: 'utf8' },
		);
		expect([outside.status, outside.stdout]).toEqual([1, '']);
	});

	test('started as the image starts it (--role ingest), it answers /readyz', async () => {
		const child = spawn(bin, ['start', '--role', 'ingest'], {
			cwd: app,
			env: env({
				REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
				QUEUE_PREFIX: `{deploy-${process.pid}}`,
				STRIPE_WEBHOOK_SECRETS: VALID_ENV.STRIPE_WEBHOOK_SECRETS,
				PORT: '0',
				HOST: '127.0.0.1',
			}),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
		const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
		try {
			const url = await waitFor(() => {
				if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}): ${stderr}`);
				const line = stdout.split('\n').find((entry) => entry.includes('"ingest listening"'));
				return line === undefined ? undefined : (JSON.parse(line) as { url: string }).url;
			});
			const ready = await waitFor(async () => {
				const response = await fetch(new URL('/readyz', url));
				return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
			});
			expect(ready).toMatchObject({ ready: true });
		} finally {
			child.kill('SIGTERM');
			expect(await exited).toBe(0);
		}
	});

	test('a start with an invalid plans file names the entry and the field, and exits 2', () => {
		const plans = join(dir, 'plans.json');
		writeFileSync(plans, JSON.stringify({ price_ok: { duration_unit: 'lifetime' }, price_bad: { duration_unit: 'weeks', duration_value: 2 } }));
		const result = spawnSync(bin, ['start', '--role', 'ingest'], {
			cwd: app,
			env: env({ STRIPE_WEBHOOK_SECRETS: VALID_ENV.STRIPE_WEBHOOK_SECRETS, PLANS_FILE: plans }),
			encoding: 'utf8',
			timeout: 30000,
		});
		expect(result.status).toBe(2);
		expect(result.stderr).toBe(`keycrate-worker: PLANS_FILE: entry price_bad.duration_unit: must be one of ${DURATION_UNITS.join(', ')}\n`);
		expect(result.stdout).toBe('');
	});
});

/** Polls `probe` until it returns a value (20 s at most). */
async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		let value: T | undefined;
		try {
			value = await probe();
		} catch (error) {
			if (Date.now() > deadline || !(error instanceof TypeError)) throw error;
		}
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}
