// Public API of @keycrate/stripe-sync-worker, for embedding the worker in another Node process instead of
// running `keycrate-worker start`.

export { ConfigError, loadConfig, loadPlans, type Config, type LivemodeFilter, type PlanMap, type Role } from './config.js';
export { createLogger, type Logger } from './log.js';
export { startWorker, type RunningWorker, type WorkerDeps } from './runner.js';
export { startIngest, WEBHOOK_PATH, type IngestCounters, type IngestDeps, type IngestServer } from './ingest/server.js';
export { verifyStripeWebhook, type VerifyFailureReason, type VerifyOptions, type VerifyResult } from './ingest/verify.js';
export { processEvent, startProcessor, type Processor, type ProcessorDeps } from './process.js';
export { EVENTS_QUEUE, HANDOFF_QUEUE, eventJobOptions, eventsQueue } from './queue.js';
export { HANDLED_EVENT_TYPES, handleEvent } from './handlers/index.js';
export { createKeycrateClient, KeycrateClient, KeycrateError } from './keycrate/client.js';
export { SIGNATURE_HEADER as HANDOFF_SIGNATURE_HEADER, verifyHandoffSignature, type HandoffPayload } from './handoff.js';
export type { HandlerResult, Linkage, Plan, RootFacts, RootId } from './model.js';
