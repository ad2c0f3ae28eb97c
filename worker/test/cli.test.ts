import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli, spawnCli } from './support/ingest-cli.js';
import { deletePrefix } from '../src/redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';
import { SECRET_A, deliver, sampleEvent } from './support/ingest-webhooks.js';
import { EVENTS_QUEUE } from '../src/queue.js';

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

	test.each([
		['KEYCRATE_API_KEY missing', { KEYCRATE_API_KEY: '' }, 'KEYCRATE_API_KEY: is required (the Keycrate API key, kc_…)'],
		['KEYCRATE_API_KEY of another kind', { KEYCRATE_API_KEY: 'sk_live_notakeycratekey' }, 'KEYCRATE_API_KEY: must start with kc_ (a Keycrate API key)'],
		['KEYCRATE_APP_ID not a uuid', { KEYCRATE_APP_ID: 'my-app' }, 'KEYCRATE_APP_ID: must be a uuid'],
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
	});

	test('--role ingest does not need the Keycrate settings; --role process does not need webhook secrets', async () => {
		const ingestOnly = spawnCli(['start', '--role=ingest'], { ...goodEnv(prefix), KEYCRATE_API_KEY: '', KEYCRATE_APP_ID: '' });
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

	test('a start that cannot listen (port taken) says why in one line and exits 1', async () => {
		const taken = createServer();
		await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
		try {
			const { port } = taken.address() as AddressInfo;
			const result = await runCli(['start'], { ...goodEnv(prefix), PORT: String(port), LOG_LEVEL: 'silent' });
			expect(result).toEqual({ code: 1, stdout: '', stderr: `keycrate-worker: could not start: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n` });
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

		test('SIGTERM waits for the active job; a second signal exits at once (code 1)', async () => {
			const { port } = stripeApi.address() as AddressInfo;
			const run = spawnCli(['start'], {
				...goodEnv(prefix),
				STRIPE_API_KEY: 'sk_test_cli_hanging_0123456789',
				STRIPE_API_BASE: `http://127.0.0.1:${port}`,
			});
			const listening = await run.waitForLog('ingest listening');
			const event = sampleEvent({ type: 'checkout.session.completed' });
			event.data.object = { id: 'cs_test_hanging', object: 'checkout.session', status: 'complete' } as never;
			expect((await deliver(String(listening.url), event)).status).toBe(200);
			const deadline = Date.now() + 10000;
			while (requests === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
			expect(requests).toBeGreaterThan(0);

			run.child.kill('SIGTERM');
			await run.waitForLog('ingest closed');
			await new Promise((resolve) => setTimeout(resolve, 1000));
			expect(run.child.exitCode).toBeNull();
			run.child.kill('SIGTERM');
			expect(await run.exited).toBe(1);
			expect(run.output().stdout).toContain('second signal: exiting without waiting for active jobs');
		});
	});

	test('dead-letters lists failed events with id, type, attempts and reason (table and --json)', async () => {
		const deadPrefix = uniquePrefix('kc-cli-dead');
		const connection = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null });
		const queue = new Queue(EVENTS_QUEUE, { connection, prefix: deadPrefix });
		try {
			const empty = await runCli(['dead-letters'], { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: deadPrefix });
			expect(empty).toEqual({ code: 0, stdout: `No dead letters in ${deadPrefix} stripe-events.\n`, stderr: '' });

			const event = sampleEvent({ type: 'invoice.paid' });
			await queue.add(event.type, event, { jobId: event.id, attempts: 1, removeOnFail: false });
			const failing = new Worker(EVENTS_QUEUE, async () => {
				throw new UnrecoverableError('INVALID_INPUT: duration_value must be ≥ 1');
			}, { connection: new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null }), prefix: deadPrefix });
			await new Promise<void>((resolve) => failing.once('failed', () => resolve()));
			await failing.close();
			await failing.disconnect();

			const table = await runCli(['dead-letters'], { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: deadPrefix });
			expect(table.code).toBe(0);
			const lines = table.stdout.trimEnd().split('\n');
			expect(lines[0]).toBe(`1 dead-letter event(s) in ${deadPrefix} stripe-events:`);
			expect(lines[1]).toMatch(/^EVENT ID\s+TYPE\s+ATTEMPTS\s+FAILED AT\s+REASON$/);
			expect(lines[2]).toMatch(new RegExp(`^${event.id}\\s+invoice\\.paid\\s+1\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+INVALID_INPUT: duration_value must be ≥ 1$`));

			const json = await runCli(['dead-letters', '--json'], { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: deadPrefix });
			expect(JSON.parse(json.stdout)).toMatchObject({ eventId: event.id, type: 'invoice.paid', attempts: 1, reason: 'INVALID_INPUT: duration_value must be ≥ 1' });

			const badLimit = await runCli(['dead-letters', '--limit', 'ten'], { QUEUE_PREFIX: deadPrefix });
			expect(badLimit).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: --limit: must be a whole number ≥ 1\n' });

			// retry: a dead letter goes back to the queue with fresh attempts; an unknown id is reported.
			const env = { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: deadPrefix };
			const unknownId = await runCli(['retry', 'evt_notthere'], env);
			expect(unknownId).toEqual({ code: 1, stdout: 'Queued again: nothing\n', stderr: 'keycrate-worker: not in the dead-letter set: evt_notthere\n' });
			expect(await runCli(['retry'], env)).toEqual({ code: 2, stdout: '', stderr: 'keycrate-worker: retry: give event ids or --all, not both or neither\n' });
			const retried = await runCli(['retry', event.id], env);
			expect(retried).toEqual({ code: 0, stdout: `Queued again: ${event.id}\n`, stderr: '' });
			const job = await queue.getJob(event.id);
			expect(await job?.getState()).toBe('waiting');
			expect(job?.attemptsMade).toBe(0);
			expect(await runCli(['dead-letters'], env)).toMatchObject({ code: 0, stdout: `No dead letters in ${deadPrefix} stripe-events.\n` });
		} finally {
			await queue.close();
			await connection.quit();
			await deletePrefix(SHARED_REDIS_URL, deadPrefix);
		}
	});
});
