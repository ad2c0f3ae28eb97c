// Worker processes dying and competing: a process SIGKILLed while a Keycrate create is in flight (its intent
// recorded, the license committed, the reply never read) and a new process started; two processes on one queue
// fighting over the same subscriptions; a process stopped with SIGTERM mid-run (finishes its jobs, exits 0).

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { StripeWorld, type Lifecycle } from './support/cluster-stripe.js';

const SEED = Number(process.env.PROCESSES_SEED ?? 31337);

/** Seat records of the ledger whose create is in flight (intent written, no license key yet). */
async function seatsBeingCreated(cluster: Cluster): Promise<string[]> {
	const found: string[] = [];
	let cursor = '0';
	do {
		const [next, keys] = await cluster.redis.scan(cursor, 'MATCH', `${cluster.prefix}:ledger:seat:*`, 'COUNT', 500);
		for (const key of keys) if ((await cluster.redis.hget(key, 'state')) === 'creating') found.push(key);
		cursor = next;
	} while (cursor !== '0');
	return found;
}

function lifecyclesFor(world: StripeWorld, count: number): Lifecycle[] {
	return Array.from({ length: count }, (_, index) => (index % 2 === 0 ? world.oneOffPurchase() : world.subscriptionLifecycle()));
}

describe('worker processes killed, restarted, competing', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('SIGKILL while a create is in flight, then a new process: the committed license is adopted, not duplicated', async () => {
		cluster = await Cluster.start({ label: 'kill', env: { WORKER_CONCURRENCY: '4' } });
		const world = new StripeWorld(SEED, cluster.tiers, cluster.graceSeconds);
		const lifecycles = lifecyclesFor(world, 16);
		lifecycles.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('ingest');
		const victim = await cluster.spawnWorker('process');
		// Slow creates: the emulator commits a create 1.5 s after it arrived, whether or not anyone still listens.
		cluster.setFaults([{ endpoint: '/license/create', kind: 'latency', latency_ms: 1500, rate: 1 }]);
		const events = lifecycles.flatMap((lifecycle) => lifecycle.events);
		await cluster.deliver(world.rng.shuffle(events));

		const deadline = Date.now() + 30000;
		let inFlight: string[] = [];
		while ((inFlight = await seatsBeingCreated(cluster)).length === 0) {
			if (Date.now() > deadline) throw new Error(`no create ever in flight\n${cluster.tailOfLogs(3000)}`);
			await sleep(20);
		}
		// The intent is written just before the request: give the request time to reach the emulator.
		await sleep(300);
		inFlight = await seatsBeingCreated(cluster);
		expect(inFlight.length).toBeGreaterThan(0);
		const countsAtKill = await cluster.jobCounts();
		await victim.kill('SIGKILL');
		expect(victim.exitSignal).toBe('SIGKILL');
		await sleep(1700); // the in-flight creates commit on the emulator meanwhile
		const licensesAfterKill = cluster.licenses().length;
		cluster.setFaults([]);

		const restartedAt = Date.now();
		const successor = await cluster.spawnWorker('process');
		await cluster.waitForDrain(150000);
		const recoverySeconds = (Date.now() - restartedAt) / 1000;
		// A duplicate delivery of everything afterwards changes nothing either.
		await cluster.deliver(events);
		await cluster.waitForDrain();

		const adopted = successor.logLines().filter((line) => Array.isArray(line.actions) && (line.actions as string[]).includes('adopted')).length;
		console.log(`SIGKILL mid-create: ${inFlight.length} seat(s) creating at the kill, jobs ${JSON.stringify(countsAtKill)}, ${licensesAfterKill} licenses right after it; the new process adopted ${adopted} license(s), drained ${recoverySeconds} s after its start`);
		expect(countsAtKill.active).toBeGreaterThan(0);
		expect(adopted).toBeGreaterThanOrEqual(1);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), lifecycles.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);

		await successor.kill('SIGTERM');
		expect(successor.exitCode).toBe(0);
	}, 240000);

	test('two processes on one queue, every subscription event delivered ×3 at once (root-lock contention), one stopped with SIGTERM mid-run', async () => {
		cluster = await Cluster.start({ label: 'two', env: { WORKER_CONCURRENCY: '12' } });
		const world = new StripeWorld(SEED + 1, cluster.tiers, cluster.graceSeconds);
		const lifecycles = Array.from({ length: 12 }, () => world.subscriptionLifecycle({ renewals: 3 }));
		lifecycles.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('ingest');
		const first = await cluster.spawnWorker('process');
		const second = await cluster.spawnWorker('process');
		cluster.setFaults([{ endpoint: '*', kind: 'latency', latency_ms: 40, rate: 1 }]);
		const events = lifecycles.flatMap((lifecycle) => lifecycle.events);

		const delivering = cluster.deliver(world.rng.shuffle([...events, ...events, ...events]), { concurrency: 24 });
		// Stop the first process gracefully while jobs are active: it finishes them and exits 0.
		const deadline = Date.now() + 30000;
		while ((await cluster.jobCounts()).active === 0) {
			if (Date.now() > deadline) throw new Error('no job ever active');
			await sleep(10);
		}
		const stopAsked = Date.now();
		await first.kill('SIGTERM', 30000);
		const stopSeconds = (Date.now() - stopAsked) / 1000;
		if (first.exitCode !== 0) console.log(`first did not stop within 30 s (${first.exitCode ?? first.exitSignal}):\n${first.text().slice(-6000)}`);
		await delivering;
		await cluster.waitForDrain(120000);

		const converged = (worker: typeof first) => worker.logLines().filter((line) => line.msg === 'license converged').length;
		console.log(`two processes: first (SIGTERM, exit ${first.exitCode} after ${stopSeconds} s) converged ${converged(first)} seat(s), second ${converged(second)}`);
		expect(first.exitCode).toBe(0);
		expect(converged(second)).toBeGreaterThan(0);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), lifecycles.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);
	}, 180000);

	test('a purchase whose job is cut off twice (two processes SIGKILLed in turn while holding it) still gets its one license', async () => {
		cluster = await Cluster.start({ label: 'kill2' });
		const world = new StripeWorld(SEED + 2, cluster.tiers, cluster.graceSeconds);
		const purchase = world.oneOffPurchase({ refund: false, dispute: false, asyncPayment: false, quantity: 1 });
		cluster.addLineItems(purchase.lineItems);
		// A slow Stripe API: the job sits in its line-items fetch, before it wrote anything, when the process dies.
		cluster.setStripeApiDelay(5000);
		await cluster.spawnWorker('ingest');
		await cluster.deliver(purchase.events);
		const killWhileFetching = async (name: string) => {
			const callsBefore = cluster.stripeApiCalls;
			const victim = await cluster.spawnWorker('process');
			const deadline = Date.now() + 120000;
			while (cluster.stripeApiCalls === callsBefore) {
				if (Date.now() > deadline) throw new Error(`${name} never took the job: ${JSON.stringify(await cluster.jobCounts())}`);
				await sleep(50);
			}
			await victim.kill('SIGKILL');
		};
		await killWhileFetching('first process');
		await killWhileFetching('second process'); // picks the job up once it is found stalled (BullMQ: ~30-60 s)
		cluster.setStripeApiDelay(0);
		await cluster.spawnWorker('process');
		await cluster.waitForDrain(150000);

		const failed = await cluster.failedJobs();
		console.log(`killed twice: dead letters ${JSON.stringify(failed)}, licenses ${cluster.licenses().length}`);
		expect(failed).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), [purchase.expected]);
		expect(summary.problems).toEqual([]);
	}, 300000);
});
