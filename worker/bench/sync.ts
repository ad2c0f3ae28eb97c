// The sync path, end to end: the Stripe fake's signed webhooks → an ingest process → queue; then sync processes
// (role process) start and drain it, reading the Stripe fake and writing to the Keycrate emulator. Measured:
// roots synced per second from the start of the sync processes to a drained queue (the delivery is timed apart:
// the load generator shares this process with both fakes). Every run must end in the expected state or the
// benchmark fails.
//   P2      latency 0 (Keycrate and Stripe): roots/s beside a BullMQ no-op processor at the same concurrency
//   P3      Keycrate latency 100 ms at concurrency 50: roots/s beside the bound 50 / (0.1 s × Keycrate calls per root)
//   faults  5% commit_then_500 + 10% error_500 vs none; 2 sync processes vs 1; every event ×3 vs once

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { syncJobOptions } from '../src/jobs/queues.js';
import { loadConfig } from '../src/config.js';
import { checkLicenses } from '../test/support/cluster-check.js';
import { Cluster } from '../test/support/cluster-harness.js';
import { ENTITLEMENT_STORIES, playPhase, StoryBook } from '../test/support/cluster-stripe.js';
import { median, row, type Row } from './table.js';

export interface SyncOptions {
	lifecycles: number;
	rounds: number;
	seed: number;
	latencyMs: number;
	concurrency: number;
	/** Only this scenario (a key of the table below; rows without their scenarios are left out): for profiles. */
	scenario?: string;
}

interface Scenario {
	name: string;
	processes: number;
	faults: boolean;
	copies: number;
	latencyMs: number;
	concurrency: number;
}

interface Measurement {
	/** CPU milliseconds per root: the sync processes', and this process's (both fakes and the load generator). */
	workerCpuMsPerRoot: number;
	fakesCpuMsPerRoot: number;
	rootsPerSecond: number;
	callsPerRoot: number;
	stripeCallsPerRoot: number;
	seconds: number;
	roots: number;
}

const DRAIN_STABLE_MS = 100;
/** Roots each run syncs before its timed part (see measure). */
const WARM_UP_ROOTS = 40;

/** Every call that reached the emulator's /license/ endpoints, whatever its answer. */
function keycrateCalls(cluster: Cluster): number {
	return Object.entries(cluster.calls())
		.filter(([endpoint]) => endpoint.startsWith('/license/'))
		.reduce((sum, [, outcomes]) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
}

/** user + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(scenario: Scenario, options: SyncOptions, round: number): Promise<Measurement> {
	const cluster = await Cluster.start({ label: 'bench', env: { WORKER_CONCURRENCY: String(scenario.concurrency), LOG_LEVEL: 'warn' } });
	try {
		// The same seed per round in every scenario: each scenario syncs the same stories.
		const book = new StoryBook(cluster.stripe, options.seed * 1000 + round, cluster.tiers, cluster.graceSeconds);
		await cluster.spawnWorker('ingest');
		const syncers = await Promise.all(Array.from({ length: scenario.processes }, () => cluster.spawnWorker('process')));
		// Warm-up, not timed: the sync processes first sync roots of their own, so that what is measured is running
		// workers, not V8 compiling their code (which two processes pay twice).
		const warmUp = Array.from({ length: WARM_UP_ROOTS }, (_, index) => (index % 2 === 0 ? book.oneOff() : book.subscription()));
		for (let phase = 0; playPhase(warmUp, phase) > 0; phase++) void 0;
		await cluster.deliver({ copies: 1, seed: round, concurrency: 16 });
		await cluster.waitForDrain(600000, DRAIN_STABLE_MS);
		const callsBefore = keycrateCalls(cluster);
		const stripeCallsBefore = cluster.stripeApiCalls;
		// Half one-off purchases, half subscriptions, and each entitlement story once (refunds, chargebacks,
		// draft renewals, trials, plan changes: what the payment-history reads cost).
		const stories = [
			...Array.from({ length: Math.max(0, options.lifecycles - ENTITLEMENT_STORIES.length) }, (_, index) =>
				index % 2 === 0 ? book.oneOff() : book.subscription(),
			),
			...ENTITLEMENT_STORIES.map((kind) => book.entitlement(kind)),
		];
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		cluster.setFaults([
			...(scenario.latencyMs > 0 ? [{ endpoint: '*', kind: 'latency' as const, latency_ms: scenario.latencyMs, rate: 1 }] : []),
			...(scenario.faults
				? [
						{ endpoint: '*', kind: 'commit_then_500' as const, rate: 0.05 },
						{ endpoint: '*', kind: 'error_500' as const, rate: 0.1 },
					]
				: []),
		]);
		// Queued while the queue is paused, then timed from resume to drained (the delivery is not the workers' pace).
		await cluster.queue.pause();
		await cluster.deliver({ copies: scenario.copies, seed: round, concurrency: 16 });
		const workerCpu = () => syncers.reduce((sum, worker) => sum + cpuSeconds(worker.pid), 0);
		const cpuBefore = { workers: workerCpu(), fakes: process.cpuUsage() };
		const started = process.hrtime.bigint();
		await cluster.queue.resume();
		await cluster.waitForDrain(600000, DRAIN_STABLE_MS);
		const seconds = Number(process.hrtime.bigint() - started) / 1e9 - DRAIN_STABLE_MS / 1000;
		const fakesCpu = process.cpuUsage(cpuBefore.fakes);
		const workerCpuMsPerRoot = ((workerCpu() - cpuBefore.workers) * 1000) / stories.length;
		const fakesCpuMsPerRoot = (fakesCpu.user + fakesCpu.system) / 1000 / stories.length;
		const stripeCalls = cluster.stripeApiCalls - stripeCallsBefore;
		const summary = checkLicenses(
			cluster.licenses(),
			[...warmUp, ...stories].map((story) => story.expected()),
		);
		const failed = await cluster.failedJobs();
		if (summary.problems.length > 0 || failed.length > 0) {
			throw new Error(
				`${scenario.name}: wrong end state (${summary.problems.length} problems, ${failed.length} dead letters): ${summary.problems.slice(0, 3).join('; ')}`,
			);
		}
		const calls = keycrateCalls(cluster) - callsBefore;
		return {
			workerCpuMsPerRoot,
			fakesCpuMsPerRoot,
			rootsPerSecond: stories.length / seconds,
			callsPerRoot: calls / stories.length,
			stripeCallsPerRoot: stripeCalls / stories.length,
			seconds,
			roots: stories.length,
		};
	} finally {
		await cluster.stop();
	}
}

/** BullMQ's own ceiling here: `jobs` sync-shaped jobs (same options) drained by a no-op processor in a process of its own. */
async function noopRate(jobs: number, concurrency: number): Promise<number> {
	const cluster = await Cluster.start({ label: 'benchnoop' });
	const queueName = 'bench-noop';
	const queue = new Queue(queueName, { connection: cluster.redis, prefix: cluster.prefix });
	const config = loadConfig(cluster.workerEnv(0), 'inspect');
	const child = spawn(process.execPath, ['--import', 'tsx', new URL('./noop-worker.ts', import.meta.url).pathname], {
		env: { ...process.env, REDIS_URL: cluster.redisUrl, QUEUE_PREFIX: cluster.prefix, QUEUE: queueName, CONCURRENCY: String(concurrency) },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	try {
		await queue.pause();
		await queue.addBulk(
			Array.from({ length: jobs }, (_, index) => ({
				name: 'sync',
				data: { root: `sub_noop${index}`, cause: 'bench' },
				opts: syncJobOptions(config, `sub_noop${index}`),
			})),
		);
		await new Promise<void>((resolve, reject) => {
			child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
			child.once('exit', (code) => reject(new Error(`no-op worker exited (${code})`)));
		});
		const started = process.hrtime.bigint();
		await queue.resume();
		for (;;) {
			const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
			if (counts.waiting + counts.active + counts.delayed + counts.prioritized === 0) break;
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		return jobs / (Number(process.hrtime.bigint() - started) / 1e9);
	} finally {
		child.kill('SIGKILL');
		await queue.close();
		await cluster.stop();
	}
}

export async function benchSync(options: SyncOptions): Promise<Row[]> {
	const base = { processes: 1, faults: false, copies: 1, latencyMs: options.latencyMs, concurrency: options.concurrency };
	const scenarios = {
		baseline: { ...base, name: `1 process, Keycrate ${options.latencyMs} ms, concurrency ${options.concurrency}` },
		twoProcesses: { ...base, name: '2 sync processes', processes: 2 },
		faults: { ...base, name: '5% commit_then_500 + 10% error_500', faults: true },
		copies: { ...base, name: 'every event ×3 shuffled', copies: 3 },
		latencyZero: { ...base, name: 'latency 0', latencyMs: 0 },
		latency100: { ...base, name: 'Keycrate 100 ms, concurrency 50', latencyMs: 100, concurrency: 50 },
	} satisfies Record<string, Scenario>;
	if (options.scenario !== undefined) {
		const one = (scenarios as Record<string, Scenario>)[options.scenario];
		if (one === undefined) throw new Error(`--scenario: one of ${Object.keys(scenarios).join(', ')}`);
		const measurement = await measure(one, options, 0);
		console.log(
			`  ${one.name}: ${measurement.roots} roots in ${measurement.seconds.toFixed(2)} s (${measurement.rootsPerSecond.toFixed(1)} roots/s); CPU per root: sync processes ${measurement.workerCpuMsPerRoot.toFixed(1)} ms, fakes ${measurement.fakesCpuMsPerRoot.toFixed(1)} ms`,
		);
		return [];
	}
	console.log(
		`sync: ${options.lifecycles} roots per run (half one-off purchases, half subscriptions, with the ${ENTITLEMENT_STORIES.length} entitlement stories), ${options.rounds} round(s), seed ${options.seed}`,
	);
	const results = new Map<Scenario, Measurement[]>();
	// Rounds interleave the scenarios, so that a slow phase of the machine does not land on one scenario only.
	for (let round = 0; round < options.rounds; round++) {
		for (const scenario of Object.values(scenarios)) {
			const measurement = await measure(scenario, options, round);
			results.set(scenario, [...(results.get(scenario) ?? []), measurement]);
			console.log(
				`  round ${round + 1}: ${scenario.name}: ${measurement.roots} roots in ${measurement.seconds.toFixed(2)} s; CPU per root: sync processes ${measurement.workerCpuMsPerRoot.toFixed(1)} ms, fakes + load generator ${measurement.fakesCpuMsPerRoot.toFixed(1)} ms`,
			);
		}
	}
	const rate = (scenario: Scenario) => median((results.get(scenario) as Measurement[]).map((m) => m.rootsPerSecond));
	const callsPerRoot = (scenario: Scenario) => median((results.get(scenario) as Measurement[]).map((m) => m.callsPerRoot));
	const stripePerRoot = (scenario: Scenario) => median((results.get(scenario) as Measurement[]).map((m) => m.stripeCallsPerRoot));
	const noop = await noopRate(options.lifecycles * 10, options.concurrency);
	const bound = 50 / (0.1 * callsPerRoot(scenarios.latency100));
	const baseRate = rate(scenarios.baseline);
	return [
		row({
			id: 'P2',
			what: `sync, latency 0, concurrency ${options.concurrency}`,
			value: rate(scenarios.latencyZero),
			unit: 'roots/s',
			baselineWhat: 'BullMQ no-op processor',
			baseline: noop,
			goal: { atLeast: 0.25 },
		}),
		row({
			id: 'P3',
			what: 'sync, Keycrate 100 ms, concurrency 50',
			value: rate(scenarios.latency100),
			unit: 'roots/s',
			baselineWhat: `bound 50/(0.1 s × ${callsPerRoot(scenarios.latency100).toFixed(2)} calls)`,
			baseline: bound,
			goal: { atLeast: 0.9 },
		}),
		row({
			id: 'faults',
			what: scenarios.faults.name,
			value: rate(scenarios.faults),
			unit: 'roots/s',
			baselineWhat: 'no faults',
			baseline: baseRate,
			goal: { atLeast: 0.5 },
		}),
		row({
			id: 'scale',
			what: scenarios.twoProcesses.name,
			value: rate(scenarios.twoProcesses),
			unit: 'roots/s',
			baselineWhat: scenarios.baseline.name,
			baseline: baseRate,
			goal: { atLeast: 1.6 },
		}),
		row({
			id: 'x3',
			what: scenarios.copies.name,
			value: rate(scenarios.copies),
			unit: 'roots/s',
			baselineWhat: 'each event once',
			baseline: baseRate,
			goal: null,
		}),
		row({
			id: 'calls',
			what: 'Stripe calls per root',
			value: stripePerRoot(scenarios.baseline),
			unit: 'calls',
			baselineWhat: 'Keycrate calls per root',
			baseline: callsPerRoot(scenarios.baseline),
			goal: null,
		}),
		row({
			id: 'calls×3',
			what: 'Keycrate calls per root, events ×3',
			value: callsPerRoot(scenarios.copies),
			unit: 'calls',
			baselineWhat: 'events once',
			baseline: callsPerRoot(scenarios.baseline),
			goal: null,
		}),
	];
}
