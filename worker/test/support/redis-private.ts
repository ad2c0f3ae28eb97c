// Test Redis helpers: a unique queue prefix per test on the shared Redis (cleaned by SCAN+DEL of that prefix
// only), and a PRIVATE redis-server that a test may stop and restart without touching anyone else's data.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label = 'kc-test'): string {
	return `{${label}-${randomBytes(5).toString('hex')}}`;
}

/** Deletes every key under `prefix` (never FLUSH: the Redis is shared). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
	const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
	try {
		let cursor = '0';
		do {
			const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
			if (keys.length > 0) await redis.del(...keys);
			cursor = next;
		} while (cursor !== '0');
	} finally {
		redis.disconnect();
	}
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	throw new Error(`timed out waiting for ${what}`);
}

async function answersPing(url: string): Promise<boolean> {
	const probe = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
	probe.on('error', () => undefined);
	try {
		await probe.connect();
		return (await probe.ping()) === 'PONG';
	} catch {
		return false;
	} finally {
		probe.disconnect();
	}
}

export interface PrivateRedis {
	port: number;
	url: string;
	stop(): Promise<void>;
	start(): Promise<void>;
}

/** A throwaway redis-server without persistence on a free port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
	const port = await freePort();
	const url = `redis://127.0.0.1:${port}`;
	let child: ChildProcess | undefined;

	async function start(): Promise<void> {
		child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
			stdio: 'ignore',
		});
		await waitFor(() => answersPing(url), 5000, `redis-server on ${port}`);
	}

	async function stop(): Promise<void> {
		const running = child;
		child = undefined;
		if (running === undefined || running.exitCode !== null) return;
		await new Promise<void>((resolve) => {
			running.once('exit', () => resolve());
			running.kill('SIGKILL');
		});
	}

	await start();
	return { port, url, stop, start };
}
