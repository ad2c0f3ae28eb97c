// The "Must show" run of issue 4: ≥ 1,000 purchases and renewals (one-off Checkout purchases, subscriptions with
// renewals, tier changes, added seats, cancellations, refunds and disputes), every event delivered 3× in a
// seeded random order through 2 worker processes, with 5% commit_then_500 and 10% error_500 on every Keycrate
// endpoint → exactly one license per purchase/subscription seat, every expiry and status as one clean delivery
// leaves it; every license handed off to LICENSE_WEBHOOK_URL under one Idempotency-Key (the receiver answers
// 5% of posts with 500). Prints its figures. MIXED_SEED=<n> replays a run; MIXED_ONE_OFFS / MIXED_SUBSCRIPTIONS resize it.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster } from './support/cluster-harness.js';
import { shuffledDeliveries, StripeWorld, type Lifecycle } from './support/cluster-stripe.js';

const SEED = Number(process.env.MIXED_SEED ?? 20261127);
const ONE_OFFS = Number(process.env.MIXED_ONE_OFFS ?? 400);
const SUBSCRIPTIONS = Number(process.env.MIXED_SUBSCRIPTIONS ?? 240);
const COPIES = 3;

describe('the mixed run (Must show)', () => {
	let cluster: Cluster | undefined;

	afterAll(async () => {
		await cluster?.stop();
	});

	test(`seed ${SEED}: ${ONE_OFFS} one-off purchases + ${SUBSCRIPTIONS} subscriptions, each event ×${COPIES} shuffled, 2 worker processes, 5% commit_then_500 + 10% error_500`, async () => {
		const started = Date.now();
		const running = await Cluster.start({ label: 'mixed', env: { WORKER_CONCURRENCY: '16' }, handoff: { failRate: 0.05 } });
		cluster = running;
		const world = new StripeWorld(SEED, running.tiers, running.graceSeconds);
		const lifecycles: Lifecycle[] = [];
		for (let index = 0; index < ONE_OFFS + SUBSCRIPTIONS; index++) {
			// Spread the subscriptions evenly among the one-offs.
			const total = ONE_OFFS + SUBSCRIPTIONS;
			const subscription = Math.floor(((index + 1) * SUBSCRIPTIONS) / total) > Math.floor((index * SUBSCRIPTIONS) / total);
			lifecycles.push(subscription ? world.subscriptionLifecycle() : world.oneOffPurchase());
		}
		lifecycles.forEach((lifecycle) => running.addLineItems(lifecycle.lineItems));
		const events = lifecycles.flatMap((lifecycle) => lifecycle.events);
		const purchasesAndRenewals = lifecycles.reduce((sum, lifecycle) => sum + lifecycle.purchasesAndRenewals, 0);
		expect(purchasesAndRenewals).toBeGreaterThanOrEqual(1000);

		const workers = await Promise.all([running.spawnWorker('all'), running.spawnWorker('all')]);
		running.setFaults([
			{ endpoint: '*', kind: 'commit_then_500', rate: 0.05 },
			{ endpoint: '*', kind: 'error_500', rate: 0.1 },
		]);
		const deliveries = shuffledDeliveries(world.rng, events, COPIES);
		// While deliveries go on, completed jobs are forgotten every 2 s (as if their retention had passed), so
		// that many later copies are processed again instead of being dropped by the job id.
		let forgotten = 0;
		let delivering = true;
		const forgetting = (async () => {
			while (delivering) {
				await new Promise((resolve) => setTimeout(resolve, 2000));
				forgotten += await running.forgetCompletedJobs();
			}
		})();
		const deliveryStarted = Date.now();
		const stats = await running.deliver(deliveries, { concurrency: 16 });
		delivering = false;
		await forgetting;
		const counts = await running.waitForDrain(150000, 500);
		const processingSeconds = (Date.now() - deliveryStarted) / 1000;
		const failed = await running.failedJobs();
		const licenses = running.licenses();
		const summary = checkLicenses(licenses, lifecycles.map((lifecycle) => lifecycle.expected));
		const receiver = running.handoffReceiver as NonNullable<typeof running.handoffReceiver>;
		const keysPerLicense = receiver.idempotencyKeysPerLicense();
		const handoffPosts = [...receiver.posts.values()].reduce((sum, posts) => sum + posts.length, 0);
		const failedHandoffs = await running.failedHandoffs();

		const calls = running.calls();
		const byOutcome: Record<string, number> = {};
		for (const outcomes of Object.values(calls)) for (const [status, count] of Object.entries(outcomes)) byOutcome[status] = (byOutcome[status] ?? 0) + count;
		const kinds = {
			oneOff: lifecycles.filter((l) => l.expected.kind === 'payment').length,
			oneOffRefundedOrDisputed: lifecycles.filter((l) => l.expected.kind === 'payment' && l.expected.seats[0].status === 'paused').length,
			subscriptions: lifecycles.filter((l) => l.expected.kind === 'subscription').length,
			canceled: lifecycles.filter((l) => /canceled/.test(l.expected.story)).length,
			tierChanged: lifecycles.filter((l) => /tier→/.test(l.expected.story)).length,
			seatAdded: lifecycles.filter((l) => /seat\+1/.test(l.expected.story)).length,
			legacyShape: lifecycles.filter((l) => /\(legacy\)$/.test(l.expected.story)).length,
		};
		const figures = {
			seed: SEED,
			lifecycles: kinds,
			purchasesAndRenewals,
			events: events.length,
			deliveries: deliveries.length,
			httpAnswers: stats.byStatus,
			processedEvents: forgotten + counts.completed,
			reprocessedDuplicates: forgotten + counts.completed - events.length,
			deadLetters: failed.length,
			keycrateCallsByOutcome: byOutcome,
			keycrateCallsByEndpoint: calls,
			handoff: { accepted: handoffPosts, answered500: receiver.failed, licensesHandedOff: keysPerLicense.size, deadLetters: failedHandoffs.length },
			adoptedAfterLostReply: running.countSeatActions('adopted'),
			seats: summary.seats,
			licenses: summary.licenses,
			problems: summary.problems.length,
			secondsFromFirstDeliveryToDrained: processingSeconds,
			secondsTotal: (Date.now() - started) / 1000,
			// Both processes did real work: log lines of converged seats, per process.
			convergedSeatLinesPerProcess: workers.map((worker) => worker.logLines().filter((line) => line.msg === 'license converged').length),
		};
		console.log(`mixed run figures\n${JSON.stringify(figures, null, 2)}`);

		expect(stats.accepted).toBe(deliveries.length);
		expect(failed).toEqual([]);
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);
		// The faults really happened, on the calls that matter.
		expect(calls['/license/create']?.['500'] ?? 0).toBeGreaterThan(0);
		expect(calls['/license/extend']?.['500'] ?? 0).toBeGreaterThan(0);
		expect(figures.adoptedAfterLostReply).toBeGreaterThan(0);
		expect(Math.min(...figures.convergedSeatLinesPerProcess)).toBeGreaterThan(0);
		// Every license was handed off, each under exactly one Idempotency-Key (the receiver can de-duplicate).
		expect(failedHandoffs).toEqual([]);
		expect([...keysPerLicense.keys()].sort()).toEqual(licenses.map((license) => license.license_key).sort());
		expect([...keysPerLicense.values()].every((count) => count === 1)).toBe(true);
		expect(running.secretsInLogs()).toEqual([]);
	}, 240000);
});
