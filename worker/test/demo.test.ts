import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from './support/redis-private.js';
import { SHARED_REDIS_URL } from './support/shared-redis.js';
import { waitFor } from './support/wait.js';

const DEMO = fileURLToPath(new URL('../demo/demo.ts', import.meta.url));

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
	const started = Date.now();
	const child = spawn(process.execPath, ['--import', 'tsx', DEMO], {
		cwd: fileURLToPath(new URL('..', import.meta.url)),
		env: { HOME: process.env.HOME ?? '/tmp', PATH: process.env.PATH ?? '', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

async function keysUnder(prefix: string): Promise<number> {
	const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
	try {
		return (await redis.keys(`${prefix}*`)).length;
	} finally {
		redis.disconnect();
	}
}

async function answers(url: string): Promise<boolean> {
	const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
	probe.on('error', () => undefined);
	try {
		await probe.connect();
		return true;
	} catch {
		return false;
	} finally {
		probe.disconnect();
	}
}

describe('npm run demo', () => {
	test('with Redis at REDIS_URL: every delivery 200, four licenses as the story says, its keys removed, under 20 s', async () => {
		const result = await runDemo({ REDIS_URL: SHARED_REDIS_URL });
		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.ms).toBeLessThan(20000);
		const deliveries = result.stdout.split('\n').filter((line) => line.includes('→ HTTP'));
		expect(deliveries).toHaveLength(2);
		for (const line of deliveries) expect(line).toMatch(/→ HTTP \{"200":\d+\}$/);
		const rows = result.stdout.split('\n').filter((line) => /^ {2}[✓✗] /.test(line));
		expect(rows).toHaveLength(4);
		expect(rows.every((row) => row.startsWith('  ✓'))).toBe(true);
		expect(rows[0]).toMatch(/alice@example\.com\s+[A-Z0-9]{4}(-[A-Z0-9]{4}){3}\s+paused\s/);
		expect(rows[1]).toMatch(/dave@example\.com\s+\S+\s+active\s+never \(lifetime\)/);
		expect(rows[2]).toMatch(/bob@example\.com\s+\S+\s+active\s/);
		expect(rows[3]).toMatch(/carol@example\.com\s+\S+\s+paused\s/);
		expect(result.stdout).toContain('Licenses on Keycrate: 4;');
		expect(result.stdout).toContain('/license/create ×4');
		expect(result.stdout).toContain('Hand-offs posted to LICENSE_WEBHOOK_URL (an n8n Keycrate Sync Trigger would email the key): 4');
		expect(result.stdout).toContain('All as expected.');
		const prefix = /queue prefix: (\{keycrate-demo-[0-9a-f]+\})/.exec(result.stdout)?.[1];
		expect(prefix).toBeDefined();
		expect(await keysUnder(prefix as string)).toBe(0);
	});

	test('nothing at REDIS_URL but redis-server installed: starts a private one, says so, stops it', async () => {
		const port = await freePort();
		const result = await runDemo({ REDIS_URL: `redis://127.0.0.1:${port}` });
		expect(result.code).toBe(0);
		const private_ = /started a private redis-server on port (\d+)/.exec(result.stdout);
		expect(private_).not.toBeNull();
		expect(result.stdout).toContain(`nothing answered at redis://127.0.0.1:${port}`);
		expect(result.stdout).toContain('All as expected.');
		// The demo has exited; its redis-server may take a moment longer to close its port.
		await waitFor(async () => !(await answers(`redis://127.0.0.1:${private_?.[1]}`)), { what: 'the private redis-server to stop', timeoutMs: 5000 });
	});

	test('no Redis and no redis-server on the PATH: one line on how to get Redis, exit 1', async () => {
		const port = await freePort();
		const bin = mkdtempSync(join(tmpdir(), 'kc-demo-path-'));
		symlinkSync(process.execPath, join(bin, 'node'));
		const result = await runDemo({ REDIS_URL: `redis://127.0.0.1:${port}`, PATH: bin });
		expect(result.code).toBe(1);
		expect(result.stderr).toBe(
			`demo: no Redis answers at redis://127.0.0.1:${port} and redis-server is not installed; install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL\n`,
		);
	});
});
