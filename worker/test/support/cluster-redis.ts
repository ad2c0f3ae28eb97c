// A PRIVATE redis-server for outage tests, with an append-only file fsynced on every write: it can be killed
// (SIGKILL, like a crash) and restarted on the same port with what it had acknowledged, as a production Redis
// with AOF would. Never the shared Redis: that one is never stopped.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cluster-harness.js';
import { answersPing } from './redis-private.js';
import { waitFor } from './wait.js';

export class DurableRedis {
	private child?: ChildProcess;

	private constructor(
		readonly port: number,
		readonly dir: string,
	) {}

	get url(): string {
		return `redis://127.0.0.1:${this.port}`;
	}

	static async start(): Promise<DurableRedis> {
		const redis = new DurableRedis(await freePort(), mkdtempSync(join(tmpdir(), 'kc-redis-')));
		await redis.resume();
		return redis;
	}

	/** Starts (again) on the same port and directory, so the append-only file is replayed. */
	async resume(): Promise<void> {
		this.child = spawn(
			'redis-server',
			['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
			{ stdio: 'ignore' },
		);
		// Loading the AOF answers LOADING until done: up once a PING answers PONG.
		await waitFor(() => answersPing(this.url), { what: `redis-server on ${this.port} to come up`, timeoutMs: 10000 });
	}

	/** SIGKILL: a crash, not a shutdown (no final save; the AOF has every acknowledged write). */
	async crash(): Promise<void> {
		const child = this.child;
		this.child = undefined;
		if (child === undefined || child.exitCode !== null) return;
		await new Promise<void>((done) => {
			child.once('exit', () => done());
			child.kill('SIGKILL');
		});
	}

	async stop(): Promise<void> {
		await this.crash();
		rmSync(this.dir, { recursive: true, force: true });
	}
}
