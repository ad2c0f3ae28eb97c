// A PRIVATE redis-server (no persistence, on a free port) for `npm run demo` when no Redis answers, and for
// tests that stop and restart Redis without touching anyone else's data; plus the probes and the prefix
// cleanup both need. Never FLUSH: a Redis next to this one may be shared.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { waitFor } from './wait.js';

const START_TIMEOUT_MS = 5000;

/**
 * Deletes every key under `prefix` with SCAN + DEL (never FLUSH: the Redis may be shared); returns the count.
 * On a cluster each master is scanned (a SCAN sees one node's keys only).
 */
export async function deleteKeysUnder(redis: Redis | Cluster, prefix: string): Promise<number> {
	if (redis instanceof Cluster) {
		let deleted = 0;
		for (const node of redis.nodes('master')) deleted += await deleteKeysUnder(node, prefix);
		return deleted;
	}
	// Glob characters in the prefix are matched literally.
	const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
	let cursor = '0';
	let deleted = 0;
	do {
		const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
		// One DEL per page: on a cluster node too, as the prefix's hash tag puts them all in one slot.
		if (keys.length > 0) deleted += await redis.del(...keys);
		cursor = next;
	} while (cursor !== '0');
	return deleted;
}

/** deleteKeysUnder over a connection of its own. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
	const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
	try {
		await deleteKeysUnder(redis, prefix);
	} finally {
		redis.disconnect();
	}
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** True when a Redis at `url` answers PING; one attempt, no retries, at most about a second. */
export async function answersPing(url: string): Promise<boolean> {
	const probe = new Redis(url, {
		lazyConnect: true,
		connectTimeout: 1000,
		maxRetriesPerRequest: 0,
		enableOfflineQueue: false,
		retryStrategy: () => null,
	});
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

export function redisServerInstalled(): boolean {
	return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface PrivateRedis {
	port: number;
	url: string;
	/** SIGKILL by default: tests use it as a crash. Synchronous up to the kill, so an 'exit' handler may call it. */
	stop(signal?: NodeJS.Signals): Promise<void>;
	/** Starts it again on the same port (empty: nothing is persisted). */
	start(): Promise<void>;
}

/** A throwaway redis-server without persistence on a free port; resolves once it answers PING. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
	const port = await freePort();
	const url = `redis://127.0.0.1:${port}`;
	let child: ChildProcess | undefined;

	async function start(): Promise<void> {
		child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
			stdio: 'ignore',
		});
		await waitFor(() => answersPing(url), { what: `redis-server on ${port}`, timeoutMs: START_TIMEOUT_MS });
	}

	async function stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
		const running = child;
		child = undefined;
		if (running === undefined || running.exitCode !== null) return;
		await new Promise<void>((resolve) => {
			running.once('exit', () => resolve());
			running.kill(signal);
		});
	}

	await start();
	return { port, url, stop, start };
}
