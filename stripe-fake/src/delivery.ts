/**
 * Signed webhook delivery, as Stripe sends it: a JSON POST with `Stripe-Signature`, over keep-alive
 * connections, with as many in flight as asked; duplicates and a seeded shuffle on request, retries with a
 * short backoff (Stripe's own schedule spans days).
 */
import http from 'node:http';
import https from 'node:https';
import type Stripe from 'stripe';
import { FakeUsageError } from './errors';
import { signatureHeader } from './signature';

export interface WebhookEndpoint {
	url: string;
	/** `whsec_…`: the key of the HMAC, used as the string it is (as Stripe does). */
	secret: string;
}

export interface DeliverOptions {
	/** Default: every event recorded since the last deliver() (or all, when given here). */
	events?: readonly Stripe.Event[];
	/** Each event is sent this many times (default 1). */
	copies?: number;
	/** Shuffles the deliveries (all copies of all events) with this seed; in recorded order when absent. */
	shuffleSeed?: number;
	/** Default: the configured webhooks. Each delivery goes to one of them, picked with the seed (a load balancer in front of several ingest processes). */
	urls?: readonly string[];
	/** Deliveries in flight at once (default 8). */
	concurrency?: number;
	/** Further attempts after a non-2xx or a network failure (default 0 for deliver(): the caller sees every failure); with several URLs each retry picks one again. */
	retries?: number;
	/** Per attempt; default 10 s. */
	timeoutMs?: number;
}

export interface DeliveryResult {
	/** Deliveries made (each counted once, whatever its attempts). */
	sent: number;
	/** The last attempt's outcome per delivery: an HTTP status, `error` (network) or `timeout`. */
	byStatus: Record<string, number>;
}

export interface DeliveryRecord {
	event: string;
	type: string;
	url: string;
	attempt: number;
	status: number | 'error' | 'timeout';
	at: number;
}

export const USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

/** mulberry32: a small seeded generator, so that a shuffled run can be replayed. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export function shuffle<T>(items: T[], random: () => number): T[] {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[items[i], items[j]] = [items[j], items[i]];
	}
	return items;
}

function integerOption(value: unknown, field: string, min: number, max: number, fallback: number): number {
	if (value === undefined) return fallback;
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
		throw new FakeUsageError(field, `must be an integer from ${min} to ${max}`);
	return value;
}

export function checkEndpoint(endpoint: WebhookEndpoint, field: string): WebhookEndpoint {
	let url: URL;
	try {
		url = new URL(endpoint?.url);
	} catch {
		throw new FakeUsageError(`${field}.url`, 'must be an http(s) URL');
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FakeUsageError(`${field}.url`, 'must be an http(s) URL');
	if (typeof endpoint.secret !== 'string' || !/^whsec_\S{8,}$/.test(endpoint.secret))
		throw new FakeUsageError(`${field}.secret`, 'must be a whsec_… signing secret');
	return { url: endpoint.url, secret: endpoint.secret };
}

interface Delivery {
	body: string;
	event: Stripe.Event;
	endpoint: WebhookEndpoint;
}

export interface DeliveryPlan {
	deliveries: Delivery[];
	concurrency: number;
	retries: number;
	timeoutMs: number;
	endpoints: WebhookEndpoint[];
	random: () => number;
}

export class Deliverer {
	private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
	private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
	private readonly log: DeliveryRecord[] = [];
	/** Scheduled waits and how to end each early (stop()). */
	private readonly timers = new Map<NodeJS.Timeout, () => void>();
	private readonly pending = new Set<Promise<unknown>>();
	private autoChain: Promise<void> = Promise.resolve();
	private stopped = false;

	constructor(private readonly endpoints: () => readonly WebhookEndpoint[]) {}

	records(): DeliveryRecord[] {
		return this.log.map((record) => ({ ...record }));
	}

	clearRecords(): void {
		this.log.length = 0;
	}

	private resolveEndpoints(urls: readonly string[] | undefined): WebhookEndpoint[] {
		const configured = this.endpoints();
		if (urls === undefined) {
			if (configured.length === 0) throw new FakeUsageError('webhooks', 'no webhook endpoint is configured: pass webhooks to startStripeFake or urls here');
			return [...configured];
		}
		if (!Array.isArray(urls) || urls.length === 0) throw new FakeUsageError('urls', 'must be a non-empty list of URLs');
		return urls.map((url, index) => {
			const known = configured.find((endpoint) => endpoint.url === url);
			if (known) return known;
			if (configured.length === 0) throw new FakeUsageError(`urls[${index}]`, 'has no signing secret: configure webhooks with their secrets');
			// Several ingest processes behind one Stripe endpoint share its secret.
			return checkEndpoint({ url, secret: configured[0].secret }, `urls[${index}]`);
		});
	}

	/** Checks the options and lays out every delivery (throws FakeUsageError before anything is sent). */
	plan(events: readonly Stripe.Event[], options: DeliverOptions): DeliveryPlan {
		const copies = integerOption(options.copies, 'copies', 1, 100, 1);
		const concurrency = integerOption(options.concurrency, 'concurrency', 1, 256, 8);
		const retries = integerOption(options.retries, 'retries', 0, 20, 0);
		const timeoutMs = integerOption(options.timeoutMs, 'timeoutMs', 1, 600_000, 10_000);
		if (options.shuffleSeed !== undefined && !Number.isSafeInteger(options.shuffleSeed)) throw new FakeUsageError('shuffleSeed', 'must be an integer');
		const endpoints = this.resolveEndpoints(options.urls);
		const random = seededRandom(options.shuffleSeed ?? 0x5eed);
		const bodies = events.map((event) => JSON.stringify(event, null, 2));
		const deliveries: Delivery[] = [];
		for (let copy = 0; copy < copies; copy++) {
			events.forEach((event, index) => deliveries.push({ body: bodies[index], event, endpoint: endpoints[0] }));
		}
		if (options.shuffleSeed !== undefined) shuffle(deliveries, random);
		if (endpoints.length > 1) for (const delivery of deliveries) delivery.endpoint = endpoints[Math.floor(random() * endpoints.length)];
		return { deliveries, concurrency, retries, timeoutMs, endpoints, random };
	}

	async run({ deliveries, concurrency, retries, timeoutMs, endpoints, random }: DeliveryPlan): Promise<DeliveryResult> {
		const byStatus: Record<string, number> = {};
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < deliveries.length && !this.stopped) {
				const delivery = deliveries[next++];
				let status = await this.attempt(delivery, 0, timeoutMs);
				for (let attempt = 1; attempt <= retries && !ok(status) && !this.stopped; attempt++) {
					await this.sleep(backoff(attempt));
					// Behind a load balancer a retry may reach another process: the one that failed may be down.
					const target = endpoints.length > 1 ? { ...delivery, endpoint: endpoints[Math.floor(random() * endpoints.length)] } : delivery;
					status = await this.attempt(target, attempt, timeoutMs);
				}
				byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
			}
		};
		await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, worker));
		return { sent: deliveries.length, byStatus };
	}

	/**
	 * Stripe's way for new events: every configured endpoint gets each event once, in recorded order; a failed
	 * attempt is retried later (bounded) without holding back the events after it.
	 */
	autoDeliver(events: readonly Stripe.Event[], retries: number): void {
		const endpoints = this.endpoints();
		for (const event of events) {
			const body = JSON.stringify(event, null, 2);
			for (const endpoint of endpoints) {
				const delivery = { body, event, endpoint };
				this.autoChain = this.autoChain.then(() => this.autoAttempt(delivery, 0, retries));
			}
		}
		this.track(this.autoChain);
	}

	private async autoAttempt(delivery: Delivery, attempt: number, retries: number): Promise<void> {
		if (this.stopped) return;
		const status = await this.attempt(delivery, attempt, 10_000);
		if (ok(status) || attempt >= retries || this.stopped) return;
		this.track(this.sleep(backoff(attempt + 1)).then(() => this.autoAttempt(delivery, attempt + 1, retries)));
	}

	private track(promise: Promise<unknown>): void {
		this.pending.add(promise);
		promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
	}

	/** Resolves when no automatic delivery or retry is in flight or scheduled. */
	async idle(): Promise<void> {
		while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
	}

	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.timers.delete(timer);
				resolve();
			}, ms);
			this.timers.set(timer, resolve);
		});
	}

	private attempt(delivery: Delivery, attempt: number, timeoutMs: number, reconnected = false): Promise<number | 'error' | 'timeout'> {
		const url = new URL(delivery.endpoint.url);
		const secure = url.protocol === 'https:';
		// Signed with the wall clock: receivers check the timestamp against theirs, not the fake's.
		const header = signatureHeader(delivery.body, delivery.endpoint.secret, Math.floor(Date.now() / 1000));
		return new Promise((resolve) => {
			let settled = false;
			const finish = (status: number | 'error' | 'timeout'): void => {
				if (settled) return;
				settled = true;
				this.log.push({ event: delivery.event.id, type: delivery.event.type, url: delivery.endpoint.url, attempt, status, at: Date.now() });
				resolve(status);
			};
			const request = (secure ? https : http).request(
				url,
				{
					method: 'POST',
					agent: secure ? this.httpsAgent : this.httpAgent,
					headers: {
						'content-type': 'application/json; charset=utf-8',
						'content-length': Buffer.byteLength(delivery.body),
						'user-agent': USER_AGENT,
						'stripe-signature': header,
						'cache-control': 'no-cache',
						accept: '*/*; q=0.5, application/xml',
					},
					timeout: timeoutMs,
				},
				(response) => {
					response.resume();
					response.on('end', () => finish(response.statusCode ?? 0));
					response.on('error', () => finish('error'));
				},
			);
			request.on('timeout', () => {
				request.destroy();
				finish('timeout');
			});
			request.on('error', (error: NodeJS.ErrnoException) => {
				// A kept-alive socket the receiver closed while idle: nothing was delivered, so send again on a new one.
				if (request.reusedSocket && !reconnected && !settled && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
					settled = true;
					this.attempt(delivery, attempt, timeoutMs, true).then(resolve);
					return;
				}
				finish('error');
			});
			request.end(delivery.body);
		});
	}

	stop(): void {
		this.stopped = true;
		for (const [timer, resolve] of this.timers) {
			clearTimeout(timer);
			resolve();
		}
		this.timers.clear();
		this.httpAgent.destroy();
		this.httpsAgent.destroy();
	}
}

function ok(status: number | 'error' | 'timeout'): boolean {
	return typeof status === 'number' && status >= 200 && status < 300;
}

function backoff(attempt: number): number {
	return Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS);
}
