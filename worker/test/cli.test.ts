import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli, spawnCli } from './support/ingest-cli.js';
import { deletePrefix } from './support/redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';
import { SECRET_A, deliver, sampleEvent } from './support/ingest-webhooks.js';
import { recordSkipped, SYNC_QUEUE } from '../src/jobs/queues.js';
import { loadConfig } from '../src/config.js';
import { waitFor } from './support/wait.js';

const APP_ID = '6f1c1d2e-1111-4222-8333-444455556666';
const API_KEY = 'kc_cli_test_key_0123456789';

function goodEnv(prefix: string): Record<string, string> {
	return {
		REDIS_URL: SHARED_REDIS_URL,
		QUEUE_PREFIX: prefix,
		KEYCRATE_API_URL: 'http://127.0.0.1:9',
		KEYCRATE_API_KEY: API_KEY,
		KEYCRATE_APP_ID: APP_ID,
		STRIPE_WEBHOOK_SECRETS: SECRET_A,
		STRIPE_API_KEY: 'sk_test_cli_0123456789abcdef',
		STRIPE_API_BASE: 'http://127.0.0.1:9',
		HOST: '127.0.0.1',
		PORT: '0',
	};
}

describe('keycrate-worker CLI', () => {
	const prefix = uniquePrefix('kc-cli');
	afterAll(() => deletePrefix(SHARED_REDIS_URL, prefix));

	test('--help prints the usage and exits 0; no command exits 2; an unknown command is one line, exit 2', async () => {
		const help = await runCli(['--help'], {});
		expect(help.code).toBe(0);
		expect(help.stdout).toContain('start [--role ingest|process|all]');
		expect(help.stdout).toContain('dead-letters');

		const none = await runCli([], {});
		expect(none.code).toBe(2);
		expect(none.stderr).toContain('Usage: keycrate-worker');

		const unknown = await runCli(['launch'], {});
		expect(unknown).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: unknown command "launch" (try --help)\n' });

		const badRole = await runCli(['start', '--role', 'both'], goodEnv(prefix));
		expect(badRole).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: --role: must be one of ingest, process, all\n' });
	});

	test('an unknown flag, a missing value or a stray argument is one line naming it, exit 2, before any connection', async () => {
		// No environment at all: usage is checked before the configuration and before Redis.
		const cases: [string[], string][] = [
			[['dead-letters', '--colour', 'red'], "Unknown option '--colour' for dead-letters (it takes --limit, --json; try --help)"],
			[['skipped', '--limit'], '--limit: needs a value (try --help)'],
			[['skipped', '--limit='], '--limit: needs a value'],
			[['dead-letters', '--json=yes'], '--json: takes no value (try --help)'],
			[['start', '--roles', 'all'], "Unknown option '--roles' for start (it takes --role; try --help)"],
			[['start', 'ingest'], 'unknown argument "ingest" (try --help)'],
			[['retry', '--every'], "Unknown option '--every' for retry (it takes --all, --failed, --since; try --help)"],
			[['resync', '--since', '2026-11-01', 'sub_1'], 'unknown argument "sub_1" (try --help)'],
			[['resync', '--root'], '--root: needs a value (try --help)'],
			[['cancel', '--force', 'bulk_1'], "Unknown option '--force' for cancel (it takes no options; try --help)"],
			[['jobs', 'bulk_1'], 'unknown argument "bulk_1" (try --help)'],
		];
		for (const [args, line] of cases) {
			expect([args.join(' '), await runCli(args, {})]).toEqual([args.join(' '), { code: 2, stdout: '', stderr: `keycrate-worker: ${line}\n` }]);
		}
	});

	test('--root takes ids after it or repeated, and checks each', async () => {
		const result = await runCli(['resync', '--root', 'sub_a1', '--root=pi_b2', 'in_3'], goodEnv(prefix));
		expect(result).toEqual({
			code: 2,
			stdout: '',
			stderr: 'keycrate-worker: --root: "in_3" is not a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id\n',
		});
	});

	test.each([
		['KEYCRATE_API_KEY missing', { KEYCRATE_API_KEY: '' }, 'KEYCRATE_API_KEY: is required (the Keycrate API key, kc_…)'],
		['KEYCRATE_API_KEY of another kind', { KEYCRATE_API_KEY: 'sk_live_notakeycratekey' }, 'KEYCRATE_API_KEY: must start with kc_ (a Keycrate API key)'],
		['KEYCRATE_APP_ID not a uuid', { KEYCRATE_APP_ID: 'my-app' }, 'KEYCRATE_APP_ID: must be a uuid'],
		['STRIPE_API_KEY missing', { STRIPE_API_KEY: '' }, 'STRIPE_API_KEY: is required (a Stripe secret or restricted key with read access, sk_… or rk_…)'],
		[
			'STRIPE_API_KEY of another kind',
			{ STRIPE_API_KEY: 'pk_live_notasecretkey' },
			'STRIPE_API_KEY: must be a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_live_…, rk_test_…)',
		],
		['RETRY_SCHEDULE without units', { RETRY_SCHEDULE: '10,60' }, 'RETRY_SCHEDULE: "10" is not a delay: use a whole number and ms, s, m, h or d (e.g. 30s)'],
		['STRIPE_WEBHOOK_SECRETS missing', { STRIPE_WEBHOOK_SECRETS: ' ' }, 'STRIPE_WEBHOOK_SECRETS: is required (comma-separated whsec_… signing secrets)'],
		['a secret without whsec_', { STRIPE_WEBHOOK_SECRETS: `${SECRET_A},sekrit-value-123` }, 'STRIPE_WEBHOOK_SECRETS: entry 2 must start with whsec_'],
		['PORT not a number', { PORT: 'eighty' }, 'PORT: must be a whole number, got "eighty"'],
		['REDIS_URL not redis://', { REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL: must start with redis:// or rediss://'],
		['PLANS_FILE missing', { PLANS_FILE: '/nonexistent/plans.json' }, 'PLANS_FILE: cannot read /nonexistent/plans.json (ENOENT)'],
	])('%s → one line naming the variable on stderr, exit 2, no secret echoed', async (_label, override, line) => {
		const result = await runCli(['start'], { ...goodEnv(prefix), ...override });
		expect(result).toEqual({ code: 2, stdout: '', stderr: `keycrate-worker: ${line}\n` });
		expect(result.stderr).not.toContain('sekrit-value-123');
		expect(result.stderr).not.toContain('notakeycratekey');
		expect(result.stderr).not.toContain('notasecretkey');
	});

	test('--role ingest does not need the Keycrate settings; --role process does not need webhook secrets', async () => {
		const ingestOnly = spawnCli(['start', '--role=ingest'], { ...goodEnv(prefix), KEYCRATE_API_KEY: '', KEYCRATE_APP_ID: '', STRIPE_API_KEY: '' });
		await ingestOnly.waitForLog('worker started');
		const processOnly = spawnCli(['start', '--role', 'process'], { ...goodEnv(prefix), STRIPE_WEBHOOK_SECRETS: '' });
		const started = await processOnly.waitForLog('worker started');
		expect(started.role).toBe('process');
		expect(processOnly.output().stdout).not.toContain('ingest listening');
		ingestOnly.child.kill('SIGTERM');
		processOnly.child.kill('SIGTERM');
		expect(await ingestOnly.exited).toBe(0);
		expect(await processOnly.exited).toBe(0);
	});

	test('a start that cannot listen (port taken) says why in one line, naming PORT, and exits 1 (the processing role listens too)', async () => {
		const taken = createServer();
		await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = taken.address() as AddressInfo;
			for (const role of ['all', 'process']) {
				const result = await runCli(['start', '--role', role], { ...goodEnv(prefix), PORT: String(port), LOG_LEVEL: 'silent' });
				expect({ role, ...result }).toEqual({
					role,
					code: 1,
					stdout: '',
					stderr: `keycrate-worker: could not start: PORT: 127.0.0.1:${port} is in use (another process on this host? give each keycrate-worker its own PORT, or 0 for any free port)\n`,
				});
			}
		} finally {
			await new Promise((resolve) => taken.close(resolve));
		}
	});

	test('start accepts webhooks; SIGTERM shuts down gracefully and exits 0', async () => {
		const run = spawnCli(['start'], goodEnv(prefix));
		const listening = await run.waitForLog('ingest listening');
		await run.waitForLog('worker started');
		const event = sampleEvent({ type: 'customer.created' });
		expect((await deliver(String(listening.url), event)).status).toBe(200);
		run.child.kill('SIGTERM');
		expect(await run.exited).toBe(0);
		const { stdout } = run.output();
		expect(stdout).toContain('"msg":"ingest closed"');
		expect(stdout).toContain('"msg":"worker stopped"');
	});

	describe('with a job stuck on a Stripe API call that never answers', () => {
		let stripeApi: Server;
		let requests = 0;
		beforeAll(async () => {
			// Accepts requests and never answers: the job stays active until its 20 s client timeout.
			stripeApi = createServer(() => void (requests += 1));
			await new Promise<void>((resolve) => stripeApi.listen(0, '127.0.0.1', resolve));
		});
		afterAll(async () => {
			stripeApi.closeAllConnections();
			await new Promise((resolve) => stripeApi.close(resolve));
		});

		test('SIGTERM waits for the active job (up to SHUTDOWN_TIMEOUT_MS); a second signal exits at once (code 1)', async () => {
			const { port } = stripeApi.address() as AddressInfo;
			const run = spawnCli(['start'], {
				...goodEnv(prefix),
				STRIPE_API_KEY: 'sk_test_cli_hanging_0123456789',
				STRIPE_API_BASE: `http://127.0.0.1:${port}`,
			});
			const listening = await run.waitForLog('ingest listening');
			const event = sampleEvent({ type: 'customer.subscription.updated' });
			expect((await deliver(String(listening.url), event)).status).toBe(200);
			await waitFor(() => requests > 0, { what: 'the sync to call Stripe' });

			run.child.kill('SIGTERM');
			await run.waitForLog('ingest closed');
			await new Promise((resolve) => setTimeout(resolve, 1000));
			expect(run.child.exitCode).toBeNull();
			run.child.kill('SIGTERM');
			expect(await run.exited).toBe(1);
			expect(run.output().stdout).toContain('second signal: exiting without waiting for active jobs');
		});
	});

	test('dead-letters lists failed syncs and hand-offs with root, attempts and reason (table and --json); retry queues a fresh sync', async () => {
		const deadPrefix = uniquePrefix('kc-cli-dead');
		const connection = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null });
		const queue = new Queue(SYNC_QUEUE, { connection, prefix: deadPrefix });
		const env = { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: deadPrefix };
		try {
			const empty = await runCli(['dead-letters'], env);
			expect(empty).toEqual({ code: 0, stdout: `No dead letters in ${deadPrefix}.\n`, stderr: '' });

			await queue.add('sync', { root: 'sub_dead1', cause: 'test' }, { attempts: 1, removeOnFail: false });
			const failing = new Worker(
				SYNC_QUEUE,
				async () => {
					throw new UnrecoverableError('sub_dead1 asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT (100)');
				},
				{ connection: new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null }), prefix: deadPrefix },
			);
			await new Promise<void>((resolve) => failing.once('failed', () => resolve()));
			await failing.close();
			await failing.disconnect();

			const table = await runCli(['dead-letters'], env);
			expect(table.code).toBe(0);
			const lines = table.stdout.trimEnd().split('\n');
			expect(lines[0]).toBe(`1 dead letter(s) in ${deadPrefix}:`);
			expect(lines[1]).toMatch(/^KIND\s+ROOT \/ LICENSE\s+ATTEMPTS\s+FAILED AT\s+REASON$/);
			expect(lines[2]).toMatch(/^sync\s+sub_dead1\s+1\s+\d{4}-\d\d-\d\dT\S+\s+sub_dead1 asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT \(100\)$/);

			const json = await runCli(['dead-letters', '--json'], env);
			expect(JSON.parse(json.stdout)).toMatchObject({
				kind: 'sync',
				id: 'sub_dead1',
				attempts: 1,
				reason: 'sub_dead1 asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT (100)',
			});

			const badLimit = await runCli(['dead-letters', '--limit', 'ten'], env);
			expect(badLimit).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: --limit: must be a whole number ≥ 1\n' });

			const unknownId = await runCli(['retry', 'sub_notthere'], env);
			expect(unknownId).toEqual({ code: 1, stdout: 'Queued again: nothing\n', stderr: 'keycrate-worker: not in the dead letters: sub_notthere\n' });
			expect(await runCli(['retry'], env)).toEqual({
				code: 2,
				stdout: '',
				stderr: 'keycrate-worker: retry: give roots / license keys or --all, not both or neither\n',
			});
			expect(await runCli(['retry', 'sub_dead1'], env)).toEqual({ code: 0, stdout: 'Queued again: sub_dead1\n', stderr: '' });
			const waiting = await queue.getJobs(['waiting']);
			expect(waiting.map((job) => [job.data.root, job.attemptsMade, job.opts.deduplication?.id])).toEqual([['sub_dead1', 0, 'sub_dead1']]);
			expect(await runCli(['dead-letters'], env)).toMatchObject({ code: 0, stdout: `No dead letters in ${deadPrefix}.\n` });
		} finally {
			await queue.close();
			await connection.quit();
			await deletePrefix(SHARED_REDIS_URL, deadPrefix);
		}
	});

	test('resync --root queues syncs; bad ids and a missing --since/--root are refused in one line', async () => {
		const resyncPrefix = uniquePrefix('kc-cli-resync');
		const connection = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null });
		const queue = new Queue(SYNC_QUEUE, { connection, prefix: resyncPrefix });
		const env = { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: resyncPrefix };
		try {
			expect(await runCli(['resync', '--root', 'sub_a1', 'pi_b2', 'cs_c3'], env)).toEqual({
				code: 0,
				stdout: 'Queued 3 sync(s): sub_a1, pi_b2, cs_c3\n',
				stderr: '',
			});
			expect((await queue.getJobs(['waiting'])).map((job) => job.data.root).sort()).toEqual(['cs_c3', 'pi_b2', 'sub_a1']);
			expect(await runCli(['resync', '--root', 'in_123'], env)).toEqual({
				code: 2,
				stdout: '',
				stderr: 'keycrate-worker: --root: "in_123" is not a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id\n',
			});
			expect(await runCli(['resync'], env)).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: resync: give --since <ISO date> or --root <id>…\n' });
			expect(await runCli(['resync', '--since', 'last week'], env)).toEqual({
				code: 2,
				stdout: '',
				stderr: 'keycrate-worker: --since: "last week" is not an ISO date such as 2026-11-01 or 2026-11-01T12:00:00Z\n',
			});
			expect(await runCli(['resync', '--since', '2999-01-01'], env)).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: --since: is in the future\n' });
			expect(await runCli(['resync', '--since', new Date().toISOString().slice(0, 10)], env)).toEqual({
				code: 2,
				stdout: '',
				stderr: 'keycrate-worker: STRIPE_API_KEY: is required for resync --since (it reads the Events API)\n',
			});
		} finally {
			await queue.close();
			await connection.quit();
			await deletePrefix(SHARED_REDIS_URL, resyncPrefix);
		}
	});

	test('skipped lists what led to no license, newest first, with its reason (table and --json)', async () => {
		const skippedPrefix = uniquePrefix('kc-cli-skipped');
		const env = { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: skippedPrefix };
		const connection = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null });
		try {
			expect(await runCli(['skipped'], env)).toEqual({ code: 0, stdout: `Nothing skipped in ${skippedPrefix}.\n`, stderr: '' });
			const config = loadConfig(env, 'inspect');
			await recordSkipped(config, connection, { reason: 'no_plan', root: 'pi_1', detail: 'pi_1: no Keycrate plan for price_tshirt' });
			await recordSkipped(config, connection, {
				reason: 'not_handled',
				eventId: 'evt_2',
				eventType: 'customer.created',
				detail: 'customer.created evt_2: not an event type the worker uses',
			});
			const table = await runCli(['skipped'], env);
			const lines = table.stdout.trimEnd().split('\n');
			expect(lines[0]).toBe('2 newest skipped record(s):');
			expect(lines[2]).toMatch(/^\S+\s+not_handled\s+evt_2\s+customer.created evt_2: not an event type the worker uses$/);
			expect(lines[3]).toMatch(/^\S+\s+no_plan\s+pi_1\s+pi_1: no Keycrate plan for price_tshirt$/);
			const json = (await runCli(['skipped', '--json', '--limit', '1'], env)).stdout.trim().split('\n');
			expect(json.map((line) => JSON.parse(line).reason)).toEqual(['not_handled']);
		} finally {
			await connection.quit();
			await deletePrefix(SHARED_REDIS_URL, skippedPrefix);
		}
	});
});
