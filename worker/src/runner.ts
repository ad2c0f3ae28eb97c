// Starts the parts of a worker a role asks for and stops them in the safe order. Used by the CLI and the demo.

import type { Config, Role } from './config.js';
import { startIngest, type IngestServer } from './ingest/server.js';
import { createKeycrateClient } from './keycrate/client.js';
import type { Logger } from './log.js';
import { startProcessor, type Processor } from './jobs/processor.js';
import type { LicenseApi } from './keycrate/licenses.js';
import type { BulkApi } from './bulk/job.js';

export interface RunningWorker {
	/** The ingest's base URL when the role includes ingest. */
	ingest?: IngestServer;
	processor?: Processor;
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
	try {
		if (role !== 'ingest') {
			processor = await startProcessor(config, log, { api: deps.api ?? createKeycrateClient(config) });
		}
		if (role !== 'process') ingest = await startIngest(config, log);
	} catch (error) {
		await processor?.close();
		throw error;
	}
	log.info({ role, queuePrefix: config.queuePrefix, concurrency: config.workerConcurrency }, 'worker started');

	let closing: Promise<void> | undefined;
	async function close(): Promise<void> {
		// Ingest first: nothing new is accepted while the processor drains.
		await ingest?.close();
		await processor?.close();
		log.info('worker stopped');
	}
	return { ingest, processor, close: () => (closing ??= close()) };
}
