// Worker processes dying, stopping and competing: SIGKILL while Keycrate creates are in flight (committed, reply
// never read), a job cut off twice, two processes on one queue with one stopped by SIGTERM mid-run, a SIGTERM
// that does not wait for a slow job longer than SHUTDOWN_TIMEOUT_MS, and a purchase of a million seats.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { waitFor } from './support/wait.js';
import { PRICES, playPhase, StoryBook, type Story } from './support/cluster-stripe.js';

const SEED = Number(process.env.PROCESSES_SEED ?? 31337);

function storiesFor(book: StoryBook, count: number): Story[] {
	return Array.from({ length: count }, (_, index) => (index % 2 === 0 ? book.oneOff({ async: false }) : book.subscription()));
}

async function playAll(cluster: Cluster, stories: Story[], fromPhase = 0): Promise<void> {
	for (let phase = fromPhase; playPhase(stories, phase) > 0; phase++) await cluster.deliver({ copies: 1, seed: SEED + phase });
}

describe('worker processes killed, stopped, competing', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('SIGKILL while creates are in flight, then a new process: the committed licenses are found by their tags, none duplicated', async () => {
		cluster = await Cluster.start({ label: 'kill', env: { WORKER_CONCURRENCY: '4' } });
		const stories = storiesFor(new StoryBook(cluster.stripe, SEED, cluster.tiers, cluster.graceSeconds), 12);
		await cluster.spawnWorker('ingest');
		const victim = await cluster.spawnWorker('process');
		// Slow creates: the emulator commits a create 1.5 s after it arrived, whether or not anyone still listens.
		cluster.setFaults([{ endpoint: '/license/create', kind: 'latency', latency_ms: 1500, rate: 1 }]);
		playPhase(stories, 0);
		await cluster.deliver();
		await waitFor(async () => (await cluster.jobCounts()).active >= 2, { what: 'syncs to be active', timeoutMs: 30000, intervalMs: 20 });
		await sleep(600);
		await victim.kill('SIGKILL');
		expect(victim.exitSignal).toBe('SIGKILL');
		await sleep(1500); // the creates the dead process sent commit now
		const committedBeforeRestart = cluster.calls()['/license/create']?.['200'] ?? 0;
		cluster.setFaults([]);
		await cluster.spawnWorker('process');
		await playAll(cluster, stories, 1);
		await cluster.waitForDrain(60000);
		expect(committedBeforeRestart).toBeGreaterThan(0);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// One license per seat that was ever active when synced: a paused seat never seen active holds none.
		expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
		expect(summary.licenses).toBeLessThanOrEqual(summary.seats);
	}, 120000);

	test('a purchase whose job is cut off twice (two processes SIGKILLed in turn while running it) still gets its one license', async () => {
		cluster = await Cluster.start({ label: 'twice' });
		const story = new StoryBook(cluster.stripe, SEED + 1, cluster.tiers, cluster.graceSeconds).oneOff({ outcome: 'keep', quantity: 1, async: false });
		await cluster.spawnWorker('ingest');
		cluster.setFaults([{ endpoint: '/license/get-bulk', kind: 'latency', latency_ms: 4000, rate: 1 }]);
		let worker = await cluster.spawnWorker('process');
		playPhase([story], 0);
		await cluster.deliver();
		for (let cut = 0; cut < 2; cut++) {
			await waitFor(async () => (await cluster.jobCounts()).active === 1, { what: `the job to be active (cut ${cut + 1})`, timeoutMs: 30000, intervalMs: 20 });
			await sleep(300);
			await worker.kill('SIGKILL');
			worker = await cluster.spawnWorker('process');
		}
		cluster.setFaults([]);
		await cluster.waitForDrain(60000);
		expect(await cluster.failedJobs()).toEqual([]);
		expect(checkLicenses(cluster.licenses(), [story.expected()]).problems).toEqual([]);
	}, 120000);

	test('two processes on one queue, every event ×3, one stopped with SIGTERM mid-run: it exits 0 and nothing is lost', async () => {
		cluster = await Cluster.start({ label: 'two', env: { WORKER_CONCURRENCY: '8' } });
		const stories = storiesFor(new StoryBook(cluster.stripe, SEED + 2, cluster.tiers, cluster.graceSeconds), 40);
		cluster.setFaults([{ endpoint: '*', kind: 'latency', latency_ms: 20, rate: 1 }]);
		const [first] = await Promise.all([cluster.spawnWorker('all'), cluster.spawnWorker('all')]);
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) {
			await cluster.deliver({ copies: 3, seed: SEED + phase });
			if (phase === 1) {
				const started = Date.now();
				await first.kill('SIGTERM');
				expect(first.exitCode).toBe(0);
				expect(Date.now() - started).toBeLessThan(10000);
			}
		}
		await cluster.waitForDrain(90000);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// One license per seat that was ever active when synced: a paused seat never seen active holds none.
		expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
		expect(summary.licenses).toBeLessThanOrEqual(summary.seats);
	}, 120000);

	test('SIGTERM mid-job stops within SHUTDOWN_TIMEOUT_MS (the job is left for a retry), and another process finishes it', async () => {
		cluster = await Cluster.start({ label: 'term', env: { SHUTDOWN_TIMEOUT_MS: '1000' } });
		const story = new StoryBook(cluster.stripe, SEED + 3, cluster.tiers, cluster.graceSeconds).oneOff({ outcome: 'keep', quantity: 1, async: false });
		const worker = await cluster.spawnWorker('all');
		cluster.setFaults([{ endpoint: '/license/get-bulk', kind: 'latency', latency_ms: 8000, rate: 1 }]);
		playPhase([story], 0);
		await cluster.deliver();
		await waitFor(async () => (await cluster.jobCounts()).active === 1, { what: 'the job to be active', timeoutMs: 30000, intervalMs: 20 });
		const started = Date.now();
		await worker.kill('SIGTERM');
		const stoppedInMs = Date.now() - started;
		expect(worker.exitCode).toBe(0);
		expect(stoppedInMs).toBeLessThan(5000);
		expect(worker.text()).toContain('active jobs did not finish in time: left for a retry');
		cluster.setFaults([]);
		await cluster.spawnWorker('all');
		await cluster.waitForDrain(60000);
		expect(checkLicenses(cluster.licenses(), [story.expected()]).problems).toEqual([]);
	}, 120000);

	test('a signed purchase of 1,000,000 seats creates nothing, is a dead letter that says why, and SIGTERM still stops at once', async () => {
		cluster = await Cluster.start({ label: 'million' });
		const customer = cluster.stripe.createCustomer({ email: 'bulk@example.com' });
		const bought = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: PRICES.app30Days, quantity: 1_000_000 }] });
		const worker = await cluster.spawnWorker('all');
		await cluster.deliver({ copies: 3, seed: 1 });
		await waitFor(async () => (await cluster.failedJobs()).length >= 1, {
			what: () => `the dead letter\n${worker.text().slice(-3000)}`,
			timeoutMs: 20000,
			intervalMs: 20,
		});
		// Copies that arrived while it ran are synced once more after it (one waits per root): same reason.
		const letters = await cluster.failedJobs();
		for (const letter of letters) {
			expect(letter.root).toBe(bought.payment_intent?.id);
			expect(letter.reason).toContain('asks for 1000000 licenses, more than MAX_SEATS_PER_ROOT (100): none were created');
			expect(letter.attempts).toBe(1);
		}
		expect(letters.length).toBeLessThanOrEqual(2);
		expect(cluster.calls()['/license/create']).toBeUndefined();
		const started = Date.now();
		await worker.kill('SIGTERM');
		expect(worker.exitCode).toBe(0);
		expect(Date.now() - started).toBeLessThan(3000);
	}, 60000);
});
