// npm run chaos:cluster [-- --events 3000 --kills 3 --seed …]: the chaos run (chaos.ts) on a 3-master Redis Cluster
// started here on free loopback ports (no persistence, no replicas), the workers connecting with REDIS_CLUSTER=true
// and the harness' hash-tagged QUEUE_PREFIX. Redis is emptied once (FLUSHALL on every master, then resync); the
// same invariants as on one Redis. Everything is torn down at the end. Exits 1 when an invariant fails.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { waitUntil } from '../test/support/cluster-harness.js';
import { answersPing, freePort } from '../test/support/redis-private.js';
import { flushServers, report, runChaos } from './chaos.js';
import { chaosOptions, CHAOS_FLAGS } from './flags.js';

const MASTERS = 3;

const { values } = parseArgs({ options: CHAOS_FLAGS, strict: true });
const options = chaosOptions(values, 'cluster', { events: 3000, kills: 3 });
const print = (line: string) => process.stdout.write(`${line}\n`);

/** Asks one node for CLUSTER INFO's cluster_state. */
async function clusterState(port: number): Promise<string> {
	const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
	probe.on('error', () => undefined);
	try {
		await probe.connect();
		return /cluster_state:(\w+)/.exec(await probe.cluster('INFO'))?.[1] ?? 'unknown';
	} catch {
		return 'down';
	} finally {
		probe.disconnect();
	}
}

const dir = mkdtempSync(join(tmpdir(), 'kc-redis-cluster-'));
const ports: number[] = [];
const servers: ChildProcess[] = [];
let ok = false;
try {
	for (let index = 0; index < MASTERS; index++) {
		const port = await freePort();
		ports.push(port);
		servers.push(
			spawn(
				'redis-server',
				[
					'--port',
					String(port),
					'--bind',
					'127.0.0.1',
					'--dir',
					dir,
					'--cluster-enabled',
					'yes',
					'--cluster-config-file',
					`nodes-${port}.conf`,
					'--save',
					'',
					'--appendonly',
					'no',
				],
				{ stdio: 'ignore' },
			),
		);
	}
	for (const port of ports)
		await waitUntil(
			() => answersPing(`redis://127.0.0.1:${port}`),
			10000,
			() => `redis-server on ${port}`,
		);
	const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], {
		encoding: 'utf8',
	});
	if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
	await waitUntil(
		async () => (await Promise.all(ports.map(clusterState))).every((state) => state === 'ok'),
		30000,
		() => 'cluster_state:ok on every node',
	);
	const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
	print(
		`chaos on a Redis Cluster: masters ${ports.map((port) => `127.0.0.1:${port}`).join(', ')}; ${options.events} events ×${options.copies}, ≥ ${options.kills} SIGKILLs, seed ${options.seed}`,
	);

	const result = await runChaos(
		{
			url: urls.join(','),
			env: { REDIS_CLUSTER: 'true' },
			restart: () => Promise.reject(new Error('not on the cluster run')),
			flushAll: () => flushServers(urls),
		},
		{ ...options, restartRedis: false, print },
	);
	ok = report(result, print);
} finally {
	await Promise.all(
		servers.map(
			(server) =>
				new Promise<void>((done) => {
					if (server.exitCode !== null) return done();
					server.once('exit', () => done());
					server.kill('SIGKILL');
				}),
		),
	);
	rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
