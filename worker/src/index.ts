// Public API of @keycrate/stripe-sync-worker, for embedding the worker in another Node process instead of
// running `keycrate-worker start`.

export { ConfigError, loadConfig, loadPlans, type Config, type LivemodeFilter, type PlanMap, type Role } from './config.js';
export { createLogger, type Logger } from './log.js';
export { startWorker, type RunningWorker, type WorkerDeps } from './runner.js';
export { startIngest, WEBHOOK_PATH, type IngestCounters, type IngestDeps, type IngestServer } from './ingest/server.js';
export { verifyStripeWebhook, type VerifyFailureReason, type VerifyOptions, type VerifyResult } from './ingest/verify.js';
export { startProcessor, type Processor, type ProcessorDeps } from './jobs/processor.js';
/** The worker's Prometheus registry (an embedding process may serve or merge it). */
export { registry as metricsRegistry } from './observe/metrics.js';
export { enqueueSync, HANDOFF_QUEUE, SYNC_QUEUE, syncQueue } from './jobs/queues.js';
export { syncRoot, type SyncDeps, type SyncOutcome } from './jobs/sync.js';
export { HANDLED_EVENT_TYPES, rootOfEvent } from './stripe/roots.js';
export { desired } from './stripe/desired.js';
export { plan } from './keycrate/plan.js';
export { createKeycrateClient, KeycrateClient, KeycrateError } from './keycrate/client.js';
export { signHandoff, verifyHandoffSignature, webhookSecretProblem, type HandoffPayload, type BulkNotification } from './jobs/handoff.js';
export type { Desired, DesiredSeat, Linkage, Plan, RootId, RootState } from './model.js';
