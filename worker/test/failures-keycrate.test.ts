// Keycrate failing on EVERY endpoint the worker calls (/license/create, get, get-bulk, extend, update-status,
// update-subscription), one endpoint at a time at rate 1.0 until the fault has been seen, then cleared:
// commit_then_500 (applied, reply lost), error_500, error_429 (Retry-After) and drop_connection. The end state
// must be that of one clean delivery. Then a log scan over every process's output for secrets.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster, sleep } from './support/cluster-harness.js';
import { StripeWorld, type Lifecycle, type StripeEventEnvelope } from './support/cluster-stripe.js';

const SEED = Number(process.env.FAILURES_SEED ?? 977);

type FaultKind = 'commit_then_500' | 'error_500' | 'error_429' | 'drop_connection';
const FAULT_OUTCOME: Record<FaultKind, string> = { commit_then_500: '500', error_500: '500', error_429: '429', drop_connection: 'dropped' };

function firstEvents(lifecycle: Lifecycle, count: number): StripeEventEnvelope[] {
	return lifecycle.events.slice(0, count);
}

describe('Keycrate faults on every endpoint the worker calls', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test.each<FaultKind>(['commit_then_500', 'error_500', 'error_429', 'drop_connection'])(
		'%s at rate 1.0 on each endpoint, then cleared: one license per seat, expiry, status and tier as one clean delivery',
		async (kind) => {
			cluster = await Cluster.start({ label: `fault-${kind.replace(/_/g, '')}` });
			const world = new StripeWorld(SEED, cluster.tiers, cluster.graceSeconds);
			const plain = { startIncomplete: false, addSeatAt: null, changeTierAt: null, quantity: 1 } as const;
			const forCreate = world.oneOffPurchase({ refund: false, dispute: false, asyncPayment: false, quantity: 2 });
			const forGet = world.subscriptionLifecycle({ ...plain, renewals: 1, cancel: false, shape: 'current' });
			const forExtend = world.subscriptionLifecycle({ ...plain, renewals: 1, cancel: false, shape: 'legacy' });
			const forStatus = world.subscriptionLifecycle({ ...plain, renewals: 1, cancel: true, shape: 'current' });
			const forTier = world.subscriptionLifecycle({ ...plain, renewals: 1, cancel: false, changeTierAt: 1, priceId: 'price_kcx_basic_monthly', shape: 'legacy' });
			const forSearch = world.oneOffPurchase({ refund: true, dispute: false, asyncPayment: false, quantity: 1 });
			const all = [forCreate, forGet, forExtend, forStatus, forTier, forSearch];
			all.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
			await cluster.spawnWorker('all');

			// Baselines without faults: the subscriptions exist with their first period.
			const deleted = forStatus.events.find((event) => event.type === 'customer.subscription.deleted') as StripeEventEnvelope;
			await cluster.deliver([
				...firstEvents(forGet, 3),
				...firstEvents(forExtend, 3),
				...forStatus.events.filter((event) => event !== deleted),
				...firstEvents(forTier, 3),
			]);
			await cluster.waitForDrain();
			expect(cluster.licenses()).toHaveLength(4);

			const steps: { endpoint: string; events: StripeEventEnvelope[]; alsoCommitCreate?: boolean }[] = [
				{ endpoint: '/license/create', events: forCreate.events },
				{ endpoint: '/license/get', events: forGet.events.slice(3) },
				{ endpoint: '/license/extend', events: forExtend.events.slice(3) },
				{ endpoint: '/license/update-status', events: [deleted] },
				{ endpoint: '/license/update-subscription', events: forTier.events.slice(3) },
				// get-bulk is only asked after a create whose reply was lost: lose every create reply meanwhile.
				{ endpoint: '/license/get-bulk', events: forSearch.events, alsoCommitCreate: true },
			];
			const seen: Record<string, number> = {};
			for (const step of steps) {
				const outcome = FAULT_OUTCOME[kind];
				const before = cluster.calls()[step.endpoint]?.[outcome] ?? 0;
				cluster.setFaults([
					...(step.alsoCommitCreate ? [{ endpoint: '/license/create', kind: 'commit_then_500' as const, rate: 1 }] : []),
					{ endpoint: step.endpoint, kind, rate: 1, ...(kind === 'error_429' ? { retry_after_s: 1 } : {}) },
				]);
				await cluster.deliver(step.events);
				const deadline = Date.now() + 30000;
				// One faulted call is all a non-idempotent call may get under commit_then_500: the retry reads first.
				while ((cluster.calls()[step.endpoint]?.[outcome] ?? 0) - before < 1) {
					if (Date.now() > deadline) throw new Error(`${kind} on ${step.endpoint} was never hit: ${JSON.stringify(cluster.calls())}\n${cluster.tailOfLogs(3000)}`);
					await sleep(50);
				}
				await sleep(300);
				seen[step.endpoint] = (cluster.calls()[step.endpoint]?.[outcome] ?? 0) - before;
				cluster.setFaults([]);
				await cluster.waitForDrain(90000);
			}
			console.log(`${kind}: faulted calls per endpoint while the fault was on ${JSON.stringify(seen)}; all calls ${JSON.stringify(cluster.calls())}`);

			expect(await cluster.failedJobs()).toEqual([]);
			const summary = checkLicenses(cluster.licenses(), all.map((lifecycle) => lifecycle.expected));
			expect(summary.problems).toEqual([]);
			expect(summary.licenses).toBe(7);
			if (process.env.DEBUG_CLUSTER) console.log(cluster.workers.flatMap((w) => w.logLines()).filter((l) => l.root !== undefined || l.err !== undefined).map((l) => JSON.stringify({ e: l.eventId, t: l.eventType, r: l.root, s: l.seat, a: l.actions, m: l.msg, err: (l.err as { message?: string } | undefined)?.message })).join('\n'));
			if (kind === 'commit_then_500') {
				// Every create call made exactly one license (each reply lost was adopted by its tag, never re-sent).
				const creates = cluster.calls()['/license/create'];
				expect((creates['200'] ?? 0) + (creates['500'] ?? 0)).toBe(7);
				expect(creates['500']).toBeGreaterThanOrEqual(3);
				expect(cluster.countSeatActions('adopted')).toBeGreaterThanOrEqual(1);
			}
		},
		180000,
	);

	test('partial rates on every endpoint at once (20% error_429, 10% commit_then_500, 10% error_500, 5% drop_connection), 40 lifecycles ×3 shuffled: one clean delivery', async () => {
		cluster = await Cluster.start({ label: 'fault-mix', env: { WORKER_CONCURRENCY: '16' } });
		const world = new StripeWorld(SEED + 1, cluster.tiers, cluster.graceSeconds);
		const lifecycles = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? world.oneOffPurchase() : world.subscriptionLifecycle()));
		lifecycles.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('all');
		cluster.setFaults([
			{ endpoint: '*', kind: 'error_429', rate: 0.2, retry_after_s: 1 },
			{ endpoint: '*', kind: 'commit_then_500', rate: 0.1 },
			{ endpoint: '*', kind: 'error_500', rate: 0.1 },
			{ endpoint: '*', kind: 'drop_connection', rate: 0.05 },
		]);
		const events = lifecycles.flatMap((lifecycle) => lifecycle.events);
		await cluster.deliver(world.rng.shuffle([...events, ...events, ...events]));
		await cluster.waitForDrain(150000);
		const calls = cluster.calls();
		console.log(`partial rates: ${events.length} events, Keycrate calls ${JSON.stringify(calls)}`);
		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), lifecycles.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);
		for (const endpoint of ['/license/create', '/license/get', '/license/extend']) {
			expect({ endpoint, faulted: Object.keys(calls[endpoint] ?? {}).some((status) => status !== '200') }).toEqual({ endpoint, faulted: true });
		}
	}, 180000);

	// Keycrate slower than KEYCRATE_TIMEOUT_MS: the worker gives up on the call (no answer), Keycrate commits it
	// later. The retry must not create or extend a second time.
	test.each([
		['/license/create', 'a one-off purchase'],
		['/license/extend', 'a subscription renewal'],
	])('%s answered after the client timed out (commits late): %s is applied once', async (endpoint) => {
		cluster = await Cluster.start({ label: 'late', env: { KEYCRATE_TIMEOUT_MS: '1000' } });
		const world = new StripeWorld(SEED + 2, cluster.tiers, cluster.graceSeconds);
		const lifecycle =
			endpoint === '/license/create'
				? world.oneOffPurchase({ refund: false, dispute: false, asyncPayment: false, quantity: 1 })
				: world.subscriptionLifecycle({ renewals: 1, cancel: false, addSeatAt: null, changeTierAt: null, startIncomplete: false, quantity: 1 });
		cluster.addLineItems(lifecycle.lineItems);
		await cluster.spawnWorker('all');
		const baseline = endpoint === '/license/create' ? [] : lifecycle.events.slice(0, 3);
		await cluster.deliver(baseline);
		await cluster.waitForDrain();
		cluster.setFaults([{ endpoint, kind: 'latency', latency_ms: 3000, rate: 1 }]);
		await cluster.deliver(lifecycle.events.slice(baseline.length));
		const deadline = Date.now() + 30000;
		while (!/event processing failed[^\n]*|"NETWORK_ERROR"/.test(cluster.allOutput())) {
			if (Date.now() > deadline) throw new Error(`the call never timed out\n${cluster.tailOfLogs(2000)}`);
			await sleep(50);
		}
		cluster.setFaults([]);
		await cluster.waitForDrain(60000);
		await sleep(3500); // anything still sleeping in the emulator has committed by now
		const summary = checkLicenses(cluster.licenses(), [lifecycle.expected]);
		console.log(`late commit on ${endpoint}: calls ${JSON.stringify(cluster.calls()[endpoint])}, ${summary.licenses} license(s)`);
		expect(await cluster.failedJobs()).toEqual([]);
		expect(summary.problems).toEqual([]);
	}, 120000);

	test('a status write that went unanswered, re-sent successfully, then landed late does not overwrite a newer status', async () => {
		cluster = await Cluster.start({ label: 'late-status' }); // KEYCRATE_TIMEOUT_MS 2000 (harness default)
		const world = new StripeWorld(SEED + 3, cluster.tiers, cluster.graceSeconds);
		const lifecycle = world.subscriptionLifecycle({ renewals: 1, cancel: false, addSeatAt: null, changeTierAt: null, startIncomplete: false, quantity: 1, shape: 'current' });
		cluster.addLineItems(lifecycle.lineItems);
		await cluster.spawnWorker('all');
		await cluster.deliver(lifecycle.events);
		await cluster.waitForDrain();
		const latest = lifecycle.events.filter((event) => event.type === 'customer.subscription.updated').at(-1) as StripeEventEnvelope;
		const snapshot = (status: string) => ({ ...latest.data.object, status });
		const paused = world.envelope('customer.subscription.paused', latest.created + 100, snapshot('paused'), 'current');
		const resumed = world.envelope('customer.subscription.resumed', latest.created + 200, snapshot('active'), 'current');

		// The pause request takes 3.7 s on Keycrate: the client times out at 2 s, re-sends at 3 s (answered at once),
		// and the first request lands at 3.7 s, after the re-sent one.
		cluster.setFaults([{ endpoint: '/license/update-status', kind: 'latency', latency_ms: 3700, rate: 1 }]);
		await cluster.deliver([paused]);
		await sleep(2400);
		cluster.setFaults([]);
		await cluster.waitForDrain();
		await cluster.deliver([resumed]);
		await cluster.waitForDrain();
		await sleep(2000); // every late request has landed by now
		console.log(`late status: update-status calls ${JSON.stringify(cluster.calls()['/license/update-status'])}, status ${cluster.licenses().map((license) => license.status)}`);
		expect(cluster.calls()['/license/update-status']?.['200']).toBeGreaterThanOrEqual(3);
		const summary = checkLicenses(cluster.licenses(), [lifecycle.expected]);
		expect(summary.problems).toEqual([]);
	}, 120000);
});
