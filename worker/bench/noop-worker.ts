// BullMQ's ceiling on this machine: a worker process whose processor does nothing (the P2 baseline).
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
const worker = new Worker(process.env.QUEUE as string, async () => undefined, {
	connection,
	prefix: process.env.QUEUE_PREFIX,
	concurrency: Number(process.env.CONCURRENCY),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
