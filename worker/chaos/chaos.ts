// The chaos run: the mixed run (one-offs, subscriptions and the entitlement stories on the Stripe fake, every
// event delivered ×3 shuffled to 2 worker processes) scaled up and hit from every side while it runs: workers
// SIGKILLed at random (each replaced), Keycrate and Stripe faults on every call, Redis lost twice (restarted empty,
// then emptied by FLUSHALL), each loss followed by `keycrate-worker resync --since` as an operator would. At the
// end every license is checked against what the stories say (test/support/cluster-check.ts) and the run's
// invariants are printed as `N passed, N failed`. Where Redis runs is the caller's (run.ts: one private
// redis-server; cluster.ts: a 3-master Redis Cluster).

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FaultRule } from '@keycrate/emulator';
import { Redis } from 'ioredis';
import { ROOT_METADATA, SEAT_METADATA } from '../src/keycrate/record.js';
import { checkLicenses } from '../test/support/cluster-check.js';
import { CLI_PATH, Cluster, waitUntil, WORKER_DIR, type WorkerProcess } from '../test/support/cluster-harness.js';
import { ENTITLEMENT_STORIES, playPhase, Rng, StoryBook, type Story } from '../test/support/cluster-stripe.js';

/** The Redis a run uses, and the two ways it loses everything. */
export interface ChaosRedis {
	/** REDIS_URL for the worker processes and the harness. */
	url: string;
	/** Extra env for the workers (e.g. REDIS_CLUSTER). */
	env: Record<string, string>;
	/** Stops redis-server and starts it again on the same port(s): no persistence, so it comes back empty. */
	restart(): Promise<void>;
	/** FLUSHALL (on every master of a cluster). */
	flushAll(): Promise<void>;
}

export interface ChaosOptions {
	label: string;
	/** At least this many Stripe events (stories are added in waves until there are). */
	events: number;
	/** At least this many SIGKILLs of a worker while the run goes on. */
	kills: number;
	seed: number;
	copies: number;
	/** Keycrate faults on every endpoint: shares of all calls. */
	keycrate: { error500: number; error429: number; commitThen500: number };
	/** Stripe API faults: shares of all calls. */
	stripe: { error500: number; error429: number };
	/** The killer's wait between kills (after the replacement is up): from, to. */
	killGapMs: [number, number];
	/** Restart Redis mid-run (besides the FLUSHALL). */
	restartRedis: boolean;
	print: (line: string) => void;
}

export interface Invariant {
	name: string;
	passed: boolean;
	detail: string;
}

export interface ChaosResult {
	invariants: Invariant[];
	figures: Record<string, unknown>;
}

/** FLUSHALL on each of these servers (a cluster's masters: FLUSHALL empties one node only). */
export async function flushServers(urls: readonly string[]): Promise<void> {
	for (const url of urls) {
		const admin = new Redis(url);
		try {
			await admin.flushall();
		} finally {
			admin.disconnect();
		}
	}
}

/** Roughly how many Stripe events one story of the mix makes (measured: ~13); only sizes the first wave. */
const EVENTS_PER_STORY = 12;
/** One story in this many is an entitlement story (the mixed run's share: 76 of 696). */
const ENTITLEMENT_EVERY = 9;

/**
 * The fault rules that give these shares of all calls: the emulator draws each rule in turn and the first that
 * fires wins, so a later rule's rate is its share of what the earlier ones left.
 */
export function keycrateFaultRules(shares: ChaosOptions['keycrate']): FaultRule[] {
	const rules: FaultRule[] = [];
	let left = 1;
	for (const [kind, share] of [
		['commit_then_500', shares.commitThen500],
		['error_500', shares.error500],
		['error_429', shares.error429],
	] as const) {
		if (share <= 0) continue;
		if (share > left) throw new Error(`Keycrate fault shares add up to more than 1`);
		// Retry-After 0: retried at once in-process, as a short Retry-After would be.
		rules.push({ endpoint: '*', kind, rate: share / left, ...(kind === 'error_429' ? { retry_after_s: 0 } : {}) });
		left -= share;
	}
	return rules;
}

/** A wave of stories: one-offs and subscriptions as in the mixed run, the entitlement stories spread among them. */
function wave(book: StoryBook, count: number, next: { entitlement: number }): Story[] {
	const stories: Story[] = [];
	// Every kind at least once in the first wave, however small the run.
	const entitlements = Math.max(Math.ceil(count / ENTITLEMENT_EVERY), next.entitlement === 0 ? ENTITLEMENT_STORIES.length : 0);
	for (let index = 0; index < entitlements; index++) stories.push(book.entitlement(ENTITLEMENT_STORIES[next.entitlement++ % ENTITLEMENT_STORIES.length]));
	while (stories.length < count) stories.push(book.rng.chance(240 / 620) ? book.subscription() : book.oneOff());
	return book.rng.shuffle(stories);
}

const pendingOf = (counts: Record<string, number>) =>
	counts.waiting + counts.active + counts.delayed + counts.prioritized + counts.paused + counts['waiting-children'];

export async function runChaos(redis: ChaosRedis, options: ChaosOptions): Promise<ChaosResult> {
	const { print } = options;
	const started = Date.now();
	const since = new Date(started - 60000).toISOString();
	const running = await Cluster.start({
		label: options.label,
		redisUrl: redis.url,
		env: {
			WORKER_CONCURRENCY: '16',
			// More attempts than the tests' schedule: a third of all Keycrate calls fail here, and a sync makes several.
			RETRY_SCHEDULE: '100ms,500ms,1s,2s,3s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s',
			...redis.env,
		},
		handoff: { failRate: 0.05 },
	});
	try {
		return await play(running, redis, options, started, since, print);
	} finally {
		await running.stop();
	}
}

async function play(
	running: Cluster,
	redis: ChaosRedis,
	options: ChaosOptions,
	started: number,
	since: string,
	print: (line: string) => void,
): Promise<ChaosResult> {
	const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
	const book = new StoryBook(running.stripe, options.seed, running.tiers, running.graceSeconds);
	const rng = new Rng(options.seed ^ 0x5eed);
	const live: WorkerProcess[] = await Promise.all([running.spawnWorker('all'), running.spawnWorker('all')]);
	running.setFaults(keycrateFaultRules(options.keycrate));
	running.stripe.setFaults({ error500Rate: options.stripe.error500, error429Rate: options.stripe.error429 });

	// The killer: at random moments a random worker gets SIGKILL (no cleanup at all) and a new one takes its place
	// on the same port (the deliveries' load balancer keeps its list). One dead at a time.
	let killing = true;
	let kills = 0;
	const killer = (async () => {
		while (killing) {
			await new Promise((resolve) => setTimeout(resolve, options.killGapMs[0] + rng.next() * (options.killGapMs[1] - options.killGapMs[0])));
			if (!killing) break;
			const index = rng.int(0, live.length - 1);
			const port = Number(new URL(live[index].ingestUrl as string).port);
			await live[index].kill('SIGKILL');
			kills += 1;
			live[index] = await running.spawnWorker('all', {}, port);
		}
	})();
	try {
		return await storm();
	} finally {
		killing = false;
		await killer;
	}

	async function storm(): Promise<ChaosResult> {
		const resyncs: string[] = [];
		let resyncRuns = 0;
		/** `keycrate-worker resync --since <start>`, run again if it fails (Stripe faults hit its reads too). */
		async function resync(after: string): Promise<void> {
			for (let attempt = 1; ; attempt++) {
				resyncRuns += 1;
				try {
					const out = await promisify(execFile)(process.execPath, [CLI_PATH, 'resync', '--since', since], {
						cwd: WORKER_DIR,
						env: running.workerEnv(0),
						encoding: 'utf8',
					});
					resyncs.push(`${after}: ${out.stdout.trim()}${attempt > 1 ? ` (run ${attempt})` : ''}`);
					print(`[${seconds()}] resync after ${after}: ${out.stdout.trim()}`);
					return;
				} catch (error) {
					if (attempt >= 5) throw error;
					print(`[${seconds()}] resync after ${after} failed (${(error as Error).message.split('\n').slice(0, 2).join(' ')}); again`);
				}
			}
		}

		/** Waits until syncs are queued (so the loss is real), then lets `lose` take Redis' content. */
		async function loseRedis(what: string, lose: () => Promise<void>): Promise<number> {
			let pending = 0;
			await waitUntil(
				async () => (pending = pendingOf(await running.jobCounts()) + pendingOf(await running.jobCounts(running.handoffQueue))) > 0,
				120000,
				() => `syncs queued before ${what}`,
			);
			await lose();
			print(`[${seconds()}] ${what} with ${pending} job(s) queued`);
			return pending;
		}

		const stories: Story[] = [];
		const byStatus: Record<string, number> = {};
		let deliveries = 0;
		let phases = 0;
		let pendingAtRestart = 0;
		let pendingAtFlush = 0;
		const next = { entitlement: 0 };
		for (let round = 0; running.stripe.events().length < options.events; round++) {
			const missing = options.events - running.stripe.events().length;
			const played = wave(book, Math.max(ENTITLEMENT_STORIES.length, Math.ceil(missing / EVENTS_PER_STORY)), next);
			stories.push(...played);
			const depth = Math.max(...played.map((story) => story.steps.length));
			print(`[${seconds()}] wave ${round + 1}: ${played.length} stories, ${depth} phases`);
			for (let phase = 0; playPhase(played, phase) > 0; phase++) {
				phases += 1;
				const delivering = running.deliver({ copies: options.copies, seed: options.seed + phases });
				// The two losses, in the first wave while its deliveries and syncs run: a third and two thirds in.
				if (round === 0 && options.restartRedis && phase === Math.floor(depth / 3)) {
					pendingAtRestart = await loseRedis('Redis restarted', () => redis.restart());
					await resync('the restart');
				}
				if (round === 0 && phase === Math.floor((2 * depth) / 3)) {
					pendingAtFlush = await loseRedis('Redis emptied (FLUSHALL)', () => redis.flushAll());
					await resync('the FLUSHALL');
				}
				const stats = await delivering;
				deliveries += stats.deliveries;
				for (const [status, count] of Object.entries(stats.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + count;
				print(`[${seconds()}] phase ${phases}: ${stats.deliveries} deliveries, ${running.stripe.events().length} events so far, ${kills} kills`);
			}
		}
		// The kills go on while the last syncs run, until there were enough.
		await waitUntil(
			() => kills >= options.kills,
			1800000,
			() => `${options.kills} kills (${kills} so far)`,
		);
		killing = false;
		await killer;
		await running.waitForDrain(1800000, 1000);
		const beforeLast = checkLicenses(
			running.licenses(),
			stories.map((story) => story.expected()),
			{ maxProblems: 100000 },
		);
		print(`[${seconds()}] drained; ${beforeLast.problems.length} problem(s) before the closing resync`);
		// A last resync heals what a job lost between its resync and now (none expected), as the deploy runbook says.
		await resync('the run');
		await running.waitForDrain(1800000, 1000);

		const expected = stories.map((story) => story.expected());
		const summary = checkLicenses(running.licenses(), expected, { maxProblems: 30 });
		const licenses = running.licenses();
		const failed = await running.failedJobs();
		const failedHandoffs = await running.failedHandoffs();
		const receiver = running.handoffReceiver as NonNullable<typeof running.handoffReceiver>;
		const keysPerLicense = receiver.idempotencyKeysPerLicense();
		const calls = running.calls();
		const keycrateByOutcome: Record<string, number> = {};
		for (const outcomes of Object.values(calls))
			for (const [status, count] of Object.entries(outcomes)) keycrateByOutcome[status] = (keycrateByOutcome[status] ?? 0) + count;
		const stripeFaults = running.stripe.injectedFaults();
		const events = running.stripe.events().length;

		const perSeat = new Map<string, number>();
		for (const license of licenses) {
			const seat = `${String(license.metadata?.[ROOT_METADATA])}#${String(license.metadata?.[SEAT_METADATA])}`;
			perSeat.set(seat, (perSeat.get(seat) ?? 0) + 1);
		}
		const doubled = [...perSeat].filter(([, count]) => count > 1);
		const activeKeys = licenses.filter((license) => license.status === 'active').map((license) => license.license_key);
		const notHandedOff = activeKeys.filter((key) => !keysPerLicense.has(key));
		const strayHandoffs = [...keysPerLicense.keys()].filter((key) => !licenses.some((license) => license.license_key === key));
		const twiceHandedOff = [...keysPerLicense].filter(([, count]) => count !== 1);
		const nonOk = Object.entries(byStatus).filter(([status]) => !/^2\d\d$/.test(status));
		const kinds = new Set(expected.filter((root) => root.story.startsWith('entitlement ')).map((root) => root.story));
		const secrets = running.secretsInLogs();
		const list = (items: readonly string[]) =>
			items.length === 0 ? 'none' : `${items.length}: ${items.slice(0, 5).join('; ')}${items.length > 5 ? ' …' : ''}`;

		const invariants: Invariant[] = [
			{
				name: `at least ${options.events} Stripe events, each delivered ×${options.copies} shuffled`,
				passed: events >= options.events && deliveries === events * options.copies,
				detail: `${events} events, ${deliveries} deliveries`,
			},
			{
				name: 'every delivery acknowledged 2xx in the end (503s while Redis was away were re-sent)',
				passed: nonOk.length === 0,
				detail: JSON.stringify(byStatus),
			},
			{
				name: `all ${ENTITLEMENT_STORIES.length} entitlement stories among the stories`,
				passed: kinds.size === ENTITLEMENT_STORIES.length,
				detail: `${kinds.size} kinds, ${expected.filter((root) => root.story.startsWith('entitlement ')).length} stories of ${stories.length}`,
			},
			{
				name: `at least ${options.kills} SIGKILLs, each worker replaced`,
				passed: kills >= options.kills && live.every((worker) => worker.running),
				detail: `${kills} kills, ${live.filter((worker) => worker.running).length} of 2 running at the end`,
			},
			{
				name: 'Keycrate faults injected (500 and 429 answered)',
				passed: (keycrateByOutcome['500'] ?? 0) > 0 && (keycrateByOutcome['429'] ?? 0) > 0,
				detail: `500: ${keycrateByOutcome['500'] ?? 0}, 429: ${keycrateByOutcome['429'] ?? 0} of ${Object.values(keycrateByOutcome).reduce((a, b) => a + b, 0)} calls`,
			},
			{
				name: 'a lost create reply adopted (commit_then_500 on /license/create)',
				passed: running.countActions('adopted') > 0,
				detail: `${running.countActions('adopted')} adopted`,
			},
			{
				name: 'Stripe faults injected (500 and 429 answered)',
				passed: stripeFaults['500'] > 0 && stripeFaults['429'] > 0,
				detail: `500: ${stripeFaults['500']}, 429: ${stripeFaults['429']} of ${running.stripeApiCalls} calls`,
			},
			...(options.restartRedis
				? [{ name: 'Redis restarted empty while jobs were queued', passed: pendingAtRestart > 0, detail: `${pendingAtRestart} job(s) lost` }]
				: []),
			{ name: 'Redis emptied (FLUSHALL) while jobs were queued', passed: pendingAtFlush > 0, detail: `${pendingAtFlush} job(s) lost` },
			{
				name: "each buyer's licenses exactly as the stories say (status, expiry, tier, tags, metadata; nothing unpaid)",
				passed: summary.problems.length === 0,
				detail: list(summary.problems),
			},
			{
				name: 'no seat with two licenses (no duplicate keys per seat)',
				passed: doubled.length === 0,
				detail: list(doubled.map(([seat, count]) => `${seat} ×${count}`)),
			},
			{
				name: 'no more licenses than seats, one per seat that must hold one',
				passed: summary.licenses <= summary.seats && summary.licenses >= summary.activeSeats,
				detail: `${summary.licenses} licenses, ${summary.activeSeats} active of ${summary.seats} seats`,
			},
			{
				name: 'every paid (active) license handed off',
				passed: notHandedOff.length === 0,
				detail: `${keysPerLicense.size} handed off; missing ${list(notHandedOff)}`,
			},
			{
				name: 'each hand-off under exactly one Idempotency-Key (handed off exactly once)',
				passed: twiceHandedOff.length === 0,
				detail: list(twiceHandedOff.map(([key, count]) => `${key} ×${count}`)),
			},
			{ name: 'no hand-off of a license that does not exist', passed: strayHandoffs.length === 0, detail: list(strayHandoffs) },
			{
				name: '0 dead letters (syncs and hand-offs)',
				passed: failed.length + failedHandoffs.length === 0,
				detail: list([...failed.map((job) => `${job.root}: ${job.reason}`), ...failedHandoffs.map((job) => `${job.id}: ${job.reason}`)]),
			},
			{ name: 'no secret in any log line', passed: secrets.length === 0, detail: list(secrets) },
		];
		const figures = {
			seed: options.seed,
			stories: stories.length,
			events,
			deliveries,
			phases,
			httpAnswers: byStatus,
			sigkills: kills,
			workerProcesses: running.workers.length,
			keycrateCalls: keycrateByOutcome,
			keycrateFaultShares: options.keycrate,
			stripeApiCalls: running.stripeApiCalls,
			stripeFaults,
			handoffAnswered500: receiver.failed,
			pendingAtRestart,
			pendingAtFlush,
			resyncRuns,
			resyncs,
			problemsBeforeClosingResync: beforeLast.problems.length,
			seats: summary.seats,
			licenses: summary.licenses,
			seconds: Math.round((Date.now() - started) / 1000),
		};
		if (invariants.some((invariant) => !invariant.passed)) {
			// Every process's output, for the post-mortem.
			const file = join(tmpdir(), `keycrate-chaos-${options.label}-${options.seed}-${Date.now()}.log`);
			writeFileSync(file, running.workers.map((worker) => `=== ${worker.name}\n${worker.text()}`).join('\n'));
			print(`worker logs: ${file}`);
		}
		return { invariants, figures };
	}
}

/** Prints the invariants and `N passed, N failed`; true when none failed. */
export function report(result: ChaosResult, print: (line: string) => void): boolean {
	print(`figures\n${JSON.stringify(result.figures, null, 2)}`);
	for (const invariant of result.invariants) print(`${invariant.passed ? 'PASS' : 'FAIL'}  ${invariant.name} — ${invariant.detail}`);
	const failed = result.invariants.filter((invariant) => !invariant.passed).length;
	print(`${result.invariants.length - failed} passed, ${failed} failed`);
	return failed === 0;
}
