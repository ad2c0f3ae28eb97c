// Redis crashing under a running cluster (a PRIVATE redis-server with an fsynced append-only file, SIGKILLed and
// restarted on its port): webhooks answer 503 while it is away and Stripe redelivers; jobs that were mid-flight
// run again; once Redis is back everything is synced and the licenses are what the stories leave. The processes
// log the outage once when it starts and once when it ends, not once per reconnect.
// (ingest-redis-outage.test.ts covers the ingest alone, in-process; this is the whole worker, end to end.)

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { DurableRedis } from './support/cluster-redis.js';
import { playPhase, StoryBook } from './support/cluster-stripe.js';
import { waitFor } from './support/wait.js';

const SEED = Number(process.env.REDIS_OUTAGE_SEED ?? 6379);

describe('Redis crash and restart under a running worker', () => {
	let redis: DurableRedis | undefined;
	let cluster: Cluster | undefined;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		await redis?.stop();
		expect(secrets).toEqual([]);
	});

	test('503 while Redis is down, nothing lost once it is back and Stripe redelivers; the outage logged once each way', async () => {
		redis = await DurableRedis.start();
		const running = await Cluster.start({ label: 'redis-down', redisUrl: redis.url, env: { WORKER_CONCURRENCY: '4' } });
		cluster = running;
		const book = new StoryBook(running.stripe, SEED, running.tiers, running.graceSeconds);
		const stories = Array.from({ length: 24 }, (_, index) => (index % 2 === 0 ? book.oneOff() : book.subscription()));
		const ingest = await running.spawnWorker('ingest');
		const processor = await running.spawnWorker('process');
		running.setFaults([{ endpoint: '*', kind: 'latency', latency_ms: 30, rate: 1 }]);

		playPhase(stories, 0);
		const first = await running.deliver({ copies: 1 });
		expect(first.accepted).toBe(first.deliveries);
		await waitFor(async () => (await running.jobCounts()).completed >= 3, { what: '3 syncs completed', timeoutMs: 60000, intervalMs: 20 });
		const activeAtCrash = (await running.jobCounts()).active;
		await redis.crash();

		// The next phases while Redis is down: 503s, re-sent with backoff as Stripe would.
		for (let phase = 1; playPhase(stories, phase) > 0; phase++) void 0;
		const during = running.deliver({ copies: 1, retries: 20 });
		const deadline = Date.now() + 20000;
		const refused = () => running.stripe.deliveries().filter((record) => record.status === 503).length;
		while (refused() < 8 && Date.now() < deadline) await sleep(50);
		await sleep(3000);
		expect((await fetch(`${ingest.ingestUrl}/readyz`)).status).toBe(503);
		await redis.resume();
		const stats = await during;
		await running.waitForDrain(150000);

		console.log(`Redis crash with ${activeAtCrash} job(s) active: ${refused()} answers 503 while down; answers ${JSON.stringify(stats.byStatus)}`);
		expect(refused()).toBeGreaterThan(0);
		expect(stats.accepted).toBe(stats.deliveries);
		expect(ingest.running).toBe(true);
		expect(processor.running).toBe(true);
		expect(await running.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			running.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// One license per seat that was ever active when synced: a paused seat never seen active holds none.
		expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
		expect(summary.licenses).toBeLessThanOrEqual(summary.seats);

		// Down for seconds, many reconnect attempts: one line when it went, one when it came back.
		const lines = processor.logLines().map((line) => String(line.msg));
		expect(lines.filter((msg) => msg.startsWith('Redis unavailable'))).toHaveLength(1);
		expect(lines.filter((msg) => msg.startsWith('Redis available again'))).toHaveLength(1);
		// Not a stack trace per reconnect attempt: at most the few jobs that were mid-flight when it went.
		expect((processor.text().match(/"stack"/g) ?? []).length).toBeLessThanOrEqual(activeAtCrash + 2);
	}, 240000);
});
