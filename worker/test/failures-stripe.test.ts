// Stripe failing under the sync: its rate limit (429) and its 500s. A 429 pauses the sync queue for every
// process without using an attempt; a 500 is retried (by the stripe package, then the job's schedule). The end
// state must be what the stories leave, with no dead letter.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster } from './support/cluster-harness.js';
import { playPhase, StoryBook } from './support/cluster-stripe.js';

describe('Stripe faults under the sync', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('Stripe rate-limits at 5 requests/s and answers 10% with 500: every story ends right, no dead letter, the queue paused on 429s', async () => {
		cluster = await Cluster.start({ label: 'stripe-faults', env: { WORKER_CONCURRENCY: '8' } });
		const book = new StoryBook(cluster.stripe, 515, cluster.tiers, cluster.graceSeconds);
		const stories = Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? book.oneOff({ async: false }) : book.subscription()));
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		await Promise.all([cluster.spawnWorker('all'), cluster.spawnWorker('process')]);
		cluster.stripe.setFaults({ rateLimitPerSecond: 5, error500Rate: 0.1 });
		await cluster.deliver({ copies: 1 });
		await cluster.waitForDrain(120000);
		cluster.stripe.setFaults({});
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// One license per seat that was ever active when synced: a paused seat never seen active holds none.
		expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
		expect(summary.licenses).toBeLessThanOrEqual(summary.seats);
		// Stripe's own 429s (no budget configured) paused the queue.
		expect(cluster.allOutput()).toMatch(/"by":"stripe","msg":"Stripe rate limit: pausing syncs"/);
	}, 150000);

	test("STRIPE_RATE_LIMIT below Stripe's limit, shared by two processes over a sliding second: Stripe never has to pause the queue, every story ends right", async () => {
		cluster = await Cluster.start({ label: 'stripe-budget', env: { WORKER_CONCURRENCY: '8', STRIPE_RATE_LIMIT: '4' } });
		const book = new StoryBook(cluster.stripe, 516, cluster.tiers, cluster.graceSeconds);
		const stories = Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? book.oneOff({ async: false }) : book.subscription()));
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		await Promise.all([cluster.spawnWorker('all'), cluster.spawnWorker('process')]);
		cluster.stripe.setFaults({ rateLimitPerSecond: 5 });
		await cluster.deliver({ copies: 1 });
		await cluster.waitForDrain(120000);
		cluster.stripe.setFaults({});
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// Only our own budget makes jobs wait; Stripe's 429 never reaches the queue.
		expect(cluster.allOutput()).not.toMatch(/"by":"stripe"/);
	}, 150000);
});
