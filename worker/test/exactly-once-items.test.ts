// Subscriptions of several items and the disputes of their invoices, end to end (worker process, emulator,
// Stripe fake): one item's quantity never moves another item's licenses, and a dispute of a subscription
// invoice in the current API shape (found from the payment intent through invoice payments) pauses it; a
// dispute won makes it active again.

import type Stripe from 'stripe';
import { Cluster } from './support/cluster-harness.js';
import { PRICES } from './support/cluster-stripe.js';

describe('subscriptions of several items; disputes of subscription invoices', () => {
	let cluster: Cluster;

	afterEach(async () => {
		const secrets = cluster?.secretsInLogs() ?? [];
		await cluster?.stop();
		expect(secrets).toEqual([]);
	});

	/** license status and tier per seat, sorted by seat (`<si_…>:<n>`). */
	function seats(): [string, string, string | null][] {
		return cluster
			.licenses()
			.map((license): [string, string, string | null] => [String(license.metadata.keycrate_sync_seat), license.status, license.subscription_id])
			.sort(([a], [b]) => a.localeCompare(b));
	}

	test('basic ×2 + pro ×1, then basic down to 1: the pro license keeps its tier and stays active; basic seat 1 is paused', async () => {
		cluster = await Cluster.start({ label: 'items' });
		await cluster.spawnWorker('all');
		const customer = cluster.stripe.createCustomer({ email: 'two-items@example.com' });
		const made = cluster.stripe.createSubscription({
			customer: customer.id,
			items: [
				{ price: PRICES.basicMonthly, quantity: 2 },
				{ price: PRICES.proMonthly, quantity: 1 },
			],
		});
		await cluster.deliver({ copies: 3, seed: 1 });
		await cluster.waitForDrain();
		const [basic, pro] = made.subscription.items.data.map((item) => item.id);
		const { basic: basicTier, pro: proTier } = cluster.tiers;
		expect(seats()).toEqual(
			[
				[`${basic}:0`, 'active', basicTier],
				[`${basic}:1`, 'active', basicTier],
				[`${pro}:0`, 'active', proTier],
			].sort(([a], [b]) => String(a).localeCompare(String(b))),
		);
		const proKey = cluster.licenses().find((license) => license.metadata.keycrate_sync_seat === `${pro}:0`)?.license_key;

		cluster.stripe.updateSubscription(made.subscription.id, { items: [{ id: basic, quantity: 1 }] });
		await cluster.deliver({ copies: 3, seed: 2 });
		await cluster.waitForDrain();
		expect(seats()).toEqual(
			[
				[`${basic}:0`, 'active', basicTier],
				[`${basic}:1`, 'paused', basicTier],
				[`${pro}:0`, 'active', proTier],
			].sort(([a], [b]) => String(a).localeCompare(String(b))),
		);
		expect(cluster.licenses().find((license) => license.metadata.keycrate_sync_seat === `${pro}:0`)?.license_key).toBe(proKey);
		expect(cluster.calls()['/license/update-subscription']).toBeUndefined();
	});

	test('a dispute of a subscription invoice pauses its licenses; the dispute won makes them active again', async () => {
		cluster = await Cluster.start({ label: 'subdispute' });
		await cluster.spawnWorker('all');
		const customer = cluster.stripe.createCustomer({ email: 'dispute@example.com' });
		const made = cluster.stripe.createSubscription({ customer: customer.id, items: [{ price: PRICES.basicMonthly, quantity: 1 }] });
		await cluster.deliver();
		await cluster.waitForDrain();
		expect(cluster.licenses().map((license) => license.status)).toEqual(['active']);

		const invoice = cluster.stripe.get(made.subscription.latest_invoice as string) as Stripe.Invoice & { payment_intent?: unknown };
		expect(invoice.payment_intent).toBeUndefined();
		const dispute = cluster.stripe.dispute({ payment_intent: made.payment_intent?.id as string });
		// Only the dispute's own events, which name the payment intent, not the subscription.
		expect(cluster.stripe.pendingEvents().map((event) => event.type)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
		await cluster.deliver({ copies: 2, seed: 3 });
		await cluster.waitForDrain();
		expect(cluster.licenses().map((license) => license.status)).toEqual(['paused']);

		cluster.stripe.closeDispute(dispute.id, 'won');
		await cluster.deliver({ copies: 2, seed: 4 });
		await cluster.waitForDrain();
		expect(cluster.licenses().map((license) => license.status)).toEqual(['active']);
	});
});
