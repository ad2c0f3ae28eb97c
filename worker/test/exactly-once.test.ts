// Exactly once, end to end: real worker processes (node dist/cli.js), real Redis, the Keycrate emulator and
// the Stripe fake over HTTP. Stories play on the fake in phases; after each phase its events are delivered
// signed, ×3 in a seeded shuffled order. Every scenario ends by comparing the emulator's licenses with what the
// stories must leave: one license per seat, its expiry (whole seconds), status, tier and linkage.

import type Stripe from 'stripe';
import { checkLicenses } from './support/cluster-check.js';
import { Cluster } from './support/cluster-harness.js';
import { ENTITLEMENT_STORIES, playPhase, StoryBook, type Story } from './support/cluster-stripe.js';

const SEED = Number(process.env.EXACTLY_ONCE_SEED ?? 4104);

async function playAll(cluster: Cluster, stories: Story[], seed: number, copies = 3): Promise<void> {
	for (let phase = 0; playPhase(stories, phase) > 0; phase++) {
		const stats = await cluster.deliver({ copies, seed: seed + phase });
		expect(stats.accepted).toBe(stats.deliveries);
	}
	await cluster.waitForDrain();
}

describe('exactly once (worker processes, shared Redis with a unique prefix, emulator, Stripe fake)', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	test('every outcome, each event ×3 shuffled: one license per seat with the right status, expiry and tier; every license handed off once', async () => {
		cluster = await Cluster.start({ label: 'stories', handoff: { failRate: 0.1 } });
		const book = new StoryBook(cluster.stripe, SEED, cluster.tiers, cluster.graceSeconds);
		const stories = [
			book.oneOff({ outcome: 'keep' }),
			book.oneOff({ outcome: 'keep', lifetime: true, quantity: 2 }),
			book.oneOff({ outcome: 'refund' }),
			book.oneOff({ outcome: 'dispute_lost' }),
			book.oneOff({ outcome: 'dispute_won' }),
			book.oneOff({ outcome: 'keep', async: true }),
			book.subscription({ end: 'active', renewals: 2 }),
			book.subscription({ end: 'active', quantity: 2, addSeat: true, changeTier: true, checkout: true }),
			book.subscription({ end: 'cancel', renewals: 1 }),
			book.subscription({ end: 'pause' }),
			book.subscription({ end: 'pause_resume' }),
			book.subscription({ end: 'refund', renewals: 1 }),
		];
		await cluster.spawnWorker('all');
		await playAll(cluster, stories, SEED);
		expect(await cluster.failedJobs()).toEqual([]);
		expect(await cluster.failedHandoffs()).toEqual([]);
		const result = checkLicenses(
			cluster.licenses(),
			stories.map((story) => story.expected()),
		);
		expect(result.problems).toEqual([]);
		expect(result.licenses).toBe(result.seats);
		const receiver = cluster.handoffReceiver as NonNullable<typeof cluster.handoffReceiver>;
		const keys = receiver.idempotencyKeysPerLicense();
		expect(keys.size).toBe(result.licenses);
		expect([...keys.values()].every((count) => count === 1)).toBe(true);

		// Stripe may redeliver anything later: every event again changes nothing on Keycrate.
		const snapshot = () => JSON.stringify(cluster.licenses().map((l) => [l.license_key, l.expires_at, l.status, l.subscription_id]));
		const before = snapshot();
		const callsBefore = cluster.calls();
		await cluster.deliver({ events: cluster.stripe.events(), copies: 2, seed: SEED + 99 });
		await cluster.waitForDrain();
		expect(snapshot()).toBe(before);
		const callsAfter = cluster.calls();
		for (const endpoint of ['/license/create', '/license/extend', '/license/update-status', '/license/update-subscription', '/license/delete']) {
			expect([endpoint, callsAfter[endpoint]]).toEqual([endpoint, callsBefore[endpoint]]);
		}
	});

	test('licenses follow what was paid: every entitlement story, each event ×3 shuffled, ends as the story says; nothing is created or handed off for what nobody paid for', async () => {
		cluster = await Cluster.start({ label: 'entitlement', handoff: { failRate: 0.1 } });
		const book = new StoryBook(cluster.stripe, SEED + 3, cluster.tiers, cluster.graceSeconds);
		const stories = ENTITLEMENT_STORIES.map((kind) => book.entitlement(kind));
		await cluster.spawnWorker('all');
		await playAll(cluster, stories, SEED + 3);
		expect(await cluster.failedJobs()).toEqual([]);
		expect(await cluster.failedHandoffs()).toEqual([]);
		const expected = stories.map((story) => story.expected());
		const result = checkLicenses(cluster.licenses(), expected);
		expect(result.problems).toEqual([]);
		const never = expected.filter((root) => root.seats.length === 0).map((root) => root.root);
		expect(never).toHaveLength(3);
		const licensesOf = (root: string) => cluster.licenses().filter((license) => license.metadata.keycrate_sync_root === root);
		expect(never.flatMap(licensesOf)).toEqual([]);
		// A replaced item kept the buyer's key: one license, moved to the higher tier.
		const replaced = expected.find((root) => root.story.endsWith('item_replaced_by_higher_tier'));
		expect(licensesOf(replaced?.root ?? '')).toHaveLength(1);
		const receiver = cluster.handoffReceiver as NonNullable<typeof cluster.handoffReceiver>;
		const handedOff = [...receiver.idempotencyKeysPerLicense().keys()].sort();
		expect(handedOff).toEqual(
			cluster
				.licenses()
				.map((license) => license.license_key)
				.sort(),
		);
	});

	test('a refund of a subscription invoice in the current API shape (no payment intent on the invoice, none on the charge) pauses its licenses', async () => {
		cluster = await Cluster.start({ label: 'subrefund' });
		const book = new StoryBook(cluster.stripe, SEED + 1, cluster.tiers, cluster.graceSeconds);
		const story = book.subscription({ end: 'active', renewals: 1, quantity: 2, addSeat: false, changeTier: false, checkout: false });
		await cluster.spawnWorker('all');
		await playAll(cluster, [story], SEED, 1);
		expect(checkLicenses(cluster.licenses(), [story.expected()]).problems).toEqual([]);

		const subscription = cluster.stripe.get(story.expected().root) as Stripe.Subscription;
		const invoice = cluster.stripe.get(subscription.latest_invoice as string) as Stripe.Invoice & { payment_intent?: unknown };
		expect(invoice.payment_intent).toBeUndefined();
		const payment = cluster.stripe.list('invoice_payment').find((entry) => entry.invoice === invoice.id) as Stripe.InvoicePayment;
		const paymentIntent = payment.payment.payment_intent as string;
		cluster.stripe.refund({ payment_intent: paymentIntent });
		const refundEvents = cluster.stripe.pendingEvents();
		expect(refundEvents.map((event) => event.type)).toContain('charge.refunded');
		const charge = refundEvents.find((event) => event.type === 'charge.refunded')?.data.object as Stripe.Charge & { invoice?: unknown };
		expect(charge.invoice).toBeUndefined();
		// Only the refund's own events: they name the payment intent, and the sync finds the subscription from it.
		await cluster.deliver({ copies: 1 });
		await cluster.waitForDrain();
		const licenses = cluster.licenses();
		expect(licenses).toHaveLength(2);
		expect(licenses.map((license) => license.status)).toEqual(['paused', 'paused']);
	});

	test('quantity 3 → 1 pauses the extra seats (not deleted); back to 2 activates one again', async () => {
		cluster = await Cluster.start({ label: 'quantity' });
		const book = new StoryBook(cluster.stripe, SEED + 2, cluster.tiers, cluster.graceSeconds);
		const story = book.subscription({ end: 'active', renewals: 0, quantity: 3, addSeat: false, changeTier: false, checkout: false });
		await cluster.spawnWorker('all');
		await playAll(cluster, [story], SEED, 1);
		const root = story.expected().root;
		const price = (cluster.stripe.get(root) as Stripe.Subscription).items.data[0].price.id;
		const statuses = () =>
			cluster
				.licenses()
				.sort((a, b) => String(a.metadata.keycrate_sync_seat).localeCompare(String(b.metadata.keycrate_sync_seat)))
				.map((license) => license.status);
		expect(statuses()).toEqual(['active', 'active', 'active']);

		cluster.stripe.updateSubscription(root, { items: [{ price, quantity: 1 }] });
		await cluster.deliver({ copies: 3, seed: 7 });
		await cluster.waitForDrain();
		expect(statuses()).toEqual(['active', 'paused', 'paused']);

		cluster.stripe.updateSubscription(root, { items: [{ price, quantity: 2 }] });
		await cluster.deliver({ copies: 3, seed: 8 });
		await cluster.waitForDrain();
		expect(statuses()).toEqual(['active', 'active', 'paused']);
		expect(cluster.calls()['/license/create']).toEqual({ '200': 3 });
	});
});
