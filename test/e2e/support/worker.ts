/**
 * The Keycrate Stripe worker (`node worker/dist/cli.js start --role all`) against the suite's emulator, for the
 * Keycrate Worker node: its admin API behind ADMIN_TOKEN (bulk jobs), and notifications signed with
 * LICENSE_WEBHOOK_SECRET. Redis is the machine's (REDIS_URL, default 127.0.0.1:6379), under a QUEUE_PREFIX of
 * its own that stop() deletes again. No Stripe call is made by bulk jobs, so any sk_test_ key does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { EmulatorUnderTest } from './emulator';
import { freePort } from './n8n';

const WORKER_CLI = resolve(__dirname, '../../../worker/dist/cli.js');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const START_TIMEOUT_MS = 30_000;

export class WorkerUnderTest {
	private output = '';

	private constructor(
		private readonly child: ChildProcess,
		readonly url: string,
		readonly adminToken: string,
		readonly prefix: string,
	) {
		child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
		child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
	}

	/** Starts the worker; resolves once its /readyz answers 200. `secret` signs job notifications. */
	static async start(emulator: EmulatorUnderTest, secret: string, env: Record<string, string> = {}): Promise<WorkerUnderTest> {
		const port = await freePort();
		const adminToken = randomBytes(24).toString('hex');
		const prefix = `{kce2e-${randomBytes(6).toString('hex')}}`;
		const child = spawn(process.execPath, [WORKER_CLI, 'start', '--role', 'all'], {
			cwd: resolve(__dirname, '../../../worker'),
			env: {
				PATH: process.env.PATH,
				HOME: process.env.HOME,
				NO_PROXY: '127.0.0.1,localhost',
				REDIS_URL,
				QUEUE_PREFIX: prefix,
				KEYCRATE_API_URL: emulator.url,
				KEYCRATE_API_KEY: emulator.apiKey,
				KEYCRATE_APP_ID: emulator.appId,
				STRIPE_API_KEY: 'sk_test_e2e',
				STRIPE_WEBHOOK_SECRETS: 'whsec_e2e',
				STRIPE_RATE_LIMIT: '0',
				ADMIN_TOKEN: adminToken,
				LICENSE_WEBHOOK_SECRET: secret,
				HOST: '127.0.0.1',
				PORT: String(port),
				// Notifications that do not arrive are retried in seconds, not the default minutes.
				RETRY_SCHEDULE: '500ms,1s,2s,3s,5s',
				SHUTDOWN_TIMEOUT_MS: '3000',
				LOG_LEVEL: 'info',
				// e.g. LICENSE_WEBHOOK_URL and a Stripe fake (STRIPE_API_BASE, STRIPE_WEBHOOK_SECRETS).
				...env,
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const worker = new WorkerUnderTest(child, `http://127.0.0.1:${port}`, adminToken, prefix);
		const deadline = Date.now() + START_TIMEOUT_MS;
		for (;;) {
			if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the worker exited before it was ready:\n${worker.output}`);
			const ready = await fetch(`${worker.url}/readyz`).then(
				(response) => response.ok,
				() => false,
			);
			if (ready) return worker;
			if (Date.now() > deadline) {
				await worker.stop();
				throw new Error(`the worker was not ready within ${START_TIMEOUT_MS / 1000} s:\n${worker.output}`);
			}
			await new Promise((done) => setTimeout(done, 200));
		}
	}

	/** Everything the worker printed (its JSON log lines). */
	log(): string {
		return this.output;
	}

	/** The job as GET /admin/jobs/{id} answers it (its `data`). */
	async job(id: string): Promise<Record<string, unknown>> {
		const response = await fetch(`${this.url}/admin/jobs/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${this.adminToken}` } });
		if (!response.ok) throw new Error(`GET /admin/jobs/${id}: HTTP ${response.status} ${await response.text()}`);
		return ((await response.json()) as { data: Record<string, unknown> }).data;
	}

	/** Stops the worker (SIGTERM, then SIGKILL) and deletes its Redis keys. */
	async stop(): Promise<void> {
		if (this.child.exitCode === null && this.child.signalCode === null) {
			await new Promise<void>((done) => {
				this.child.once('exit', () => done());
				this.child.kill('SIGTERM');
				setTimeout(() => this.child.kill('SIGKILL'), 10_000).unref();
			});
		}
		const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
		try {
			await redis.connect();
			const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
			let cursor = '0';
			do {
				const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
				if (keys.length > 0) await redis.del(...keys);
				cursor = next;
			} while (cursor !== '0');
		} catch {
			// Leftover keys under a random prefix harm nobody.
		} finally {
			redis.disconnect();
		}
	}
}

/** Posts one hand-off with the worker's own delivery code (support/deliver-handoff.ts, in a child process), as its hand-off job and its retries do. */
export async function deliverWithWorkerCode(delivery: {
	url: string;
	secret: string;
	email: string;
	licenseKey: string;
	expiresAt: string | null;
}): Promise<{ status?: number; error?: string }> {
	const { stdout } = await promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'deliver-handoff.ts'), JSON.stringify(delivery)]);
	return JSON.parse(stdout) as { status?: number; error?: string };
}
