#!/usr/bin/env node
// keycrate-worker: `start [--role ingest|process|all]`, `dead-letters [--limit N] [--json]`, `--help`.
// A configuration problem is ONE line on stderr naming the variable, exit 2; nothing else is printed.

import { ConfigError, loadConfig, type Config, type Role } from './config.js';
import { createLogger, describeRedisUrl, secretScrubber, secretValues } from './log.js';
import { eventsQueue, ingestConnection } from './queue.js';
import { startWorker } from './runner.js';

const NAME = 'keycrate-worker';
const EXIT_USAGE = 2;
const ROLES: readonly Role[] = ['ingest', 'process', 'all'];
/** How long dead-letters waits for Redis before saying it is unreachable. */
const INSPECT_TIMEOUT_MS = 5000;

const HELP = `Usage: ${NAME} <command> [options]

Commands:
  start [--role ingest|process|all]   run the webhook ingest (HTTP), the queue processor, or both (default all)
  dead-letters [--limit N] [--json]   list events whose processing failed for good (the dead-letter set)
  retry <event id>… | --all           move dead-letter events back to the queue, e.g. after fixing PLANS_FILE
  --help                              show this help

Configuration is read from the environment (see the README, "Configuration"):
  REDIS_URL, QUEUE_PREFIX, KEYCRATE_API_URL, KEYCRATE_API_KEY, KEYCRATE_APP_ID, STRIPE_WEBHOOK_SECRETS,
  PLANS_FILE, PORT, HOST, WORKER_CONCURRENCY, LOG_LEVEL, …

Signals: SIGTERM or SIGINT stops accepting webhooks, lets active jobs finish and exits 0; a second one exits at once.
`;

class UsageError extends Error {}

function fail(message: string, code: number): never {
	process.stderr.write(`${NAME}: ${message}\n`);
	process.exit(code);
}

/** `--name value` or `--name=value`; flags without a value are booleans. */
function parseOptions(args: string[], known: Record<string, 'value' | 'flag'>): Record<string, string | true> {
	const options: Record<string, string | true> = {};
	for (let index = 0; index < args.length; index += 1) {
		const arg = args[index];
		const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
		if (!match || !(match[1] in known)) throw new UsageError(`unknown argument "${arg}" (try --help)`);
		const [, name, inline] = match;
		if (known[name] === 'flag') {
			options[name] = true;
			continue;
		}
		const value = inline ?? args[(index += 1)];
		if (value === undefined || value === '') throw new UsageError(`--${name}: needs a value`);
		options[name] = value;
	}
	return options;
}

function configFor(role: Role | 'inspect'): Config {
	try {
		return loadConfig(process.env, role);
	} catch (error) {
		if (error instanceof ConfigError) fail(error.message, EXIT_USAGE);
		throw error;
	}
}

async function start(args: string[]): Promise<void> {
	const options = parseOptions(args, { role: 'value' });
	const role = (options.role ?? 'all') as Role;
	if (!ROLES.includes(role)) throw new UsageError(`--role: must be one of ${ROLES.join(', ')}`);
	const config = configFor(role);
	const log = createLogger(config);

	process.on('uncaughtException', (error) => {
		log.fatal({ err: error }, 'uncaught exception');
		process.exit(1);
	});
	process.on('unhandledRejection', (reason) => {
		log.fatal({ err: reason }, 'unhandled rejection');
		process.exit(1);
	});

	let worker: Awaited<ReturnType<typeof startWorker>>;
	try {
		worker = await startWorker(config, log, role);
	} catch (error) {
		log.fatal({ err: (error as Error).message }, 'could not start');
		fail(`could not start: ${(error as Error).message}`, 1);
	}

	let stopping = false;
	const onSignal = (signal: NodeJS.Signals) => {
		if (stopping) {
			log.warn({ signal }, 'second signal: exiting without waiting for active jobs');
			process.exit(1);
		}
		stopping = true;
		log.info({ signal }, 'shutting down: no new webhooks, waiting for active jobs (signal again to force)');
		worker.close().then(
			() => process.exit(0),
			(error: unknown) => {
				log.error({ err: (error as Error).message }, 'shutdown failed');
				process.exit(1);
			},
		);
	};
	process.on('SIGTERM', onSignal);
	process.on('SIGINT', onSignal);
}

interface DeadLetter {
	eventId: string;
	type: string;
	attempts: number;
	failedAt?: string;
	reason: string;
}

async function deadLetters(args: string[]): Promise<void> {
	const options = parseOptions(args, { limit: 'value', json: 'flag' });
	const limit = options.limit === undefined ? 50 : Number(options.limit);
	if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit: must be a whole number ≥ 1');
	const config = configFor('inspect');
	await withEventsQueue(config, async (queue) => {
		const [total, jobs] = await Promise.all([queue.getFailedCount(), queue.getFailed(0, limit - 1)]);
		const letters: DeadLetter[] = jobs.map((job) => ({
			eventId: job.id ?? '?',
			type: job.name,
			attempts: job.attemptsMade,
			failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
			reason: job.failedReason ?? '',
		}));
		// A reason may quote an upstream answer; keep secrets out of this output as out of the logs.
		const scrub = secretScrubber(secretValues(config));
		for (const letter of letters) letter.reason = scrub(letter.reason);
		if (options.json) {
			for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
		} else {
			process.stdout.write(formatDeadLetters(letters, total, config.queuePrefix));
		}
	});
}

/** Connects for a read-only or admin command; gives up with one line when Redis does not answer. */
async function withEventsQueue<T>(config: Config, work: (queue: ReturnType<typeof eventsQueue>) => Promise<T>): Promise<T> {
	const connection = ingestConnection(config);
	connection.on('error', () => undefined);
	const queue = eventsQueue(config, connection);
	queue.on('error', () => undefined);
	const timeout = setTimeout(
		() => fail(`REDIS_URL: no answer from ${describeRedisUrl(config.redisUrl)} within ${INSPECT_TIMEOUT_MS / 1000} s`, 1),
		INSPECT_TIMEOUT_MS,
	);
	try {
		return await work(queue);
	} finally {
		clearTimeout(timeout);
		await queue.close();
		connection.disconnect();
	}
}

async function retry(args: string[]): Promise<void> {
	const all = args.includes('--all');
	const ids = args.filter((arg) => arg !== '--all');
	const unknown = ids.find((arg) => arg.startsWith('-'));
	if (unknown !== undefined) throw new UsageError(`unknown argument "${unknown}" (try --help)`);
	if (all === (ids.length > 0)) throw new UsageError('retry: give event ids or --all, not both or neither');
	const config = configFor('inspect');
	const { retried, missing } = await withEventsQueue(config, async (queue) => {
		const jobs = all ? await queue.getFailed() : await Promise.all(ids.map((id) => queue.getJob(id)));
		const done: string[] = [];
		const notFailed: string[] = [];
		for (const [index, job] of jobs.entries()) {
			const id = job?.id ?? ids[index];
			// Only a job in the failed set is a dead letter; anything else is left alone.
			if (job === undefined || !(await job.isFailed())) {
				notFailed.push(id);
				continue;
			}
			// A fresh set of attempts: the cause (a bad plan, a Keycrate outage) is presumably fixed.
			await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
			done.push(id);
		}
		return { retried: done, missing: notFailed };
	});
	process.stdout.write(`Queued again: ${retried.length === 0 ? 'nothing' : retried.join(', ')}\n`);
	if (missing.length > 0) fail(`not in the dead-letter set: ${missing.join(', ')}`, 1);
}

function formatDeadLetters(letters: DeadLetter[], total: number, prefix: string): string {
	if (total === 0) return `No dead letters in ${prefix} stripe-events.\n`;
	const rows = letters.map((l) => [l.eventId, l.type, String(l.attempts), l.failedAt ?? '', l.reason.replace(/\s+/g, ' ').slice(0, 120)]);
	const header = ['EVENT ID', 'TYPE', 'ATTEMPTS', 'FAILED AT', 'REASON'];
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
	const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
	const shown = letters.length < total ? ` (showing ${letters.length}; --limit for more)` : '';
	return [`${total} dead-letter event(s) in ${prefix} stripe-events${shown}:`, line(header), ...rows.map(line), ''].join('\n');
}

async function main(argv: string[]): Promise<void> {
	const [command, ...rest] = argv;
	if (command === undefined) {
		process.stderr.write(HELP);
		process.exit(EXIT_USAGE);
	}
	if (command === '--help' || command === '-h' || command === 'help') {
		process.stdout.write(HELP);
		return;
	}
	if (rest.includes('--help') || rest.includes('-h')) {
		process.stdout.write(HELP);
		return;
	}
	if (command === 'start') return start(rest);
	if (command === 'dead-letters') return deadLetters(rest);
	if (command === 'retry') return retry(rest);
	throw new UsageError(`unknown command "${command}" (try --help)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
	if (error instanceof UsageError) fail(error.message, EXIT_USAGE);
	fail((error as Error).message, 1);
});
