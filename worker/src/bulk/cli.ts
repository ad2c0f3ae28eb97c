// keycrate-worker bulk <kind> …, jobs, job <id>, cancel <id>: bulk jobs from a terminal. Flags are named like the
// n8n node's fields and become the admin API's request body, validated by the same parseBulkRequest.
// `--follow` draws a progress bar (cli-progress) on a terminal and plain lines in a pipe.

import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis.js';
import { command, UsageError, type Command } from '../args.js';
import type { Config } from '../config.js';
import { createKeycrateClient } from '../keycrate/client.js';
import { bulkQueue } from '../jobs/queues.js';
import type { BulkJobData, BulkResult } from './job.js';
import { cancelBulkJob, dryRun, getBulkJob, listBulkJobs, startBulkJob, type BulkJobView, type BulkState } from './jobs.js';
import { BULK_KINDS, BulkRequestError, parseBulkRequest } from './request.js';

/** A usage mistake in a bulk command (exit 2, like every UsageError). */
export class BulkUsageError extends UsageError {}

const FOLLOW_POLL_MS = 500;
const ENDED: readonly BulkState[] = ['completed', 'failed', 'canceled'];

type Values = Record<string, string | boolean | undefined>;

function list(value: string | undefined): string[] | undefined {
	return value === undefined
		? undefined
		: value
				.split(',')
				.map((item) => item.trim())
				.filter((item) => item !== '');
}

function wholeFlag(value: string | undefined, flag: string): number | undefined {
	if (value === undefined) return undefined;
	if (!/^[0-9]+$/.test(value)) throw new BulkUsageError(`--${flag}: must be a whole number`);
	return Number(value);
}

function booleanFlag(value: string | undefined, flag: string): boolean | undefined {
	if (value === undefined) return undefined;
	if (value !== 'true' && value !== 'false') throw new BulkUsageError(`--${flag}: must be true or false`);
	return value === 'true';
}

/** The flags of `bulk <kind>` as the admin API's request body. */
export function bulkBody(kind: string, values: Values): Record<string, unknown> {
	const text = (name: string) => values[name] as string | undefined;
	let metadata: unknown;
	if (text('metadata') !== undefined) {
		try {
			metadata = JSON.parse(text('metadata') as string);
		} catch {
			throw new BulkUsageError('--metadata: must be JSON, e.g. {"campaign":"launch"}');
		}
	}
	let keys = list(text('keys'));
	if (text('keys-file') !== undefined) {
		if (keys !== undefined) throw new BulkUsageError('--keys and --keys-file: give one of them');
		try {
			keys = readFileSync(text('keys-file') as string, 'utf8')
				.split(/\r?\n/)
				.map((line) => line.trim())
				.filter((line) => line !== '');
		} catch (error) {
			throw new BulkUsageError(`--keys-file: cannot read ${text('keys-file')} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
		}
	}
	const tier = text('tier');
	const selecting = kind !== 'create';
	const filterGiven = selecting && (text('status') !== undefined || text('tag') !== undefined || (tier !== undefined && kind !== 'retier'));
	const body: Record<string, unknown> = {
		kind,
		app_id: text('app-id'),
		count: wholeFlag(text('count'), 'count'),
		duration_unit: text('duration-unit'),
		duration_value: wholeFlag(text('duration-value'), 'duration-value'),
		tags: list(text('tags')),
		hwid_lock: booleanFlag(text('hwid-lock'), 'hwid-lock'),
		key_pattern: text('key-pattern'),
		metadata,
		license_keys: keys,
		format: text('format'),
		notify_url: text('notify-url'),
		dry_run: values['dry-run'] === true ? true : undefined,
	};
	if (kind === 'create' || kind === 'retier') body.subscription_id = tier === 'none' ? null : tier;
	if (filterGiven) body.filter = { subscription_id: kind === 'retier' ? undefined : tier, status: text('status'), tag: text('tag') };
	const clean = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
	if (body.filter) body.filter = clean(body.filter as Record<string, unknown>);
	return clean(body);
}

/** The flags of `bulk <kind>`. */
const BULK_OPTIONS = {
	'app-id': { type: 'string' },
	count: { type: 'string' },
	tier: { type: 'string' },
	'duration-unit': { type: 'string' },
	'duration-value': { type: 'string' },
	tags: { type: 'string' },
	'hwid-lock': { type: 'string' },
	'key-pattern': { type: 'string' },
	metadata: { type: 'string' },
	keys: { type: 'string' },
	'keys-file': { type: 'string' },
	status: { type: 'string' },
	tag: { type: 'string' },
	format: { type: 'string' },
	'notify-url': { type: 'string' },
	'dry-run': { type: 'boolean' },
	follow: { type: 'boolean' },
} as const;

function describe(view: BulkJobView): string {
	const { progress } = view;
	const lines = [`${view.id}  ${view.kind}  ${view.state}  ${progress.done}/${progress.total} done, ${progress.failed} failed`];
	if (view.result) {
		lines.push(
			`result: ${view.result.succeeded} succeeded, ${view.result.failed} failed${view.result.canceled ? ', canceled' : ''}, ${view.result.calls} Keycrate calls`,
		);
		if (view.result.export_path) lines.push(`export: ${view.result.export_path}`);
		for (const failure of view.result.failures.slice(0, 20)) lines.push(`  ${failure.license_key ?? '-'}: ${failure.reason}`);
		if (view.result.failures.length > 20) lines.push(`  … ${view.result.failures.length - 20} more (--json for all kept)`);
	}
	if (view.error) lines.push(`error: ${view.error}`);
	return `${lines.join('\n')}\n`;
}

/** Polls the job until it ends: a bar on a terminal, a line per change in a pipe. */
async function follow(queue: Queue<BulkJobData, BulkResult>, id: string, out: NodeJS.WriteStream): Promise<BulkJobView> {
	const tty = out.isTTY === true;
	const bar = tty
		? new cliProgress.SingleBar(
				{ format: '{bar} {percentage}% | {value}/{total} | {failed} failed | {rate}/s | ETA {eta}s', stream: out, hideCursor: true },
				cliProgress.Presets.shades_classic,
			)
		: undefined;
	let last = '';
	for (let first = true; ; first = false) {
		const view = await getBulkJob(queue, id);
		if (view === undefined) throw new BulkUsageError(`no bulk job ${id}`);
		const { done, total, failed, rate_per_second: rate, eta_seconds: eta } = view.progress;
		if (bar) {
			if (first) bar.start(Math.max(total, 1), done, { failed, rate, eta });
			bar.setTotal(Math.max(total, 1));
			bar.update(done, { failed, rate, eta });
		} else {
			const line = `${view.state} ${done}/${total} done, ${failed} failed`;
			if (line !== last) out.write(`${line}\n`);
			last = line;
		}
		if (ENDED.includes(view.state)) {
			bar?.stop();
			return view;
		}
		await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
	}
}

/** Runs `work` with an admin connection the caller owns (it connects, waits for Redis and closes). */
export type Connect = (work: (config: Config, redis: RedisConnection, out: NodeJS.WriteStream) => Promise<void>) => Promise<void>;

/** Runs `work` with the bulk queue on the caller's connection. */
function withBulkQueue(
	connect: Connect,
	work: (queue: Queue<BulkJobData, BulkResult>, config: Config, redis: RedisConnection, out: NodeJS.WriteStream) => Promise<void>,
): Promise<void> {
	return connect(async (config, redis, out) => {
		const queue = bulkQueue(config, redis) as Queue<BulkJobData, BulkResult>;
		queue.on('error', () => undefined);
		try {
			await work(queue, config, redis, out);
		} finally {
			await queue.close();
		}
	});
}

function oneJobId(name: string, positionals: string[]): string {
	const [id, extra] = positionals;
	if (id === undefined || extra !== undefined) throw new BulkUsageError(`${name}: give one bulk job id (bulk_…)`);
	return id;
}

/** bulk, jobs, job, cancel: entries of keycrate-worker's command table. */
export function bulkCommands(connect: Connect): Command[] {
	return [
		command('bulk', {
			help: `  bulk <kind> --app-id <uuid> [options]   queue a bulk job; kind: ${BULK_KINDS.join(', ')}
      create:  --count N --duration-unit U [--duration-value N] [--tier <uuid>] [--tags a,b] [--hwid-lock true|false]
               [--key-pattern P] [--metadata JSON]
      others:  --keys k1,k2 | --keys-file F (one key a line) | --tier <uuid> --status S --tag T (a filter; none = the app)
               extend: --duration-unit U --duration-value N; retier: --tier <uuid>|none (the target); lock: --hwid-lock;
               export: --format csv|jsonl
      always:  [--notify-url URL] [--dry-run] [--follow]`,
			options: BULK_OPTIONS,
			positionals: true,
			run: async ({ values, positionals }) => {
				const [kind, extra] = positionals;
				if (kind === undefined || !(BULK_KINDS as readonly string[]).includes(kind)) throw new BulkUsageError(`bulk: give a kind (${BULK_KINDS.join(', ')})`);
				if (extra !== undefined) throw new BulkUsageError(`unknown argument "${extra}" (try --help)`);
				let parsed;
				try {
					parsed = parseBulkRequest(bulkBody(kind, values));
				} catch (error) {
					// The API's field names, said as the flags the user typed.
					if (error instanceof BulkRequestError)
						throw new BulkUsageError(
							`--${error.field
								.replace('subscription_id', 'tier')
								.replace('license_keys', 'keys')
								.replace(/^filter\./, '')
								.replace(/_/g, '-')}: ${error.message.slice(error.field.length + 2)}`,
						);
					throw error;
				}
				const request = parsed;
				await withBulkQueue(connect, async (queue, config, _redis, out) => {
					if (request.dryRun) {
						const client = request.spec.kind === 'create' ? undefined : createKeycrateClient(config);
						if (client !== undefined && !config.keycrateApiKey.startsWith('kc_'))
							throw new BulkUsageError('--dry-run: counting a selection reads Keycrate: set KEYCRATE_API_KEY');
						const plan = await dryRun(config, client ?? { listLicensesPage: async () => ({ items: [], more: false }) }, request.spec);
						client?.close();
						out.write(`dry run: ${plan.kind} of ${plan.selected} license(s), about ${plan.calls} Keycrate call(s); nothing was queued\n`);
						return;
					}
					const view = await startBulkJob(config, queue, request.spec);
					out.write(`queued ${view.id} (${view.kind}); follow it with: keycrate-worker job ${view.id} --follow\n`);
					if (values.follow === true) out.write(describe(await follow(queue, view.id, out)));
				});
			},
		}),
		command('jobs', {
			help: '  jobs [--state S] [--limit N] [--json]   bulk jobs, newest first',
			options: { state: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
			run: async ({ values }) => {
				const state = values.state;
				if (state !== undefined && !['waiting', 'active', 'delayed', 'completed', 'failed', 'canceled'].includes(state))
					throw new BulkUsageError('--state: must be waiting, active, delayed, completed, failed or canceled');
				const limit = wholeFlag(values.limit, 'limit') ?? 20;
				if (limit < 1 || limit > 100) throw new BulkUsageError('--limit: must be from 1 to 100');
				await withBulkQueue(connect, async (queue, _config, _redis, out) => {
					const views = await listBulkJobs(queue, state as BulkState | undefined, limit);
					if (values.json === true) for (const view of views) out.write(`${JSON.stringify(view)}\n`);
					else out.write(views.length === 0 ? 'No bulk jobs.\n' : views.map(describe).join(''));
				});
			},
		}),
		command('job', {
			help: '  job <id> [--json] [--follow]            one bulk job: progress, result',
			options: { json: { type: 'boolean' }, follow: { type: 'boolean' } },
			positionals: true,
			run: async ({ values, positionals }) => {
				const id = oneJobId('job', positionals);
				await withBulkQueue(connect, async (queue, _config, _redis, out) => {
					const view = values.follow === true ? await follow(queue, id, out) : await getBulkJob(queue, id);
					if (view === undefined) throw new BulkUsageError(`no bulk job ${id}`);
					out.write(values.json === true ? `${JSON.stringify(view)}\n` : describe(view));
				});
			},
		}),
		command('cancel', {
			help: '  cancel <id>                             stop a bulk job after its current chunk',
			options: {},
			positionals: true,
			run: async ({ positionals }) => {
				const id = oneJobId('cancel', positionals);
				await withBulkQueue(connect, async (queue, config, redis, out) => {
					const outcome = await cancelBulkJob(config, redis, queue, id);
					if (outcome.kind === 'unknown') throw new BulkUsageError(`no bulk job ${id}`);
					out.write(outcome.kind === 'ended' ? `${id} has ended already (${outcome.view.state})\n` : `${id}: cancel asked; it stops after its current chunk\n`);
				});
			},
		}),
	];
}
