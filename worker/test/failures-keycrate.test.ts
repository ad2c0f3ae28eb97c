// Keycrate failing on every endpoint the worker calls: each fault kind at rate 1.0 on all endpoints until it has
// been hit, then cleared (commit_then_500: applied, reply lost; error_500; error_429 with Retry-After;
// drop_connection); all kinds at partial rates at once; and writes that time out on our side but commit on
// Keycrate later (create, extend, status). The end state must be what the stories leave, with no dead letter.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { waitFor } from './support/wait.js';
import { playPhase, StoryBook, type Story } from './support/cluster-stripe.js';

const SEED = Number(process.env.FAILURES_SEED ?? 977);

type FaultKind = 'commit_then_500' | 'error_500' | 'error_429' | 'drop_connection';
const FAULT_OUTCOME: Record<FaultKind, string> = { commit_then_500: '500', error_500: '500', error_429: '429', drop_connection: 'dropped' };

const WRITES = ['/license/create', '/license/extend', '/license/update-status', '/license/update-subscription', '/license/update-metadata', '/license/delete'];

function faulted(cluster: Cluster, outcome: string): number {
	return Object.values(cluster.calls()).reduce((sum, outcomes) => sum + (outcomes[outcome] ?? 0), 0);
}

describe('Keycrate faults on every endpoint the worker calls', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test.each<FaultKind>(['commit_then_500', 'error_500', 'error_429', 'drop_connection'])(
		'%s at rate 1.0 on every endpoint in every phase until hit, then cleared: the stories end as they must',
		async (kind) => {
			cluster = await Cluster.start({ label: `fault-${kind.replace(/_/g, '')}` });
			const book = new StoryBook(cluster.stripe, SEED, cluster.tiers, cluster.graceSeconds);
			const stories: Story[] = [
				book.oneOff({ outcome: 'keep', quantity: 2 }),
				book.oneOff({ outcome: 'refund' }),
				book.subscription({ end: 'active', renewals: 2, changeTier: true, addSeat: true }),
				book.subscription({ end: 'cancel', renewals: 1 }),
				book.subscription({ end: 'pause_resume', renewals: 1 }),
			];
			await cluster.spawnWorker('all');
			const outcome = FAULT_OUTCOME[kind];
			for (let phase = 0; playPhase(stories, phase) > 0; phase++) {
				const before = faulted(cluster, outcome);
				// A 500 on every read would stop each sync before it writes: the 500 kinds hit the writes, the others all calls.
				const endpoints = kind === 'commit_then_500' || kind === 'error_500' ? WRITES : ['*'];
				cluster.setFaults(endpoints.map((endpoint) => ({ endpoint, kind, rate: 1, ...(kind === 'error_429' ? { retry_after_s: 1 } : {}) })));
				await cluster.deliver({ copies: 2, seed: SEED + phase });
				await waitFor(() => faulted(cluster, outcome) - before >= 2, { what: `${kind} to be hit in phase ${phase}`, timeoutMs: 30000, intervalMs: 25 });
				cluster.setFaults([]);
				await cluster.waitForDrain(90000);
			}
			expect(await cluster.failedJobs()).toEqual([]);
			const summary = checkLicenses(
				cluster.licenses(),
				stories.map((story) => story.expected()),
			);
			expect(summary.problems).toEqual([]);
			// One license per seat that was ever active when synced: a paused seat never seen active holds none.
			expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
			expect(summary.licenses).toBeLessThanOrEqual(summary.seats);
			if (kind === 'commit_then_500') {
				// Every create call made exactly one license: a create answered 500 was found by its tag, never re-sent blindly.
				const creates = cluster.calls()['/license/create'];
				expect((creates['200'] ?? 0) + (creates['500'] ?? 0)).toBe(summary.licenses);
				expect(cluster.countActions('adopted')).toBeGreaterThanOrEqual(1);
			}
		},
		180000,
	);

	test('partial rates on every endpoint at once (20% error_429, 10% commit_then_500, 10% error_500, 5% drop_connection), 30 stories ×3 shuffled', async () => {
		cluster = await Cluster.start({ label: 'fault-mix', env: { WORKER_CONCURRENCY: '16' } });
		const book = new StoryBook(cluster.stripe, SEED + 1, cluster.tiers, cluster.graceSeconds);
		const stories = Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? book.oneOff() : book.subscription()));
		await cluster.spawnWorker('all');
		cluster.setFaults([
			{ endpoint: '*', kind: 'error_429', rate: 0.2, retry_after_s: 1 },
			{ endpoint: '*', kind: 'commit_then_500', rate: 0.1 },
			{ endpoint: '*', kind: 'error_500', rate: 0.1 },
			{ endpoint: '*', kind: 'drop_connection', rate: 0.05 },
		]);
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) await cluster.deliver({ copies: 3, seed: SEED + phase });
		await cluster.waitForDrain(150000);
		console.log(`partial rates: ${cluster.stripe.events().length} events, Keycrate calls ${JSON.stringify(cluster.calls())}`);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(summary.problems).toEqual([]);
		// One license per seat that was ever active when synced: a paused seat never seen active holds none.
		expect(summary.licenses).toBeGreaterThanOrEqual(summary.activeSeats);
		expect(summary.licenses).toBeLessThanOrEqual(summary.seats);
	}, 180000);

	test('create, extend and status writes that time out here but commit on Keycrate later: one license, exact expiry, the newest status', async () => {
		// KEYCRATE_TIMEOUT_MS 2000 (harness): a write that takes 3 s is given up at 2 s and lands at 3 s.
		cluster = await Cluster.start({ label: 'late-commit' });
		const book = new StoryBook(cluster.stripe, SEED + 3, cluster.tiers, cluster.graceSeconds);
		const oneOff = book.oneOff({ outcome: 'keep', quantity: 1, async: false });
		const subscription = book.subscription({ end: 'active', renewals: 1, addSeat: false, changeTier: false, checkout: false });
		await cluster.spawnWorker('all');

		// The purchase's create lands late.
		cluster.setFaults([{ endpoint: '/license/create', kind: 'latency', latency_ms: 3000, rate: 1 }]);
		playPhase([oneOff, subscription], 0);
		await cluster.deliver();
		await waitFor(() => (cluster.calls()['/license/create']?.['200'] ?? 0) >= 2, { what: 'the late creates to land', timeoutMs: 30000, intervalMs: 25 });
		cluster.setFaults([]);
		await cluster.waitForDrain(60000);
		expect(cluster.allOutput()).toContain('may still apply; the root is read again in 4 s');

		// The renewal's extend lands late.
		const extendsBefore = cluster.calls()['/license/extend']?.['200'] ?? 0;
		cluster.setFaults([{ endpoint: '/license/extend', kind: 'latency', latency_ms: 3000, rate: 1 }]);
		playPhase([oneOff, subscription], 1);
		await cluster.deliver();
		await waitFor(() => (cluster.calls()['/license/extend']?.['200'] ?? 0) > extendsBefore, {
			what: 'the late extend to land',
			timeoutMs: 30000,
			intervalMs: 25,
		});
		cluster.setFaults([]);
		await cluster.waitForDrain(60000);

		// A pause that lands late, then a resume: the resume must win.
		const root = subscription.expected().root;
		cluster.setFaults([{ endpoint: '/license/update-status', kind: 'latency', latency_ms: 3000, rate: 1 }]);
		cluster.stripe.pauseSubscription(root);
		await cluster.deliver();
		await waitFor(() => (cluster.calls()['/license/update-status']?.['200'] ?? 0) >= 1, { what: 'the late pause to land', timeoutMs: 30000, intervalMs: 25 });
		cluster.setFaults([]);
		cluster.stripe.resumeSubscription(root);
		await cluster.deliver();
		await cluster.waitForDrain(60000);
		await sleep(3500); // any request still in flight on the emulator has landed by now

		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), [oneOff.expected(), subscription.expected()]);
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(2);
	}, 120000);
});
