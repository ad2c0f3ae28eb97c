import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startIngest, type IngestServer } from '../src/ingest/server.js';
import { SYNC_QUEUE } from '../src/jobs/queues.js';
import { startPrivateRedis, type PrivateRedis } from './support/redis-private.js';
import { uniquePrefix } from './support/shared-redis.js';
import { waitFor } from './support/wait.js';
import { deliver, ingestConfig, sampleEvent } from './support/ingest-webhooks.js';

async function readyStatus(url: string): Promise<number> {
	return (await fetch(`${url}/readyz`)).status;
}

describe('ingest while Redis goes away and comes back (private redis-server)', () => {
	let redis: PrivateRedis;
	let ingest: IngestServer | undefined;

	beforeAll(async () => {
		redis = await startPrivateRedis();
	});

	afterAll(async () => {
		await ingest?.close();
		await redis.stop();
	});

	test('503 while Redis is down (readyz too); once it is back, the redelivery is accepted and queued', async () => {
		const prefix = uniquePrefix();
		const config = ingestConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
		ingest = await startIngest(config, pino({ level: 'silent' }));
		const url = ingest.url;

		const before = sampleEvent();
		expect((await deliver(url, before)).status).toBe(200);
		expect(await readyStatus(url)).toBe(200);

		await redis.stop();
		await waitFor(async () => (await readyStatus(url)) === 503, { what: 'readyz 503', intervalMs: 100 });
		expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ready: false, redis: 'down', reason: expect.stringMatching(/^Redis /) });
		expect((await fetch(`${url}/healthz`)).status).toBe(200);

		const during = sampleEvent();
		const refused = await deliver(url, during);
		expect(refused.status).toBe(503);
		expect(refused.body).toEqual({ error: 'unavailable', message: 'the event could not be queued; retry later' });
		expect(ingest.counters.unavailable).toBe(1);

		await redis.start();
		await waitFor(async () => (await readyStatus(url)) === 200, { what: 'readyz 200 after restart', intervalMs: 100 });
		// Stripe redelivers the refused event; this time it is queued.
		expect((await deliver(url, during)).status).toBe(200);

		const check = new Redis(redis.url, { maxRetriesPerRequest: null });
		const queue = new Queue(SYNC_QUEUE, { connection: check, prefix });
		try {
			const jobs = await queue.getJobs(['waiting']);
			// The restarted Redis kept nothing (no persistence): only the redelivered event is there.
			expect(jobs.map((job) => job.data.root)).toEqual([during.data.object.id]);
		} finally {
			await queue.close();
			await check.quit();
		}
	});

	test('an ingest started while Redis is down listens, answers 503, and recovers when Redis starts', async () => {
		await ingest?.close();
		ingest = undefined;
		await redis.stop();
		const prefix = uniquePrefix();
		const started = Date.now();
		ingest = await startIngest(ingestConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix }), pino({ level: 'silent' }));
		expect(Date.now() - started).toBeLessThan(8000);
		const event = sampleEvent();
		expect((await deliver(ingest.url, event)).status).toBe(503);
		expect(await readyStatus(ingest.url)).toBe(503);

		await redis.start();
		const url = ingest.url;
		await waitFor(async () => (await readyStatus(url)) === 200, { what: 'readyz 200', intervalMs: 100 });
		expect((await deliver(url, event)).status).toBe(200);
	});
});
