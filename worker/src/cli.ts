#!/usr/bin/env node
// keycrate-worker: start, dead-letters, retry, resync, skipped, root, events, replay, bulk …, --help.
// A configuration problem is ONE line on stderr naming the variable, exit 2; nothing else is printed.

import { ConfigError, loadConfig, type Config, type Role } from './config.js';
import { createLogger, describeRedisUrl, secretScrubber, secretValues } from './log.js';
import type { Queue } from 'bullmq';
import type { RedisConnection } from './redis.js';
import { enqueueSync, handoffQueue, ingestConnection, readSkipped, syncQueue, type SyncJobData } from './jobs/queues.js';
import { bulkCommands } from './bulk/cli.js';
import { command, UsageError, type Command } from './args.js';
import { listDeadLetters, parseSinceTime, retryDeadLetters } from './jobs/dead-letters.js';
import { EVENT_ID, eventStory, readHistory, replayEvent, unknownEventMessage } from './jobs/history.js';
import { formatEventStory, formatRootHistory } from './jobs/history-view.js';
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

function help(commands: readonly Command[]): string {
	return `Usage: ${NAME} <command> [options]

Commands:
${commands.map((entry) => entry.help).join('\n')}
  --help                              show this help

Configuration is read from the environment (see the README, "Configuration"):
  REDIS_URL, QUEUE_PREFIX, KEYCRATE_API_URL, KEYCRATE_API_KEY, KEYCRATE_APP_ID, STRIPE_API_KEY,
  STRIPE_WEBHOOK_SECRETS, PLANS_FILE, PORT, HOST, WORKER_CONCURRENCY, RETRY_SCHEDULE, LOG_LEVEL, …

Signals: SIGTERM or SIGINT stops accepting webhooks and lets active jobs finish for up to SHUTDOWN_TIMEOUT_MS
(then they are left to run again); a second signal exits at once.
`;
}

function fail(message: string, code: number): never {
	process.stderr.write(`${NAME}: ${message}\n`);
	process.exit(code);
}

function configFor(role: Role | 'inspect'): Config {
	try {
		return loadConfig(process.env, role);
	} catch (error) {
		if (error instanceof ConfigError) fail(error.message, EXIT_USAGE);
		throw error;
	}
}

async function start(roleFlag: string | undefined): Promise<void> {
	const role = (roleFlag ?? 'all') as Role;
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

function limitOption(flag: string | undefined): number {
	if (flag === undefined) return 50;
	if (!/^[0-9]+$/.test(flag) || Number(flag) < 1) throw new UsageError('--limit: must be a whole number ≥ 1');
	return Number(flag);
}

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
	const line = (cells: string[]) =>
		cells
			.map((cell, column) => cell.padEnd(widths[column]))
			.join('  ')
			.trimEnd();
	return [line(header), ...rows.map(line)].join('\n');
}

async function deadLetters(options: { limit?: string; json?: boolean }): Promise<void> {
	const limit = limitOption(options.limit);
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
	process.stdout.write(
		`${total} dead letter(s) in ${config.queuePrefix}${shown}:\n${table(['KIND', 'ROOT / LICENSE', 'ATTEMPTS', 'FAILED AT', 'REASON'], rows)}\n`,
	);
}

async function retry(options: { all?: boolean; failed?: boolean; since?: string }, ids: string[]): Promise<void> {
	// --failed is --all in the words of the issue: every dead letter (of both queues).
	const all = options.all === true || options.failed === true;
	if (all === ids.length > 0) throw new UsageError('retry: give roots / license keys or --all, not both or neither');
	let since: number | undefined;
	if (options.since !== undefined) {
		if (!all) throw new UsageError('--since: goes with --failed (or --all), e.g. retry --failed --since 2h');
		const parsed = parseSinceTime(options.since);
		if ('error' in parsed) throw new UsageError(`--since: ${parsed.error}`);
		since = parsed.ms;
	}
	const config = configFor('inspect');
	const { retried, missing } = await withQueues(config, (queues) =>
		retryDeadLetters(config, queues, all ? undefined : ids, since === undefined ? {} : { since }),
	);
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

/** `--root a b` and `--root a --root b` both name roots a and b. */
async function resync(since: string | undefined, rootFlags: string[] | undefined, rest: string[]): Promise<void> {
	if ((since === undefined) === (rootFlags === undefined)) throw new UsageError('resync: give --since <ISO date> or --root <id>…');
	if (since !== undefined && rest.length > 0) throw new UsageError(`unknown argument "${rest[0]}" (try --help)`);
	const config = configFor('inspect');
	if (rootFlags !== undefined) {
		const roots = [...rootFlags, ...rest];
		const bad = roots.find((root) => !isRootId(root));
		if (bad !== undefined) throw new UsageError(`--root: "${bad}" is not a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id`);
		await withQueues(config, async ({ syncs }) => {
			for (const root of roots) await enqueueSync(config, syncs, root, 'resync --root');
		});
		process.stdout.write(`Queued ${roots.length} sync(s): ${roots.join(', ')}\n`);
		return;
	}
	const from = parseSince(since as string);
	if (config.stripeApiKey === '') fail('STRIPE_API_KEY: is required for resync --since (it reads the Events API)', EXIT_USAGE);
	const stripe = createStripeClient(config);
	const roots = new Set<string>();
	let events = 0;
	// Page by page through the sync's own read, so that a 429 is waited out instead of ending the resync.
	for (let after: string | undefined; ;) {
		const cursor = after;
		const page = await read({ stripe }, (client) =>
			client.events.list({ created: { gte: from }, types: [...HANDLED_EVENT_TYPES], limit: 100, ...(cursor ? { starting_after: cursor } : {}) }),
		);
		for (const event of page.data) {
			events += 1;
			const target = rootOfEvent(event);
			if ('root' in target) roots.add(target.root);
		}
		if (!page.has_more || page.data.length === 0) break;
		after = page.data[page.data.length - 1].id;
	}
	await withQueues(config, async ({ syncs }) => {
		for (const root of roots) await enqueueSync(config, syncs, root, `resync --since ${since as string}`);
	});
	process.stdout.write(`Read ${events} event(s) since ${new Date(from * 1000).toISOString()}: queued ${roots.size} sync(s)\n`);
}

async function skipped(options: { limit?: string; json?: boolean }): Promise<void> {
	const limit = limitOption(options.limit);
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

/** Exactly one id of the given shape, as the command's first word. */
function oneId(command: string, ids: string[], valid: (id: string) => boolean, what: string): string {
	if (ids.length !== 1) throw new UsageError(`${command}: give one ${what}`);
	if (!valid(ids[0])) throw new UsageError(`${command}: "${ids[0]}" is not ${what}`);
	return ids[0];
}

const ROOT_WHAT = 'a subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) id';
const EVENT_WHAT = 'a Stripe event id (evt_…)';

async function rootHistory(options: { limit?: string; json?: boolean }, ids: string[]): Promise<void> {
	const root = oneId('root', ids, isRootId, ROOT_WHAT);
	const limit = options.limit === undefined ? undefined : limitOption(options.limit);
	const config = configFor('inspect');
	const entries = await withQueues(config, ({ redis }) => readHistory(config, redis, root, limit));
	if (options.json) {
		for (const entry of entries) process.stdout.write(`${JSON.stringify(entry)}\n`);
		return;
	}
	process.stdout.write(formatRootHistory(root, entries, { maxEntries: config.historyMaxEntries, ttlSeconds: config.historyTtlSeconds }));
}

async function events(options: { json?: boolean }, ids: string[]): Promise<void> {
	const eventId = oneId('events', ids, (id) => EVENT_ID.test(id), EVENT_WHAT);
	const config = configFor('inspect');
	const story = await withQueues(config, ({ redis }) => eventStory(config, redis, eventId));
	if (story === undefined) fail(unknownEventMessage(config, eventId), 1);
	if (options.json) {
		process.stdout.write(`${JSON.stringify(story)}\n`);
		return;
	}
	process.stdout.write(formatEventStory(story));
}

async function replay(ids: string[]): Promise<void> {
	const eventId = oneId('replay', ids, (id) => EVENT_ID.test(id), EVENT_WHAT);
	const config = configFor('inspect');
	const result = await withQueues(config, (queues) => replayEvent(config, queues.redis, queues, eventId));
	if (result.kind === 'unknown') fail(unknownEventMessage(config, eventId), 1);
	const { root } = result.event;
	process.stdout.write(
		`Queued a sync of ${root} (${result.deadLetter ? 'its dead letter retried' : "from Stripe's current state"}): keycrate-worker root ${root}\n`,
	);
}

const LIST_OPTIONS = { limit: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The commands, in --help's order. A new command is one entry here: its help lines, its flags, what it runs. */
const COMMANDS: readonly Command[] = [
	command('start', {
		help: '  start [--role ingest|process|all]   run the webhook ingest (HTTP), the sync processor, or both (default all)',
		options: { role: { type: 'string' } },
		run: ({ values }) => start(values.role),
	}),
	command('dead-letters', {
		help: '  dead-letters [--limit N] [--json]   syncs and hand-offs that failed for good, with the reason',
		options: LIST_OPTIONS,
		run: ({ values }) => deadLetters(values),
	}),
	command('retry', {
		help: `  retry <root or license key>… | --all
                                      run dead letters again, e.g. after fixing PLANS_FILE or a price's metadata
  retry --failed [--since <2h|ISO date>]
                                      run every dead letter (that failed since then) again`,
		options: { all: { type: 'boolean' }, failed: { type: 'boolean' }, since: { type: 'string' } },
		positionals: true,
		run: ({ values, positionals }) => retry(values, positionals),
	}),
	command('resync', {
		help: `  resync --since <ISO date>           sync every root named by Stripe events since then (Stripe keeps 30 days)
  resync --root <sub_…|pi_…|cs_…>…    sync these roots now`,
		options: { since: { type: 'string' }, root: { type: 'string', multiple: true } },
		positionals: true,
		run: ({ values, positionals }) => resync(values.since, values.root, positionals),
	}),
	command('skipped', {
		help: '  skipped [--limit N] [--json]        events and roots that led to no license, with the reason',
		options: LIST_OPTIONS,
		run: ({ values }) => skipped(values),
	}),
	command('root', {
		help: `  root <sub_…|pi_…|cs_…> [--limit N] [--json]
                                      what each sync of the root saw and did, and its hand-offs, oldest first`,
		options: LIST_OPTIONS,
		positionals: true,
		run: ({ values, positionals }) => rootHistory(values, positionals),
	}),
	command('events', {
		help: '  events <evt_…> [--json]             the root of a Stripe event and what the sync that took it did',
		options: { json: { type: 'boolean' } },
		positionals: true,
		run: ({ values, positionals }) => events(values, positionals),
	}),
	command('replay', {
		help: "  replay <evt_…>                      sync that event's root again now (a dead letter of it is retried)",
		options: {},
		positionals: true,
		run: ({ positionals }) => replay(positionals),
	}),
	...bulkCommands((run) => {
		const config = configFor('inspect');
		return withQueues(config, ({ redis }) => run(config, redis, process.stdout));
	}),
];

async function main(argv: string[]): Promise<void> {
	const [name, ...rest] = argv;
	const HELP = help(COMMANDS);
	if (name === undefined) {
		process.stderr.write(HELP);
		process.exit(EXIT_USAGE);
	}
	if (name === '--help' || name === '-h' || name === 'help' || rest.includes('--help') || rest.includes('-h')) {
		process.stdout.write(HELP);
		return;
	}
	const found = COMMANDS.find((entry) => entry.name === name);
	if (found === undefined) throw new UsageError(`unknown command "${name}" (try --help)`);
	return found.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
	if (error instanceof UsageError) fail(error.message, EXIT_USAGE);
	fail((error as Error).message, 1);
});
