// Builds, signs and posts webhook deliveries the way Stripe does (stripe.webhooks.generateTestHeaderString).

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import Stripe from 'stripe';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startIngest, type IngestServer } from '../../src/ingest/server.js';
import { SYNC_QUEUE } from '../../src/jobs/queues.js';
import { deletePrefix } from './redis-private.js';
import { SHARED_REDIS_URL, uniquePrefix } from './shared-redis.js';

export const SECRET_A = `whsec_${randomBytes(16).toString('hex')}`;
export const SECRET_B = `whsec_${randomBytes(16).toString('hex')}`;

export function ingestConfig(env: Record<string, string>): Config {
	return loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', STRIPE_WEBHOOK_SECRETS: SECRET_A, ...env }, 'ingest');
}

/** A small event in Stripe's envelope shape (see stripe/openapi fixtures3.json `event`), about a subscription. */
export function sampleEvent(overrides: Partial<{ id: string; type: string; livemode: boolean; created: number; object: Record<string, unknown> }> = {}) {
	const created = overrides.created ?? Math.floor(Date.now() / 1000);
	return {
		id: overrides.id ?? `evt_${randomBytes(12).toString('hex')}`,
		object: 'event',
		api_version: '2025-03-31.basil',
		created,
		livemode: overrides.livemode ?? false,
		pending_webhooks: 1,
		request: { id: null, idempotency_key: null },
		type: overrides.type ?? 'customer.subscription.updated',
		data: { object: overrides.object ?? { id: `sub_${randomBytes(8).toString('hex')}`, object: 'subscription', status: 'active' } },
	};
}

export function signatureHeader(payload: string, secret: string, timestamp?: number): string {
	return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

export interface Delivery {
	status: number;
	body: Record<string, unknown>;
}

/** POSTs raw bytes with the given headers; returns the status and parsed JSON answer. */
export function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Delivery> {
	return new Promise((resolve, reject) => {
		const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
			});
		});
		req.on('error', reject);
		req.end(body);
	});
}

/** Signs `event` with `secret` and delivers it to the ingest's webhook path. */
export function deliver(baseUrl: string, event: object, secret = SECRET_A, timestamp?: number): Promise<Delivery> {
	const payload = JSON.stringify(event, null, 2);
	return post(`${baseUrl}/webhooks/stripe`, payload, { 'stripe-signature': signatureHeader(payload, secret, timestamp) });
}

/** An in-process ingest on the shared Redis under a unique prefix, restarted per test (jest hooks). */
export interface IngestUnderTest {
	config: Config;
	ingest: IngestServer;
	inspect: Redis;
	queue: Queue;
	/** Restarts the ingest with more settings. */
	restartWith(env: Record<string, string>): Promise<void>;
}

export function useIngest(): IngestUnderTest {
	const state = {} as IngestUnderTest & { prefix: string };
	const silent = pino({ level: 'silent' });
	const startWith = async (env: Record<string, string> = {}) => {
		state.config = ingestConfig({ REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: state.prefix, ...env });
		state.ingest = await startIngest(state.config, silent);
	};
	state.restartWith = async (env) => {
		await state.ingest.close();
		await startWith(env);
	};
	beforeEach(async () => {
		state.prefix = uniquePrefix();
		state.inspect = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: null });
		state.queue = new Queue(SYNC_QUEUE, { connection: state.inspect, prefix: state.prefix });
		await startWith();
	});
	afterEach(async () => {
		await state.ingest.close();
		await state.queue.close();
		await state.inspect.quit();
		await deletePrefix(SHARED_REDIS_URL, state.prefix);
	});
	return state;
}
