// Processing: the BullMQ workers. One event job = handler (pure: event → facts) → ledger merge → converge of
// every root the event touched, each under its root lock. Hand-off jobs post new licenses to LICENSE_WEBHOOK_URL.

import { UnrecoverableError, Worker, type Job, type Queue, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { convergeRoot, type LicenseApi } from './converge.js';
import { PermanentEventError } from './handlers/context.js';
import { checkoutSessionNeedingLineItems, handleEvent } from './handlers/index.js';
import { buildHandoffPayload, deliverHandoff } from './handoff.js';
import { isPermanentKeycrateError } from './keycrate/client.js';
import { Ledger, type RootState } from './ledger.js';
import { secretScrubber, secretValues, type Logger } from './log.js';
import type { HandlerResult, KeycrateLicense, RootId } from './model.js';
import { EVENTS_QUEUE, HANDOFF_QUEUE, handoffJobOptions, handoffQueue, workerConnection } from './queue.js';
import { fetchCheckoutLineItems } from './stripe/api.js';
import type { LineItem, StripeEvent } from './stripe/types.js';

export interface Processor {
	close(): Promise<void>;
	isRunning(): boolean;
}

export interface ProcessorDeps {
	/** The Keycrate client; tests may pass one pointed at the emulator. */
	api: LicenseApi;
	/** Override the Redis connection (tests). */
	connection?: Redis;
}

/** Checkout Sessions arrive without line items; fetch them (when a Stripe key is configured) before the pure handler. */
async function lineItemsFor(config: Config, event: StripeEvent): Promise<LineItem[] | undefined> {
	const sessionId = checkoutSessionNeedingLineItems(event);
	if (sessionId === undefined || config.stripeApiKey === undefined) return undefined;
	return fetchCheckoutLineItems(config, sessionId);
}

export async function processEvent(
	config: Config,
	ledger: Ledger,
	api: LicenseApi,
	event: StripeEvent,
	log: Logger,
	enqueueHandoff?: (state: RootState, seat: number, license: KeycrateLicense) => Promise<void>,
): Promise<{ result: HandlerResult; roots: RootId[] }> {
	const lineItems = await lineItemsFor(config, event);
	const result = handleEvent(event, {
		plans: config.plans,
		graceSeconds: config.graceSeconds,
		pastDueStatus: config.pastDueStatus,
		lineItems,
	});

	const roots = new Set<RootId>();
	for (const facts of result.facts) {
		await ledger.mergeFacts(facts, event.id, event.created);
		roots.add(facts.root);
	}
	for (const revocation of result.revocations) {
		const root = await ledger.revokePayment(revocation, event.id);
		if (root !== null) roots.add(root);
	}
	await ledger.recordOutcome({
		eventId: event.id,
		type: event.type,
		outcome: result.ignored ? 'ignored' : 'applied',
		reason: result.ignored?.reason,
		detail: result.ignored && 'detail' in result.ignored ? result.ignored.detail : undefined,
		warnings: result.warnings,
	});
	if (result.ignored) log.info({ eventId: event.id, eventType: event.type, ignored: result.ignored }, 'event ignored');
	for (const warning of result.warnings ?? []) log.warn({ eventId: event.id, eventType: event.type }, warning);

	for (const root of roots) {
		const seats = await ledger.withRootLock(root, () => convergeRoot({ config, ledger, api, handoff: enqueueHandoff }, root), { ttlMs: config.rootLockMs });
		for (const seat of seats) {
			if (seat.actions.length > 0) {
				log.info({ eventId: event.id, eventType: event.type, root, seat: seat.seat, licenseKey: seat.licenseKey, actions: seat.actions }, 'license converged');
			}
		}
	}
	return { result, roots: [...roots] };
}

/**
 * What BullMQ stores as the job's failure (message and stack land in Redis and in `dead-letters`): secrets
 * scrubbed, and errors no retry can fix turned into UnrecoverableError so the job fails at once.
 */
export function asJobError(error: unknown, scrub: (text: string) => string): Error {
	const original = error instanceof Error ? error : new Error(String(error));
	const permanent = error instanceof PermanentEventError || isPermanentKeycrateError(error);
	const jobError = permanent ? new UnrecoverableError(scrub(original.message)) : new Error(scrub(original.message));
	jobError.stack = scrub(original.stack ?? original.message);
	return jobError;
}

function workerOptions(config: Config, connection: Redis): WorkerOptions {
	return {
		connection,
		prefix: config.queuePrefix,
		// A job whose process died is re-run (converge makes that safe); BullMQ's default maxStalledCount of 1
		// would dead-letter a job cut off twice (e.g. two crashes in a row) and lose its event for good.
		maxStalledCount: config.jobAttempts,
		lockDuration: config.jobLockMs,
		stalledInterval: config.jobLockMs,
	};
}

export async function startProcessor(config: Config, log: Logger, deps: ProcessorDeps): Promise<Processor> {
	const connection = deps.connection ?? workerConnection(config);
	const ledger = new Ledger(connection, config);
	const scrub = secretScrubber(secretValues(config));
	let handoffs: Queue | undefined;
	let enqueueHandoff: ((state: RootState, seat: number, license: KeycrateLicense) => Promise<void>) | undefined;
	if (config.licenseWebhookUrl) {
		const queue = handoffQueue(config, connection);
		handoffs = queue;
		enqueueHandoff = async (state, seat, license) => {
			const payload = buildHandoffPayload(state, seat, license);
			await queue.add('license.created', payload, handoffJobOptions(config, license.license_key));
		};
	}

	const eventsWorker = new Worker(
		EVENTS_QUEUE,
		async (job: Job<StripeEvent>) => {
			try {
				await processEvent(config, ledger, deps.api, job.data, log, enqueueHandoff);
			} catch (error) {
				log.warn({ eventId: job.data.id, eventType: job.data.type, attempt: job.attemptsMade + 1, err: error }, 'event processing failed');
				throw asJobError(error, scrub);
			}
		},
		{ ...workerOptions(config, connection), concurrency: config.workerConcurrency },
	);
	// Without this a processor that cannot reach Redis would say nothing at all.
	eventsWorker.on('error', (error) => log.error({ err: error }, 'queue worker error (Redis unreachable?)'));
	eventsWorker.on('failed', (job, error) => {
		if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError)) {
			log.error({ eventId: job.data.id, eventType: job.data.type, reason: error.message }, 'event moved to the dead-letter set');
		}
	});

	const handoffWorker = config.licenseWebhookUrl
		? new Worker(
				HANDOFF_QUEUE,
				async (job: Job<ReturnType<typeof buildHandoffPayload>>) => {
					await deliverHandoff(config, job.data);
					log.info({ licenseKey: job.data.data.license_key }, 'license handed off');
				},
				{ ...workerOptions(config, connection), concurrency: Math.min(config.workerConcurrency, 10) },
			)
		: undefined;

	let running = true;
	return {
		isRunning: () => running && eventsWorker.isRunning(),
		async close() {
			running = false;
			// Worker.close waits for active jobs to finish; a killed process instead leaves them to be re-run
			// after their lock expires, which converge makes safe.
			await Promise.all([eventsWorker.close(), handoffWorker?.close()]);
			await handoffs?.close();
			if (!deps.connection) await connection.quit();
		},
	};
}
