#!/usr/bin/env node
// keycrate-worker: start, dead-letters, retry, resync, skipped, --help.
// A configuration problem is ONE line on stderr naming the variable, exit 2; nothing else is printed.

import { ConfigError, loadConfig, type Config, type Role } from './config.js';
import { createLogger, describeRedisUrl, secretScrubber, secretValues } from './log.js';
import type { Queue } from 'bullmq';
import type { RedisConnection } from './redis.js';
import { enqueueSync, handoffQueue, ingestConnection, readSkipped, syncQueue, type SyncJobData } from './jobs/queues.js';
import { BULK_HELP, bulkCommand, BulkUsageError } from './bulk/cli.js';
import { listDeadLetters, retryDeadLetters } from './jobs/dead-letters.js';
import { startWorker } from './runner.js';
import { createStripeClient } from './stripe/client.js';
import { read } from './stripe/fetch.js';
import { HANDLED_EVENT_TYPES, isRootId, rootOfEvent } from './stripe/roots.js';

const NAME = 'keycrate-worker';
const EXIT_USAGE = 2;
const ROLES: readonly Role[] = ['ingest', 'process', 'all'];
/** How long an admin command waits for Redis before saying it is unreachable. */
const INSPECT_TIMEOUT_MS = 5000;
/** Stripe keeps events for 30 days: a resync cannot look further back. */
const EVENTS_KEPT_DAYS = 30;

const HELP = `Usage: ${NAME} <command> [options]

Commands:
  start [--role ingest|process|all]   run the webhook ingest (HTTP), the sync processor, or both (default all)
  dead-letters [--limit N] [--json]   syncs and hand-offs that failed for good, with the reason
  retry <root or license key>… | --all
                                      run dead letters again, e.g. after fixing PLANS_FILE or a price's metadata
  resync --since <ISO date>           sync every root named by Stripe events since then (Stripe keeps 30 days)
  resync --root <sub_…|pi_…|cs_…>…    sync these roots now
  skipped [--limit N] [--json]        events and roots that led to no license, with the reason
${BULK_HELP}
  --help                              show this help

Configuration is read from the environment (see the README, "Configuration"):
  REDIS_URL, QUEUE_PREFIX, KEYCRATE_API_URL, KEYCRATE_API_KEY, KEYCRATE_APP_ID, STRIPE_API_KEY,
  STRIPE_WEBHOOK_SECRETS, PLANS_FILE, PORT, HOST, WORKER_CONCURRENCY, RETRY_SCHEDULE, LOG_LEVEL, …

Signals: SIGTERM or SIGINT stops accepting webhooks and lets active jobs finish for up to SHUTDOWN_TIMEOUT_MS
(then they are left to run again); a second signal exits at once.
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

interface AdminQueues {
	redis: RedisConnection;
	syncs: Queue<SyncJobData>;
	handoffs: Queue;
}

/** Connects for an admin command; gives up with one line when Redis does not answer. */
async function withQueues<T>(config: Config, work: (queues: AdminQueues) => Promise<T>): Promise<T> {
	const redis = ingestConnection(config);
	redis.on('error', () => undefined);
	const syncs = syncQueue(config, redis);
	const handoffs = handoffQueue(config, redis);
	for (const queue of [syncs, handoffs]) queue.on('error', () => undefined);
	const timeout = setTimeout(
		() => fail(`REDIS_URL: no answer from ${describeRedisUrl(config.redisUrl)} within ${INSPECT_TIMEOUT_MS / 1000} s`, 1),
		INSPECT_TIMEOUT_MS,
	);
	try {
		await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
		return await work({ redis, syncs, handoffs });
	} finally {
		clearTimeout(timeout);
		await Promise.all([syncs.close(), handoffs.close()]);
		redis.disconnect();
	}
}

function limitOption(options: Record<string, string | true>): number {
	const limit = options.limit === undefined ? 50 : Number(options.limit);
	if (typeof options.limit === 'string' && !/^[0-9]+$/.test(options.limit)) throw new UsageError('--limit: must be a whole number ≥ 1');
	if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit: must be a whole number ≥ 1');
	return limit;
}

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
	const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
	return [line(header), ...rows.map(line)].join('\n');
}

async function deadLetters(args: string[]): Promise<void> {
	const options = parseOptions(args, { limit: 'value', json: 'flag' });
	const limit = limitOption(options);
	const config = configFor('inspect');
	const { letters, total } = await withQueues(config, (queues) => listDeadLetters(queues, limit));
	// A reason may quote an upstream answer; keep secrets out of this output as out of the logs.
	const scrub = secretScrubber(secretValues(config));
	for (const letter of letters) letter.reason = scrub(letter.reason);
	if (options.json) {
		for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
		return;
	}
	if (total === 0) {
		process.stdout.write(`No dead letters in ${config.queuePrefix}.\n`);
		return;
	}
	const shown = letters.length < total ? ` (showing ${letters.length}; --limit for more)` : '';
	const rows = letters.map((l) => [l.kind, l.id, String(l.attempts), l.failedAt ?? '', l.reason.replace(/\s+/g, ' ').slice(0, 160)]);
	process.stdout.write(`${total} dead letter(s) in ${config.queuePrefix}${shown}:\n${table(['KIND', 'ROOT / LICENSE', 'ATTEMPTS', 'FAILED AT', 'REASON'], rows)}\n`);
}

async function retry(args: string[]): Promise<void> {
	const all = args.includes('--all');
	const ids = args.filter((arg) => arg !== '--all');
	const unknown = ids.find((arg) => arg.startsWith('-'));
	if (unknown !== undefined) throw new UsageError(`unknown argument "${unknown}" (try --help)`);
	if (all === (ids.length > 0)) throw new UsageError('retry: give roots / license keys or --all, not both or neither');
	const config = configFor('inspect');
	const { retried, missing } = await withQueues(config, (queues) => retryDeadLetters(config, queues, all ? undefined : ids));
	process.stdout.write(`Queued again: ${retried.length === 0 ? 'nothing' : retried.join(', ')}\n`);
	if (missing.length > 0) fail(`not in the dead letters: ${missing.join(', ')}`, 1);
}

/** `--since 2026-11-01` or a full ISO date-time → Unix seconds, within the 30 days Stripe keeps events. */
function parseSince(raw: string, now = Date.now()): number {
	if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) {
		throw new UsageError(`--since: "${raw}" is not an ISO date such as 2026-11-01 or 2026-11-01T12:00:00Z`);
	}
	const ms = Date.parse(raw);
	if (Number.isNaN(ms)) throw new UsageError(`--since: "${raw}" is not a valid date`);
	if (ms > now) throw new UsageError('--since: is in the future');
	if (ms < now - EVENTS_KEPT_DAYS * 86400000) {
		process.stderr.write(`${NAME}: Stripe keeps events for ${EVENTS_KEPT_DAYS} days: older ones cannot be read\n`);
	}
	return Math.floor(ms / 1000);
}

async function resync(args: string[]): Promise<void> {
	const since = args.find((arg) => arg.startsWith('--since'));
	const rootsIndex = args.indexOf('--root');
	if ((since === undefined) === (rootsIndex === -1)) throw new UsageError('resync: give --since <ISO date> or --root <id>…');
	const config = configFor('inspect');
	if (rootsIndex !== -1) {
		const roots = args.slice(rootsIndex + 1).filter((arg) => arg !== '--root');
		if (roots.length === 0) throw new UsageError('--root: needs at least one id (sub_…, pi_… or cs_…)');
		const bad = roots.find((root) => !isRootId(root));
		if (bad !== undefined) throw new UsageError(`--root: "${bad}" is not a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id`);
		await withQueues(config, async ({ syncs }) => {
			for (const root of roots) await enqueueSync(config, syncs, root, 'resync --root');
		});
		process.stdout.write(`Queued ${roots.length} sync(s): ${roots.join(', ')}\n`);
		return;
	}
	const options = parseOptions(args, { since: 'value' });
	const from = parseSince(options.since as string);
	if (config.stripeApiKey === '') fail('STRIPE_API_KEY: is required for resync --since (it reads the Events API)', EXIT_USAGE);
	const stripe = createStripeClient(config);
	const roots = new Set<string>();
	let events = 0;
	// Page by page through the sync's own read, so that a 429 is waited out instead of ending the resync.
	for (let after: string | undefined; ; ) {
		const cursor = after;
		const page = await read({ stripe }, (client) => client.events.list({ created: { gte: from }, types: [...HANDLED_EVENT_TYPES], limit: 100, ...(cursor ? { starting_after: cursor } : {}) }));
		for (const event of page.data) {
			events += 1;
			const target = rootOfEvent(event);
			if ('root' in target) roots.add(target.root);
		}
		if (!page.has_more || page.data.length === 0) break;
		after = page.data[page.data.length - 1].id;
	}
	await withQueues(config, async ({ syncs }) => {
		for (const root of roots) await enqueueSync(config, syncs, root, `resync --since ${options.since as string}`);
	});
	process.stdout.write(`Read ${events} event(s) since ${new Date(from * 1000).toISOString()}: queued ${roots.size} sync(s)\n`);
}

async function skipped(args: string[]): Promise<void> {
	const options = parseOptions(args, { limit: 'value', json: 'flag' });
	const limit = limitOption(options);
	const config = configFor('inspect');
	const records = await withQueues(config, ({ redis }) => readSkipped(config, redis, limit));
	if (options.json) {
		for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
		return;
	}
	if (records.length === 0) {
		process.stdout.write(`Nothing skipped in ${config.queuePrefix}.\n`);
		return;
	}
	const rows = records.map((r) => [r.at, r.reason, r.root ?? r.eventId ?? '', r.detail.replace(/\s+/g, ' ').slice(0, 160)]);
	process.stdout.write(`${records.length} newest skipped record(s):\n${table(['AT', 'REASON', 'ROOT / EVENT', 'DETAIL'], rows)}\n`);
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
	if (command === 'resync') return resync(rest);
	if (command === 'skipped') return skipped(rest);
	if (command === 'bulk' || command === 'jobs' || command === 'job' || command === 'cancel') {
		const config = configFor('inspect');
		return withQueues(config, ({ redis }) => bulkCommand(command, rest, config, redis, process.stdout));
	}
	throw new UsageError(`unknown command "${command}" (try --help)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
	if (error instanceof UsageError || error instanceof BulkUsageError) fail(error.message, EXIT_USAGE);
	fail((error as Error).message, 1);
});
