// Redis crashing under a running cluster (a PRIVATE redis-server with an fsynced append-only file, SIGKILLed and
// restarted on its port): webhooks answer 503 while it is away and Stripe redelivers; jobs that were mid-flight
// are re-run; once Redis is back every event is processed and the licenses are those of one clean delivery.
// (ingest-redis-outage.test.ts covers the ingest alone, in-process; this is the whole worker, end to end.)

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { DurableRedis } from './support/cluster-redis.js';
import { StripeWorld } from './support/cluster-stripe.js';

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

	test('503 while Redis is down, nothing lost once it is back and Stripe redelivers; jobs cut off mid-flight converge', async () => {
		redis = await DurableRedis.start();
		const running = await Cluster.start({ label: 'redis-down', redisUrl: redis.url, env: { WORKER_CONCURRENCY: '4' } });
		cluster = running;
		const world = new StripeWorld(SEED, running.tiers, running.graceSeconds);
		const lifecycles = Array.from({ length: 24 }, (_, index) => (index % 2 === 0 ? world.oneOffPurchase() : world.subscriptionLifecycle()));
		lifecycles.forEach((lifecycle) => running.addLineItems(lifecycle.lineItems));
		const ingest = await running.spawnWorker('ingest');
		const processor = await running.spawnWorker('process');
		running.setFaults([{ endpoint: '*', kind: 'latency', latency_ms: 30, rate: 1 }]);
		const events = world.rng.shuffle(lifecycles.flatMap((lifecycle) => lifecycle.events));
		const half = Math.floor(events.length / 2);

		// First half accepted; Redis crashes while the processor is busy with it.
		const before = await running.deliver(events.slice(0, half));
		expect(before.accepted).toBe(half);
		while ((await running.jobCounts()).completed < 3) await sleep(20);
		const activeAtCrash = (await running.jobCounts()).active;
		await redis.crash();

		// Second half (and the first half again) while Redis is down: 503s, re-sent every 300 ms as Stripe would.
		let unavailable = 0;
		const during = running.deliver([...events.slice(half), ...events.slice(0, half)], {
			concurrency: 4,
			retryDelayMs: 300,
			retryForMs: 60000,
			onAnswer: (status) => {
				if (status === 503) unavailable += 1;
			},
		});
		const deadline = Date.now() + 20000;
		while (unavailable < 8 && Date.now() < deadline) await sleep(50);
		await sleep(2000);
		const ready = await fetch(`${ingest.ingestUrl}/readyz`);
		expect(ready.status).toBe(503);
		await redis.resume();
		const stats = await during;
		await running.waitForDrain(150000);

		console.log(`Redis crash with ${activeAtCrash} job(s) active: ${unavailable} answers 503 while down, ${stats.redelivered} redeliveries, answers ${JSON.stringify(stats.byStatus)}; processes alive: ingest ${ingest.running}, processor ${processor.running}`);
		expect(unavailable).toBeGreaterThan(0);
		expect(stats.accepted).toBe(events.length);
		expect(Object.keys(stats.byStatus).filter((status) => !['200', '503', '0'].includes(status))).toEqual([]);
		expect(ingest.running).toBe(true);
		expect(processor.running).toBe(true);
		expect(await running.failedJobs()).toEqual([]);
		const summary = checkLicenses(running.licenses(), lifecycles.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);
	}, 240000);
});
