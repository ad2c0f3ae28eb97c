// Benchmark of the Stripe sync worker, end to end: the Stripe fake's signed webhooks → an ingest process →
// queue; then sync processes (role process) start and drain it, reading the Stripe fake and writing to the
// Keycrate emulator with a network-like latency. Measured: roots synced per second from the start of the sync
// processes to a drained queue (the delivery is timed apart, so that the load generator, which shares this
// process with both fakes, does not set the pace). Printed as RATIOS against a baseline measured in the same
// run: 2 sync processes vs 1, Keycrate faults (5% commit_then_500 + 10% error_500) vs none, every event
// delivered 3× vs once; plus Keycrate and Stripe calls per root. Every run must end in the expected state or the benchmark
// fails. Absolute figures depend on the machine (two cores shared by load generator, fakes, Redis and workers)
// and are printed only as context.
//
//   npm run bench [-- --lifecycles 300 --rounds 2 --seed 1 --latency-ms 30 --concurrency 4 --sync 0|1 --bulk-keys 100000 --purchases 20]
// Then the bulk rows (bench/bulk.ts).

import { parseFlags, UsageError } from '../src/args.js';
import { checkLicenses } from '../test/support/cluster-check.js';
import { Cluster } from '../test/support/cluster-harness.js';
import { benchBulk } from './bulk.js';
import { ENTITLEMENT_STORIES, playPhase, StoryBook } from '../test/support/cluster-stripe.js';

interface Options {
	/** 0 skips the sync scenarios. */
	sync: number;
	/** Keys of the bulk create job (0 skips the bulk rows). */
	bulkKeys: number;
	purchases: number;
	lifecycles: number;
	rounds: number;
	seed: number;
	latencyMs: number;
	concurrency: number;
}

const DEFAULTS: Options = { sync: 1, bulkKeys: 100000, purchases: 20, lifecycles: 300, rounds: 2, seed: 1, latencyMs: 30, concurrency: 4 };
/** Each flag and the option it sets; every one is a number ≥ 0 (`--sync 0` skips the sync rows). */
const FLAGS = { lifecycles: 'lifecycles', rounds: 'rounds', seed: 'seed', 'latency-ms': 'latencyMs', concurrency: 'concurrency', sync: 'sync', 'bulk-keys': 'bulkKeys', purchases: 'purchases' } as const;

function parseOptions(argv: string[]): Options {
	const flagOptions = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]));
	const { values } = parseFlags('bench', argv, flagOptions);
	const options = { ...DEFAULTS };
	for (const [flag, key] of Object.entries(FLAGS)) {
		const text = values[flag];
		if (text === undefined) continue;
		const value = Number(text);
		if (typeof text !== 'string' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${flag}: needs a number ≥ 0, got "${String(text)}"`);
		options[key] = value;
	}
	return options;
}

interface Scenario {
	name: string;
	processes: number;
	faults: boolean;
	copies: number;
}

interface Measurement {
	rootsPerSecond: number;
	callsPerRoot: number;
	stripeCallsPerRoot: number;
	seconds: number;
	roots: number;
	deliveries: number;
	deliverySeconds: number;
}

const SCENARIOS: Scenario[] = [
	{ name: 'baseline: 1 process, no faults, each event once', processes: 1, faults: false, copies: 1 },
	{ name: '2 sync processes', processes: 2, faults: false, copies: 1 },
	{ name: '1 process, 5% commit_then_500 + 10% error_500', processes: 1, faults: true, copies: 1 },
	{ name: '1 process, every event ×3 shuffled', processes: 1, faults: false, copies: 3 },
];

async function measure(scenario: Scenario, options: Options, round: number): Promise<Measurement> {
	const cluster = await Cluster.start({ label: 'bench', env: { WORKER_CONCURRENCY: String(options.concurrency), LOG_LEVEL: 'warn' } });
	try {
		// The same seed per round in every scenario: each scenario syncs the same stories.
		const book = new StoryBook(cluster.stripe, options.seed * 1000 + round, cluster.tiers, cluster.graceSeconds);
		// Half one-off purchases, half subscriptions, and each entitlement story once (refunds, chargebacks,
		// draft renewals, trials, plan changes: what the payment-history reads cost).
		const stories = [
			...Array.from({ length: Math.max(0, options.lifecycles - ENTITLEMENT_STORIES.length) }, (_, index) => (index % 2 === 0 ? book.oneOff() : book.subscription())),
			...ENTITLEMENT_STORIES.map((kind) => book.entitlement(kind)),
		];
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		await cluster.spawnWorker('ingest');
		cluster.setFaults([
			{ endpoint: '*', kind: 'latency', latency_ms: options.latencyMs, rate: 1 },
			...(scenario.faults
				? [
						{ endpoint: '*', kind: 'commit_then_500' as const, rate: 0.05 },
						{ endpoint: '*', kind: 'error_500' as const, rate: 0.1 },
					]
				: []),
		]);
		const deliveryStarted = process.hrtime.bigint();
		const delivered = await cluster.deliver({ copies: scenario.copies, seed: round, concurrency: 16 });
		const deliverySeconds = Number(process.hrtime.bigint() - deliveryStarted) / 1e9;
		// Paused while the sync processes start (node's start-up is not the worker's throughput).
		await cluster.queue.pause();
		await Promise.all(Array.from({ length: scenario.processes }, () => cluster.spawnWorker('process')));
		const started = process.hrtime.bigint();
		await cluster.queue.resume();
		await cluster.waitForDrain(600000, 100);
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		const stripeCalls = cluster.stripeApiCalls;
		const summary = checkLicenses(cluster.licenses(), stories.map((story) => story.expected()));
		const failed = await cluster.failedJobs();
		if (summary.problems.length > 0 || failed.length > 0) {
			throw new Error(`${scenario.name}: wrong end state (${summary.problems.length} problems, ${failed.length} dead letters): ${summary.problems.slice(0, 3).join('; ')}`);
		}
		const calls = Object.entries(cluster.calls())
			.filter(([endpoint]) => endpoint.startsWith('/license/'))
			.reduce((sum, [, outcomes]) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0);
		return { rootsPerSecond: stories.length / seconds, callsPerRoot: calls / stories.length, stripeCallsPerRoot: stripeCalls / stories.length, seconds, roots: stories.length, deliveries: delivered.deliveries, deliverySeconds };
	} finally {
		await cluster.stop();
	}
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
	const options = parseOptions(process.argv.slice(2));
	if (options.sync > 0) await benchSync(options);
	if (options.bulkKeys > 0) await benchBulk({ keys: options.bulkKeys, purchases: options.purchases, latencyMs: 5 });
}

async function benchSync(options: Options): Promise<void> {
	console.log(
		`keycrate-worker benchmark: ${options.lifecycles} stories (roots) per run (half one-off purchases, half subscriptions), ` +
			`Keycrate latency ${options.latencyMs} ms, WORKER_CONCURRENCY ${options.concurrency}, ${options.rounds} round(s), seed ${options.seed}`,
	);
	const results = new Map<string, Measurement[]>();
	// Rounds interleave the scenarios, so that a slow phase of the machine does not land on one scenario only.
	for (let round = 0; round < options.rounds; round++) {
		for (const scenario of SCENARIOS) {
			const measurement = await measure(scenario, options, round);
			results.set(scenario.name, [...(results.get(scenario.name) ?? []), measurement]);
			console.log(`  round ${round + 1}: ${scenario.name}: ${measurement.deliveries} deliveries queued in ${measurement.deliverySeconds.toFixed(2)} s; ${measurement.roots} roots synced in ${measurement.seconds.toFixed(2)} s`);
		}
	}
	const baseline = results.get(SCENARIOS[0].name) as Measurement[];
	const baseRate = median(baseline.map((m) => m.rootsPerSecond));
	const baseCalls = median(baseline.map((m) => m.callsPerRoot));
	console.log('\nratio against the baseline of this run (median of rounds; >1 = more roots synced per second):');
	for (const scenario of SCENARIOS) {
		const measurements = results.get(scenario.name) as Measurement[];
		const rate = median(measurements.map((m) => m.rootsPerSecond));
		const calls = median(measurements.map((m) => m.callsPerRoot));
		const stripeCalls = median(measurements.map((m) => m.stripeCallsPerRoot));
		console.log(
			`  ${scenario.name.padEnd(50)} throughput ×${(rate / baseRate).toFixed(2)}   Keycrate calls per root ×${(calls / baseCalls).toFixed(2)}` +
				`   (context: ${rate.toFixed(1)} roots/s, ${calls.toFixed(2)} Keycrate and ${stripeCalls.toFixed(2)} Stripe calls per root)`,
		);
	}
	console.log('\nEvery run ended in the expected state (one license per seat, expiry, status and tier as the stories say, no dead letter).');
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	},
);
