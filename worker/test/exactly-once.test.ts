// Exactly once, end to end: real worker processes (node dist/cli.js), real Redis, the Keycrate emulator over
// HTTP, events signed with the stripe package. Every scenario ends by comparing the emulator's licenses with
// what one clean, in-order delivery leaves: one license per seat, its expiry (whole seconds), status and tier.

import { checkLicenses } from './support/cluster-check.js';
import { Cluster } from './support/cluster-harness.js';
import { shuffledDeliveries, StripeWorld, type Lifecycle, type StripeEventEnvelope } from './support/cluster-stripe.js';

const SEED = Number(process.env.EXACTLY_ONCE_SEED ?? 4104);

function eventsOf(lifecycles: Lifecycle[]): StripeEventEnvelope[] {
	return lifecycles.flatMap((lifecycle) => lifecycle.events);
}

function eventOfType(lifecycle: Lifecycle, type: string, nth = 0): StripeEventEnvelope {
	const found = lifecycle.events.filter((event) => event.type === type)[nth];
	if (found === undefined) throw new Error(`no ${type} #${nth} in ${lifecycle.expected.story}`);
	return found;
}

describe('exactly once (worker processes, shared Redis with a unique prefix, emulator)', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('duplicates ×3 shuffled, then every event again after the completed jobs were forgotten: one license per seat, nothing re-applied', async () => {
		cluster = await Cluster.start({ label: 'dup' });
		const world = new StripeWorld(SEED, cluster.tiers, cluster.graceSeconds);
		const lifecycles = [
			...Array.from({ length: 6 }, () => world.oneOffPurchase()),
			world.oneOffPurchase({ quantity: 2, refund: false, dispute: false }),
			...Array.from({ length: 6 }, () => world.subscriptionLifecycle()),
			world.subscriptionLifecycle({ quantity: 2, addSeatAt: 1, changeTierAt: 2, renewals: 2, cancel: false }),
		];
		lifecycles.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('all');

		const deliveries = shuffledDeliveries(world.rng, eventsOf(lifecycles), 3);
		const stats = await cluster.deliver(deliveries);
		expect(stats.accepted).toBe(deliveries.length);
		await cluster.waitForDrain();
		expect(await cluster.failedJobs()).toEqual([]);
		const first = checkLicenses(cluster.licenses(), lifecycles.map((l) => l.expected));
		expect(first.problems).toEqual([]);
		expect(first.licenses).toBe(first.seats);

		// Stripe may redeliver after our job record is gone (retention, a queue wipe): processing again changes nothing.
		const before = JSON.stringify(cluster.licenses().map((l) => [l.license_key, l.expires_at, l.status, l.subscription_id]));
		const callsBefore = cluster.calls();
		expect(await cluster.forgetCompletedJobs()).toBe(eventsOf(lifecycles).length);
		await cluster.deliver(shuffledDeliveries(world.rng, eventsOf(lifecycles), 3));
		await cluster.waitForDrain();
		const after = JSON.stringify(cluster.licenses().map((l) => [l.license_key, l.expires_at, l.status, l.subscription_id]));
		expect(after).toBe(before);
		const callsAfter = cluster.calls();
		for (const endpoint of ['/license/create', '/license/extend', '/license/update-status', '/license/update-subscription']) {
			expect({ endpoint, calls: callsAfter[endpoint] }).toEqual({ endpoint, calls: callsBefore[endpoint] });
		}
	}, 180000);

	/** Delivers `events` one at a time, each processed before the next is sent, so the order is the processing order. */
	async function deliverInOrder(events: StripeEventEnvelope[]): Promise<void> {
		for (const event of events) {
			const stats = await cluster.deliver([event]);
			expect(stats.accepted).toBe(1);
			await cluster.waitForDrain(60000, 100);
		}
	}

	test('out of order: cancellation before the renewal it followed, renewal invoice.paid after deleted, renewals newest first, a whole lifecycle backwards', async () => {
		cluster = await Cluster.start({ label: 'order' });
		const world = new StripeWorld(SEED + 1, cluster.tiers, cluster.graceSeconds);
		const plain = { startIncomplete: false, addSeatAt: null, changeTierAt: null } as const;
		const cancelBeforeRenewal = world.subscriptionLifecycle({ ...plain, renewals: 1, cancel: true, shape: 'current' });
		const paidAfterDeleted = world.subscriptionLifecycle({ ...plain, renewals: 2, cancel: true, shape: 'legacy' });
		const renewalsNewestFirst = world.subscriptionLifecycle({ ...plain, renewals: 3, cancel: false, shape: 'current' });
		const backwards = world.subscriptionLifecycle({ renewals: 2, cancel: true, startIncomplete: true, addSeatAt: 1, changeTierAt: 2, shape: 'legacy' });
		const all = [cancelBeforeRenewal, paidAfterDeleted, renewalsNewestFirst, backwards];
		all.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('all');

		// 1. Created, first invoice; then the cancellation; only then the renewal that came before it.
		const [session, created, firstPaid] = ['checkout.session.completed', 'customer.subscription.created', 'invoice.paid'].map((type) => eventOfType(cancelBeforeRenewal, type));
		await deliverInOrder([
			session,
			created,
			firstPaid,
			eventOfType(cancelBeforeRenewal, 'customer.subscription.deleted'),
			eventOfType(cancelBeforeRenewal, 'invoice.paid', 1),
			eventOfType(cancelBeforeRenewal, 'customer.subscription.updated', 0),
		]);
		// 2. Everything but the last renewal's invoice.paid, then deleted, then that invoice.paid.
		const lastPaid = eventOfType(paidAfterDeleted, 'invoice.paid', 2);
		const deleted = eventOfType(paidAfterDeleted, 'customer.subscription.deleted');
		await deliverInOrder([...paidAfterDeleted.events.filter((event) => event !== lastPaid && event !== deleted), deleted, lastPaid]);
		// 3. The first purchase, then renewals from the newest to the oldest.
		const renewals = renewalsNewestFirst.events.slice(3);
		await deliverInOrder([...renewalsNewestFirst.events.slice(0, 3), ...[...renewals].reverse()]);
		// 4. A whole lifecycle from its last event to its first (seat added, tier changed, canceled).
		await deliverInOrder([...backwards.events].reverse());

		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), all.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(summary.seats);
		// The cancelled subscriptions end paused, with the expiry of the last period they paid for.
		expect(cancelBeforeRenewal.expected.seats[0].status).toBe('paused');
	}, 180000);

	test('refund before purchase, dispute before an async payment succeeded: one license each, paused; a partial refund changes nothing', async () => {
		cluster = await Cluster.start({ label: 'refund' });
		const world = new StripeWorld(SEED + 2, cluster.tiers, cluster.graceSeconds);
		const refunded = world.oneOffPurchase({ refund: true, dispute: false, asyncPayment: false, quantity: 2, priceId: undefined, shape: 'current' });
		const disputed = world.oneOffPurchase({ refund: false, dispute: true, asyncPayment: true, quantity: 1, shape: 'legacy' });
		const partiallyRefunded = world.oneOffPurchase({ refund: false, dispute: false, asyncPayment: false, quantity: 1, shape: 'current' });
		const all = [refunded, disputed, partiallyRefunded];
		all.forEach((lifecycle) => cluster.addLineItems(lifecycle.lineItems));
		await cluster.spawnWorker('all');

		await deliverInOrder([eventOfType(refunded, 'charge.refunded'), eventOfType(refunded, 'checkout.session.completed')]);
		await deliverInOrder([
			eventOfType(disputed, 'charge.dispute.created'),
			eventOfType(disputed, 'checkout.session.async_payment_succeeded'),
			eventOfType(disputed, 'checkout.session.completed'),
		]);
		const purchase = eventOfType(partiallyRefunded, 'checkout.session.completed');
		const partialCharge = { ...world.charge(String((purchase.data.object as { payment_intent: string }).payment_intent), false), amount_refunded: 500 };
		const partialRefund = world.envelope('charge.refunded', purchase.created + 60, partialCharge, 'current');
		await deliverInOrder([partialRefund, purchase]);

		expect(await cluster.failedJobs()).toEqual([]);
		const summary = checkLicenses(cluster.licenses(), all.map((lifecycle) => lifecycle.expected));
		expect(summary.problems).toEqual([]);
		expect(summary.licenses).toBe(4);
		expect(refunded.expected.seats.map((seat) => seat.status)).toEqual(['paused', 'paused']);
		expect(partiallyRefunded.expected.seats[0].status).toBe('active');
	}, 180000);
});
