// The history's Redis side on the shared Redis (unique prefix): capped per root, TTLs on every key, all keys
// under the queue prefix's hash tag, the pending events an attempt takes (those received before it started,
// each once, a redelivery never doubled), and a write that fails is logged, never thrown.

import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { appendEntry, lookupEvent, readHistory, recordEvent, type HistoryConfig, type SyncEntry } from '../src/jobs/history.js';
import { createLogger } from '../src/log.js';
import { deletePrefix } from './support/redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './support/shared-redis.js';

/** Redis Cluster's slot of a key (ioredis's own dependency): a script's keys must share one. */
const keySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

function logSink(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
	const chunks: string[] = [];
	const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk.toString('utf8')), done()) });
	return {
		log: createLogger({ logLevel: 'info' }, stream),
		lines: () =>
			chunks
				.join('')
				.trim()
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line) as Record<string, unknown>),
	};
}

const entry = (n: number, root = 'sub_1'): SyncEntry => ({
	kind: 'sync',
	at: new Date(n).toISOString(),
	started_at: new Date(n).toISOString(),
	root,
	attempt: n,
	cause: `test ${n}`,
	calls: { stripe: 0, keycrate: 0 },
	outcome: 'done',
});

describe('history store', () => {
	const prefix = uniquePrefix('kc-history');
	const config: HistoryConfig = { queuePrefix: prefix, historyMaxEntries: 3, historyTtlSeconds: 600 };
	const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
	afterAll(async () => {
		await deletePrefix(SHARED_REDIS_URL, prefix);
		redis.disconnect();
	});

	test('capped at HISTORY_MAX_ENTRIES per root (the newest kept, oldest first), every key under the prefix with a TTL', async () => {
		const { log } = logSink();
		for (let n = 1; n <= 5; n++) await appendEntry(config, redis, log, entry(n));
		expect((await readHistory(config, redis, 'sub_1')).map((e) => (e as SyncEntry).attempt)).toEqual([3, 4, 5]);
		expect((await readHistory(config, redis, 'sub_1', 2)).map((e) => (e as SyncEntry).attempt)).toEqual([4, 5]);
		await recordEvent(config, redis, log, { id: 'evt_a', type: 'invoice.paid' }, 'sub_1');
		const keys = await redis.keys(`${prefix}*`);
		expect(keys.sort()).toEqual([`${prefix}:history:event:evt_a`, `${prefix}:history:pending:sub_1`, `${prefix}:history:root:sub_1`]);
		// One Redis Cluster slot with the queues (the prefix's hash tag), so the script and the MULTI may touch them together.
		expect(new Set([...keys, `${prefix}:keycrate-sync:wait`].map(keySlot)).size).toBe(1);
		for (const key of keys) {
			const ttl = await redis.ttl(key);
			expect(ttl).toBeGreaterThan(590);
			expect(ttl).toBeLessThanOrEqual(600);
		}
		expect(await lookupEvent(config, redis, 'evt_a')).toMatchObject({
			id: 'evt_a',
			root: 'sub_1',
			type: 'invoice.paid',
			received_at: expect.stringMatching(/Z$/),
		});
		expect(await lookupEvent(config, redis, 'evt_unknown')).toBeUndefined();
	});

	test('an attempt takes the events received before it started, each once; a redelivery is one event; later ones wait for the next', async () => {
		const { log } = logSink();
		await recordEvent(config, redis, log, { id: 'evt_1', type: 'checkout.session.completed' }, 'pi_1', 1000);
		await recordEvent(config, redis, log, { id: 'evt_2', type: 'payment_intent.succeeded' }, 'pi_1', 1001);
		await recordEvent(config, redis, log, { id: 'evt_1', type: 'checkout.session.completed' }, 'pi_1', 1002); // redelivered
		await recordEvent(config, redis, log, { id: 'evt_3', type: 'charge.refunded' }, 'pi_1', 5000); // after the start
		await appendEntry(config, redis, log, entry(1, 'pi_1'), 2000);
		await appendEntry(config, redis, log, entry(2, 'pi_1'), 2000);
		await appendEntry(config, redis, log, entry(3, 'pi_1'), 6000);
		const [first, second, third] = (await readHistory(config, redis, 'pi_1')) as SyncEntry[];
		expect(first.events).toEqual([
			{ id: 'evt_2', type: 'payment_intent.succeeded', received_ms: 1001 },
			{ id: 'evt_1', type: 'checkout.session.completed', received_ms: 1002 },
		]);
		expect(second.events).toBeUndefined();
		expect(third.events).toEqual([{ id: 'evt_3', type: 'charge.refunded', received_ms: 5000 }]);
	});

	test('HISTORY_MAX_ENTRIES=0 writes nothing', async () => {
		const { log } = logSink();
		const off = { ...config, historyMaxEntries: 0 };
		await recordEvent(off, redis, log, { id: 'evt_off', type: 'invoice.paid' }, 'sub_off');
		await appendEntry(off, redis, log, entry(1, 'sub_off'), Date.now());
		expect(await redis.keys(`${prefix}:history:*off*`)).toEqual([]);
	});

	test('a write Redis cannot take is logged as a warning and never thrown', async () => {
		const { log, lines } = logSink();
		const down = new Redis('redis://127.0.0.1:9', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
		down.on('error', () => undefined);
		await expect(appendEntry(config, down, log, entry(1, 'sub_down'), Date.now())).resolves.toBeUndefined();
		await expect(recordEvent(config, down, log, { id: 'evt_down', type: 'invoice.paid' }, 'sub_down')).resolves.toBeUndefined();
		expect(lines().map((line) => [line.level, line.msg])).toEqual([
			[40, 'history not written (the sync itself is unaffected)'],
			[40, 'event not indexed in the history (the webhook is unaffected)'],
		]);
		down.disconnect();
	});
});
