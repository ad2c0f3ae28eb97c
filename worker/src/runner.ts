// Starts the parts of a worker a role asks for and stops them in the safe order. Used by the CLI and the demo.

import type { Config, Role } from './config.js';
import { startIngest, type IngestServer } from './ingest/server.js';
import { createKeycrateClient } from './keycrate/client.js';
import type { Logger } from './log.js';
import { startProcessor, type Processor } from './jobs/processor.js';
import type { LicenseApi } from './keycrate/licenses.js';
import type { BulkApi } from './bulk/job.js';
import { redisCheck, startProbeServer, type ProbeServer } from './observe/probes.js';

export interface RunningWorker {
	/** The ingest's base URL when the role includes ingest. */
	ingest?: IngestServer;
	processor?: Processor;
	/** The processing role's HTTP server (/healthz, /readyz, /metrics on PORT); the other roles serve them on the ingest. */
	probes?: ProbeServer;
	/** Stops accepting webhooks, lets active jobs finish, then releases Redis. Safe to call twice. */
	close(): Promise<void>;
}

export interface WorkerDeps {
	/** A Keycrate client other than the one built from the config (tests). */
	api?: LicenseApi & BulkApi;
}

export async function startWorker(config: Config, log: Logger, role: Role, deps: WorkerDeps = {}): Promise<RunningWorker> {
	let ingest: IngestServer | undefined;
	let processor: Processor | undefined;
	let probes: ProbeServer | undefined;
	try {
		if (role !== 'ingest') {
			processor = await startProcessor(config, log, { api: deps.api ?? createKeycrateClient(config) });
		}
		if (role !== 'process') ingest = await startIngest(config, log, processor ? { checks: [processor.check] } : {});
		else if (processor) probes = await startProbeServer(config, log, processor.connection, [redisCheck(processor.connection), processor.check]);
	} catch (error) {
		await processor?.close();
		throw error;
	}
	log.info({ role, queuePrefix: config.queuePrefix, concurrency: config.workerConcurrency }, 'worker started');

	let closing: Promise<void> | undefined;
	async function close(): Promise<void> {
		// Ingest first: nothing new is accepted while the processor drains.
		await ingest?.close();
		// The probes answer while the processor drains (/readyz says it is stopping), then go.
		await processor?.close();
		await probes?.close();
		log.info('worker stopped');
	}
	return { ingest, processor, probes, close: () => (closing ??= close()) };
}
