// The worker's Prometheus metrics: one registry of our own (not prom-client's global one, so an embedding process
// keeps its own), Node's default process metrics, and the counters and histograms the ingest, the jobs and the two
// API clients record into. Labels are closed sets (reasons, outcomes, endpoints, status codes): never an id, a key
// or anything a sender chooses, so the series stay few and no secret can reach a label.

import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

let defaultsOn = false;
/** Node's process metrics (CPU, memory, event loop lag, GC); started once, by the first server that serves /metrics. */
export function enableDefaultMetrics(): void {
	if (defaultsOn) return;
	defaultsOn = true;
	collectDefaultMetrics({ register: registry });
}

/** Webhook answers are milliseconds (verify, one Redis write); seconds mean Redis is struggling. */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** One HTTP call to Keycrate or Stripe. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A sync reads a few Stripe objects and writes a few licenses. */
const SYNC_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const webhooksReceived = new Counter({
	name: 'keycrate_worker_webhooks_received_total',
	help: 'Webhook deliveries received on the Stripe endpoint (POST), before any check',
	registers: [registry],
});

export const webhooksVerified = new Counter({
	name: 'keycrate_worker_webhooks_verified_total',
	help: 'Webhook deliveries whose Stripe signature and payload checked out',
	registers: [registry],
});

export const webhooksRejected = new Counter({
	name: 'keycrate_worker_webhooks_rejected_total',
	help: 'Webhook deliveries refused with a 4xx, by reason (no_matching_signature, stale_timestamp, too_large, …)',
	labelNames: ['reason'] as const,
	registers: [registry],
});

export const webhooksHandled = new Counter({
	name: 'keycrate_worker_webhooks_handled_total',
	help: 'Verified webhook deliveries by outcome: queued, skipped (names no root), ignored_livemode, unavailable (503, Redis could not take it)',
	labelNames: ['outcome'] as const,
	registers: [registry],
});

export const webhookAckSeconds = new Histogram({
	name: 'keycrate_worker_webhook_ack_seconds',
	help: 'Time from a webhook request to its answer, by HTTP status',
	labelNames: ['status'] as const,
	buckets: ACK_BUCKETS,
	registers: [registry],
});

export const syncs = new Counter({
	name: 'keycrate_worker_syncs_total',
	help: 'Sync job runs by outcome: synced, skipped, redirected, rate_limited (Stripe; runs again), settle_wait (cut off before; runs again), failed (retried or dead-lettered)',
	labelNames: ['outcome'] as const,
	registers: [registry],
});

export const syncSeconds = new Histogram({
	name: 'keycrate_worker_sync_duration_seconds',
	help: 'Duration of one sync job run, by outcome',
	labelNames: ['outcome'] as const,
	buckets: SYNC_BUCKETS,
	registers: [registry],
});

export const bulkChunks = new Counter({
	name: 'keycrate_worker_bulk_chunks_total',
	help: 'Bulk job chunks by job kind and outcome: done, yielded (stepped aside for syncs), rate_limited, unanswered (settled later), failed',
	labelNames: ['kind', 'outcome'] as const,
	registers: [registry],
});

export const bulkKeys = new Counter({
	name: 'keycrate_worker_bulk_keys_total',
	help: 'Keys of finished bulk chunks by job kind and result (succeeded, failed)',
	labelNames: ['kind', 'result'] as const,
	registers: [registry],
});

export const keycrateRequests = new Counter({
	name: 'keycrate_worker_keycrate_requests_total',
	help: 'HTTP requests to the Keycrate API by endpoint and status (HTTP code, or timeout, network, unreachable); each retry counts',
	labelNames: ['endpoint', 'status'] as const,
	registers: [registry],
});

export const keycrateSeconds = new Histogram({
	name: 'keycrate_worker_keycrate_request_duration_seconds',
	help: 'Duration of one HTTP request to the Keycrate API, by endpoint',
	labelNames: ['endpoint'] as const,
	buckets: CALL_BUCKETS,
	registers: [registry],
});

export const stripeRequests = new Counter({
	name: 'keycrate_worker_stripe_requests_total',
	help: 'HTTP requests to the Stripe API by endpoint (ids replaced by {id}) and status (HTTP code, or timeout, network); each retry counts',
	labelNames: ['endpoint', 'status'] as const,
	registers: [registry],
});

export const stripeSeconds = new Histogram({
	name: 'keycrate_worker_stripe_request_duration_seconds',
	help: 'Duration of one HTTP request to the Stripe API until its response headers, by endpoint',
	labelNames: ['endpoint'] as const,
	buckets: CALL_BUCKETS,
	registers: [registry],
});

export const deadLettered = new Counter({
	name: 'keycrate_worker_dead_lettered_total',
	help: 'Jobs this process moved to the dead letters (failed for good), by queue',
	labelNames: ['queue'] as const,
	registers: [registry],
});

/** Reasons a webhook is refused with a 4xx (ingest/verify.ts, ingest/payload.ts, the body limit). */
export const REJECT_REASONS = [
	'missing_signature',
	'malformed_signature',
	'no_matching_signature',
	'stale_timestamp',
	'future_timestamp',
	'unparsable_body',
	'invalid_text',
	'too_deep',
	'too_large',
] as const;
export const WEBHOOK_OUTCOMES = ['queued', 'skipped', 'ignored_livemode', 'unavailable'] as const;
export const SYNC_OUTCOMES = ['synced', 'skipped', 'redirected', 'rate_limited', 'settle_wait', 'failed'] as const;
export type SyncMetricOutcome = (typeof SYNC_OUTCOMES)[number];

/** The ingest's series start at 0, so rate() and alerts work before the first refusal. */
export function initIngestSeries(): void {
	for (const reason of REJECT_REASONS) webhooksRejected.inc({ reason }, 0);
	for (const outcome of WEBHOOK_OUTCOMES) webhooksHandled.inc({ outcome }, 0);
}

/** The processing role's series start at 0. */
export function initProcessSeries(queues: readonly string[]): void {
	for (const outcome of SYNC_OUTCOMES) syncs.inc({ outcome }, 0);
	for (const queue of queues) deadLettered.inc({ queue }, 0);
}

/** Seconds since `startMs` (performance.now()): no allocation per call. */
export function secondsSince(startMs: number): number {
	return (performance.now() - startMs) / 1000;
}

/** Status label of a call that got no HTTP answer. */
export function failureStatus(code: string | undefined): 'timeout' | 'unreachable' | 'network' {
	if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'timeout';
	if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
	return 'network';
}

/** HTTP status codes as label strings, made once (no string built per call). */
const STATUS_LABELS = new Map<number, string>();
export function statusLabel(status: number): string {
	if (!Number.isInteger(status) || status < 100 || status > 599) return 'other';
	let label = STATUS_LABELS.get(status);
	if (label === undefined) STATUS_LABELS.set(status, (label = String(status)));
	return label;
}

const STRIPE_ID = /\/[a-z]+_[A-Za-z0-9_]*[0-9A-Z][A-Za-z0-9_]*(?=\/|$)/g;

/**
 * A Stripe path as an endpoint label: the query dropped, object ids (`sub_1Q…`, `cs_test_a1…`) replaced by `{id}`;
 * resource names (`payment_intents`, `invoice_payments`) are lower case and stay.
 */
export function stripeEndpoint(path: string): string {
	const query = path.indexOf('?');
	return (query === -1 ? path : path.slice(0, query)).replace(STRIPE_ID, '/{id}');
}
