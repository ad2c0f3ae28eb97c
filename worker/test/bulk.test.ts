// Queued bulk jobs end to end: worker processes (node dist/cli.js), shared Redis (unique prefix), the Keycrate
// emulator. Jobs start through the admin API and the CLI; the end state is read from the emulator: exact counts,
// every key's expiry, a snapshot that a job's own changes do not move, cancel, per-key failures, SIGKILLs and
// Keycrate faults (a create chunk settled by its tag, an extend settled by reading).

import { execFile, execFileSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyHandoffSignature } from '../src/jobs/handoff.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adminRequest, CLI_PATH, Cluster, WORKER_DIR, type License, type WorkerProcess } from './support/cluster-harness.js';
import { waitFor } from './support/wait.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const run = promisify(execFile);

interface JobView {
	id: string;
	state: string;
	progress: { done: number; total: number; failed: number };
	result?: { succeeded: number; failed: number; canceled: boolean; failures: { license_key?: string; reason: string }[]; calls: number; export_path?: string };
}

function admin(
	worker: WorkerProcess,
	method: string,
	path: string,
	body?: unknown,
	token: string | null = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
	return adminRequest(worker.ingestUrl, method, path, body, token);
}

/** Polls a check that answers undefined until it has a value (bulk jobs run minutes on a busy machine). */
const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 240000): Promise<T> => waitFor(check, { what, timeoutMs, intervalMs: 100 });

async function startJob(worker: WorkerProcess, body: Record<string, unknown>): Promise<string> {
	const reply = await admin(worker, 'POST', '/admin/jobs', body);
	expect([reply.status, reply.json.error]).toEqual([202, undefined]);
	return (reply.json.data as JobView).id;
}

async function ended(worker: WorkerProcess, id: string): Promise<JobView> {
	return until(
		`bulk job ${id}`,
		async () => {
			const view = (await admin(worker, 'GET', `/admin/jobs/${id}`)).json.data as JobView;
			return ['completed', 'failed', 'canceled'].includes(view.state) ? view : undefined;
		},
		600000,
	);
}

const tagged = (licenses: License[], tag: string) => licenses.filter((license) => license.tags.includes(tag));
const seconds = (iso: string | null) => (iso === null ? null : Math.floor(Date.parse(iso) / 1000));

describe('queued bulk jobs (worker processes, shared Redis, emulator)', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('the admin API refuses what it must: no token, a wrong token, a bad body (naming the field), an unknown job; without ADMIN_TOKEN it does not exist', async () => {
		cluster = await Cluster.start({ label: 'bulkadmin', env: { ADMIN_TOKEN: TOKEN } });
		const worker = await cluster.spawnWorker('all');
		expect((await admin(worker, 'GET', '/admin/jobs', undefined, null)).status).toBe(401);
		expect((await admin(worker, 'GET', '/admin/jobs', undefined, 'not-the-token')).status).toBe(401);
		const cases: [unknown, string][] = [
			['not json', 'body'],
			[{ kind: 'explode', app_id: cluster.emu.appId }, 'kind'],
			[{ kind: 'create', app_id: 'nope', count: 1, duration_unit: 'days', duration_value: 1 }, 'app_id'],
			[{ kind: 'create', app_id: cluster.emu.appId, count: 0, duration_unit: 'days', duration_value: 1 }, 'count'],
			[{ kind: 'create', app_id: cluster.emu.appId, count: 5, duration_unit: 'days' }, 'duration_value'],
			[{ kind: 'extend', app_id: cluster.emu.appId, license_keys: ['K'], filter: { tag: 'x' }, duration_unit: 'days', duration_value: 1 }, 'license_keys'],
			[{ kind: 'extend', app_id: cluster.emu.appId, duration_unit: 'lifetime' }, 'duration_unit'],
			[{ kind: 'pause', app_id: cluster.emu.appId, filter: { colour: 'red' } }, 'filter.colour'],
			[{ kind: 'pause', app_id: cluster.emu.appId, notify_url: 'ftp://x' }, 'notify_url'],
			[{ kind: 'pause', app_id: cluster.emu.appId, notify_url: 'https://example.com/hook' }, 'notify_url'], // no LICENSE_WEBHOOK_SECRET here
			[{ kind: 'pause', app_id: cluster.emu.appId, surprise: 1 }, 'surprise'],
		];
		for (const [body, field] of cases) {
			const reply = await admin(worker, 'POST', '/admin/jobs', body);
			expect([reply.status, reply.json.field]).toEqual([400, field]);
			expect(String(reply.json.message)).toContain(field);
		}
		expect((await admin(worker, 'GET', '/admin/jobs/bulk_nope')).status).toBe(404);
		expect((await admin(worker, 'POST', '/admin/jobs/bulk_nope/cancel')).status).toBe(404);
		expect((await admin(worker, 'GET', '/admin/jobs?state=sleeping')).json.field).toBe('state');
		expect((await admin(worker, 'POST', '/admin/roots/evil;id/resync')).json.field).toBe('root');
		expect((await admin(worker, 'POST', '/admin/dead-letters/retry', { ids: [], all: true })).json.field).toBe('ids');
		expect((await admin(worker, 'POST', '/admin/roots/sub_123/resync')).status).toBe(202);
		expect((await admin(worker, 'GET', '/admin/dead-letters')).json.data).toEqual([]);
		const dry = await admin(worker, 'POST', '/admin/jobs', {
			kind: 'create',
			app_id: cluster.emu.appId,
			count: 2500,
			duration_unit: 'days',
			duration_value: 30,
			dry_run: true,
		});
		expect(dry).toEqual({ status: 200, json: { data: { kind: 'create', selected: 2500, calls: 3 } } });
		const plain = await cluster.spawnWorker('ingest', { ADMIN_TOKEN: '' });
		expect((await admin(plain, 'GET', '/admin/jobs')).status).toBe(404);
	});

	test('a 100,000-key create job and a 10,000-key extend job end with exact counts and every expiry; a job that pauses every active key of a tier pauses exactly its snapshot', async () => {
		cluster = await Cluster.start({ label: 'bulkbig', env: { ADMIN_TOKEN: TOKEN } });
		const worker = await cluster.spawnWorker('all');
		const app = cluster.emu.appId;
		const created = await ended(
			worker,
			await startJob(worker, {
				kind: 'create',
				app_id: app,
				count: 100000,
				duration_unit: 'days',
				duration_value: 30,
				tags: ['launch'],
				subscription_id: cluster.tiers.basic,
			}),
		);
		expect(created.state).toBe('completed');
		expect(created.result).toMatchObject({ succeeded: 100000, failed: 0, canceled: false });
		let licenses = cluster.licenses();
		expect(tagged(licenses, 'launch')).toHaveLength(100000);
		expect(new Set(tagged(licenses, 'launch').map((license) => license.license_key)).size).toBe(100000);

		// 10,000 of them (a tag on the first 10 chunks' worth) extended by 7 days: each key exactly +7 d.
		const some = tagged(licenses, 'launch').slice(0, 10000);
		const before = new Map(some.map((license) => [license.license_key, seconds(license.expires_at)]));
		const extended = await ended(
			worker,
			await startJob(worker, { kind: 'extend', app_id: app, license_keys: [...before.keys(), 'NO-SUCH-KEY'], duration_unit: 'days', duration_value: 7 }),
		);
		expect(extended.result).toMatchObject({ succeeded: 10000, failed: 1 });
		expect(extended.result?.failures).toEqual([{ license_key: 'NO-SUCH-KEY', reason: expect.stringContaining('LICENSE_NOT_FOUND') }]);
		licenses = cluster.licenses();
		const after = new Map(licenses.map((license) => [license.license_key, seconds(license.expires_at)]));
		const wrong = [...before].filter(([key, expiry]) => after.get(key) !== (expiry as number) + 7 * 86400);
		expect(wrong).toEqual([]);

		// Pause every ACTIVE key of the tier: the job's own pauses move keys out of its filter; it still pauses
		// exactly what it selected at start (and nothing it had not).
		const activeBefore = licenses.filter((license) => license.subscription_id === cluster.tiers.basic && license.status === 'active').length;
		const paused = await ended(
			worker,
			await startJob(worker, { kind: 'pause', app_id: app, filter: { subscription_id: cluster.tiers.basic, status: 'active' } }),
		);
		expect(paused.result).toMatchObject({ succeeded: activeBefore, failed: 0 });
		expect(cluster.licenses().filter((license) => license.subscription_id === cluster.tiers.basic && license.status === 'paused')).toHaveLength(activeBefore);
	}, 600000);

	test('the same jobs (100,000 created, 10,000 extended) through 3 SIGKILLs each and Keycrate faults (5% commit_then_500, 10% error_500, 10% 429): exactly the requested keys and extensions, every expiry checked', async () => {
		cluster = await Cluster.start({ label: 'bulkkill', env: { ADMIN_TOKEN: TOKEN } });
		let worker = await cluster.spawnWorker('all');
		const app = cluster.emu.appId;
		cluster.setFaults([
			{ endpoint: '*', kind: 'commit_then_500', rate: 0.05 },
			{ endpoint: '*', kind: 'error_500', rate: 0.1 },
			{ endpoint: '*', kind: 'error_429', rate: 0.1 },
		]);
		/** SIGKILLs the worker (and starts another) each time the job has done another `step` keys. */
		const killThrough = async (id: string, step: number): Promise<void> => {
			for (let kill = 1; kill <= 3; kill++) {
				await until(
					`${id} past ${kill * step} keys`,
					async () => {
						const view = (await admin(worker, 'GET', `/admin/jobs/${id}`)).json.data as JobView;
						return view.progress.done >= kill * step || view.state === 'completed' ? true : undefined;
						// A key list's snapshot reads the app's 1,000 pages first, through the same faults.
					},
					600000,
				);
				await worker.kill('SIGKILL');
				worker = await cluster.spawnWorker('all');
			}
		};
		const createId = await startJob(worker, { kind: 'create', app_id: app, count: 100000, duration_unit: 'days', duration_value: 10, tags: ['chaos'] });
		await killThrough(createId, 25000);
		const created = await ended(worker, createId);
		expect(created.result).toMatchObject({ succeeded: 100000, failed: 0 });
		const chaos = tagged(cluster.licenses(), 'chaos');
		expect(chaos).toHaveLength(100000);
		expect(new Set(chaos.map((license) => license.license_key)).size).toBe(100000);
		// Every key made once, with its own 10 days (a chunk applied twice would show as extra keys, never as expiry).
		expect(chaos.filter((license) => (seconds(license.expires_at) as number) - (seconds(license.created_at) as number) !== 10 * 86400)).toEqual([]);

		const some = chaos.slice(0, 10000);
		const before = new Map(some.map((license) => [license.license_key, seconds(license.expires_at) as number]));
		const extendId = await startJob(worker, { kind: 'extend', app_id: app, license_keys: [...before.keys()], duration_unit: 'hours', duration_value: 5 });
		await killThrough(extendId, 2500);
		const extended = await ended(worker, extendId);
		expect(extended.result).toMatchObject({ succeeded: 10000, failed: 0 });
		const after = new Map(cluster.licenses().map((license) => [license.license_key, seconds(license.expires_at)]));
		expect([...before].filter(([key, expiry]) => after.get(key) !== expiry + 5 * 3600)).toEqual([]);
		// The 90,000 keys outside the selection were not touched.
		expect(chaos.slice(10000).filter((license) => after.get(license.license_key) !== seconds(license.expires_at))).toEqual([]);
		const calls = cluster.calls();
		expect(calls['/license/create-bulk']?.['500'] ?? 0).toBeGreaterThan(0);
		expect(calls['/license/create-bulk']?.['429'] ?? 0).toBeGreaterThan(0);
		expect(calls['/license/get-bulk']?.['429'] ?? 0).toBeGreaterThan(0);
	}, 1800000);

	test('cancel stops after the current chunk and says what was done; the CLI starts, follows (plain lines in a pipe), lists and refuses bad flags', async () => {
		cluster = await Cluster.start({
			label: 'bulkcli',
			env: { ADMIN_TOKEN: TOKEN, BULK_BATCH_SIZE: '50', KEYCRATE_RATE_LIMIT: '300', EXPORT_DIR: mkdtempSync(join(tmpdir(), 'kc-exports-')) },
			emulatorLatencyMs: 20,
		});
		const worker = await cluster.spawnWorker('all');
		const app = cluster.emu.appId;
		const id = await startJob(worker, { kind: 'create', app_id: app, count: 5000, duration_unit: 'lifetime', tags: ['cancel-me'] });
		await until('a first chunk', async () => (((await admin(worker, 'GET', `/admin/jobs/${id}`)).json.data as JobView).progress.done > 0 ? true : undefined));
		expect((await admin(worker, 'POST', `/admin/jobs/${id}/cancel`)).status).toBe(200);
		const canceled = await ended(worker, id);
		expect(canceled.state).toBe('canceled');
		expect(canceled.result?.canceled).toBe(true);
		const made = tagged(cluster.licenses(), 'cancel-me').length;
		expect(made).toBe(canceled.result?.succeeded);
		expect(made).toBeLessThan(5000);
		expect((await admin(worker, 'POST', `/admin/jobs/${id}/cancel`)).status).toBe(409);

		const env = cluster.workerEnv(0);
		const cli = (...args: string[]) => run(process.execPath, [CLI_PATH, ...args], { cwd: WORKER_DIR, env, encoding: 'utf8' });
		const started = await cli('bulk', 'export', '--app-id', app, '--tag', 'cancel-me', '--format', 'jsonl', '--follow');
		expect(started.stdout).toMatch(/^queued bulk_\S+ \(export\)/);
		expect(started.stdout).toMatch(/\ncompleted \d+\/\d+ done, 0 failed\n/);
		expect(started.stdout).toContain(`result: ${made} succeeded, 0 failed`);
		const exportPath = /export: (\S+)/.exec(started.stdout)?.[1] as string;
		const { readFileSync } = await import('node:fs');
		expect(readFileSync(exportPath, 'utf8').trim().split('\n')).toHaveLength(made);
		const dry = await cli('bulk', 'pause', '--app-id', app, '--tag', 'cancel-me', '--dry-run');
		expect(dry.stdout).toBe(
			`dry run: pause of ${made} license(s), about ${Math.ceil(made / 100) + Math.ceil(made / 50)} Keycrate call(s); nothing was queued\n`,
		);
		expect((await cli('jobs', '--limit', '5')).stdout).toContain(id);

		const usage: [string[], string][] = [
			[['bulk'], 'bulk: give a kind'],
			[['bulk', 'create', '--app-id', app, '--count', 'ten', '--duration-unit', 'days'], '--count: must be a whole number'],
			[['bulk', 'create', '--app-id', app, '--count', '10', '--duration-unit', 'days'], '--duration-value: must be a whole number from 1 to 100000'],
			[['bulk', 'pause', '--app-id', app, '--colour', 'red'], "Unknown option '--colour'"],
			[['bulk', 'retier', '--app-id', app], '--tier: is required'],
			[['bulk', 'lock', '--app-id', app, '--hwid-lock', 'maybe'], '--hwid-lock: must be true or false'],
			[['job'], 'job: give one bulk job id'],
			[['cancel', 'bulk_unknown'], 'no bulk job bulk_unknown'],
		];
		for (const [args, message] of usage) {
			const failed = await cli(...args).then(
				() => undefined,
				(error: { code: number; stderr: string }) => error,
			);
			expect([args.join(' '), failed?.code]).toEqual([args.join(' '), 2]);
			expect(failed?.stderr).toContain(message);
		}
	}, 300000);

	test('notify_url: the result is POSTed there when the job ends, signed like the hand-off, under the job id as Idempotency-Key', async () => {
		cluster = await Cluster.start({ label: 'bulknotify', env: { ADMIN_TOKEN: TOKEN }, handoff: { failRate: 0 } });
		const secret = (cluster.handoffReceiver as NonNullable<typeof cluster.handoffReceiver>).secret;
		const received: { body: string; headers: IncomingHttpHeaders; key: string | undefined }[] = [];
		let answered = 0;
		const receiver = createServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => {
				// The first post fails: the notification is retried with the same id.
				response.statusCode = answered++ === 0 ? 500 : 200;
				if (response.statusCode === 200)
					received.push({
						body: Buffer.concat(chunks).toString('utf8'),
						headers: request.headers,
						key: request.headers['idempotency-key'] as string | undefined,
					});
				response.end('{}');
			});
		});
		await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
		try {
			const worker = await cluster.spawnWorker('all');
			const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook/keycrate-bulk-job`;
			const id = await startJob(worker, { kind: 'create', app_id: cluster.emu.appId, count: 30, duration_unit: 'days', duration_value: 3, notify_url: url });
			await ended(worker, id);
			const [post] = await until('the notification', async () => (received.length > 0 ? received : undefined), 60000);
			expect(verifyHandoffSignature(post.body, post.headers, secret)).toBe(true);
			expect(verifyHandoffSignature(post.body, post.headers, `whsec_${Buffer.alloc(32, 1).toString('base64')}`)).toBe(false);
			expect(post.headers['webhook-id']).toBe(id);
			expect(post.key).toBe(id);
			expect(JSON.parse(post.body)).toMatchObject({
				type: 'bulk_job.completed',
				id,
				data: { job_id: id, kind: 'create', succeeded: 30, failed: 0, canceled: false },
			});
		} finally {
			receiver.close();
			receiver.closeAllConnections();
		}
	});

	test('--follow draws a progress bar in a real terminal (tmux)', async () => {
		cluster = await Cluster.start({ label: 'bulktty', env: { ADMIN_TOKEN: TOKEN, BULK_BATCH_SIZE: '100' }, emulatorLatencyMs: 10 });
		await cluster.spawnWorker('process');
		const env = cluster.workerEnv(0);
		const session = `kcbulk${process.pid}`;
		const exports = Object.entries(env)
			.map(([name, value]) => `${name}='${value.replace(/'/g, "'\\''")}'`)
			.join(' ');
		const command = `env ${exports} ${process.execPath} ${CLI_PATH} bulk create --app-id ${cluster.emu.appId} --count 3000 --duration-unit days --duration-value 1 --follow; sleep 30`;
		execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '20', command]);
		try {
			const screen = await until(
				'the finished bar',
				async () => {
					const text = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
					return text.includes('result: 3000 succeeded') ? text : undefined;
				},
				120000,
			);
			expect(screen).toMatch(/[█░]{10,} 100% \| 3000\/3000 \| 0 failed/);
			expect(screen).not.toMatch(/\ncompleted 3000\/3000/); // the plain lines are for pipes only
		} finally {
			execFileSync('tmux', ['kill-session', '-t', session]);
		}
	});
});
