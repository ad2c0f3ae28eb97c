// Seeded Stripe "stories" for the cluster tests, played on the Stripe fake (which records the events Stripe
// would send): one-off Checkout purchases (refunded, disputed, paid later) and subscriptions (renewed, seats
// added, tier changed, paused, canceled, their latest invoice refunded). Each story knows what Keycrate must
// hold in the end — written from what the story did, not from the worker's own rules — and cluster-check.ts
// compares the emulator with it.

import type Stripe from 'stripe';
import type { StripeFake } from '@keycrate/stripe-fake';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same events, order and choices. */
export class Rng {
	private state: number;

	constructor(readonly seed: number) {
		this.state = seed >>> 0;
	}

	next(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	chance(probability: number): boolean {
		return this.next() < probability;
	}

	int(minInclusive: number, maxInclusive: number): number {
		return minInclusive + Math.floor(this.next() * (maxInclusive - minInclusive + 1));
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}

	id(prefix: string, length = 24): string {
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
		let text = '';
		for (let index = 0; index < length; index++) text += alphabet[Math.floor(this.next() * alphabet.length)];
		return `${prefix}_${text}`;
	}

	shuffle<T>(items: readonly T[]): T[] {
		const copy = [...items];
		for (let index = copy.length - 1; index > 0; index--) {
			const other = Math.floor(this.next() * (index + 1));
			[copy[index], copy[other]] = [copy[other], copy[index]];
		}
		return copy;
	}
}


/** The prices of the cluster's catalogue. basic is tier-only by price metadata, pro tier-only by PLANS_FILE. */
export const PRICES = {
	basicMonthly: 'price_kcx_basic_monthly',
	proMonthly: 'price_kcx_pro_monthly',
	app30Days: 'price_kcx_app_30d',
	appLifetime: 'price_kcx_app_lifetime',
} as const;

export interface Tiers {
	basic: string;
	pro: string;
}

export function plansFileFor(tiers: Tiers): Record<string, Record<string, unknown>> {
	return {
		[PRICES.proMonthly]: { subscription_id: tiers.pro },
		[PRICES.app30Days]: { duration_unit: 'days', duration_value: 30 },
	};
}

/** Creates the catalogue in the fake (once per fake). */
export function createCatalogue(fake: StripeFake, tiers: Tiers): void {
	fake.createPrice({ id: PRICES.basicMonthly, unit_amount: 900, recurring: { interval: 'month' }, metadata: { keycrate_subscription_id: tiers.basic } });
	fake.createPrice({ id: PRICES.proMonthly, unit_amount: 1900, recurring: { interval: 'month' } });
	fake.createPrice({ id: PRICES.app30Days, unit_amount: 1500 });
	fake.createPrice({ id: PRICES.appLifetime, unit_amount: 9900, metadata: { keycrate_duration_unit: 'lifetime' } });
}

/** What the end state must be for one seat (one license) of a root. */
export interface ExpectedSeat {
	status: 'active' | 'paused';
	/** Whole seconds since the epoch; `null` = lifetime; `{ afterCreation }` = created_at + that many seconds. */
	expiry: number | null | { afterCreation: number };
	/** The Keycrate tier the license must be in (null = none). */
	tier: string | null;
}

export interface ExpectedRoot {
	/** sub_…, pi_… or cs_… */
	root: string;
	kind: 'subscription' | 'payment';
	seats: ExpectedSeat[];
	/** Metadata every license of the root must carry (linkage). */
	metadata: Record<string, string>;
	/** For reports: what happened to it. */
	story: string;
}

/** A story: `steps` run one per phase (the cluster delivers between phases), then `expected()` says the end. */
export interface Story {
	steps: (() => void)[];
	expected(): ExpectedRoot;
	/** Purchases (1) plus paid renewals, for the "≥ 1,000 purchases and renewals" figure. */
	purchasesAndRenewals(): number;
}

export class StoryBook {
	readonly rng: Rng;

	constructor(
		readonly fake: StripeFake,
		seed: number,
		readonly tiers: Tiers,
		readonly graceSeconds: number,
	) {
		this.rng = new Rng(seed);
	}

	private customer(): Stripe.Customer {
		return this.fake.createCustomer({ email: `${this.rng.id('buyer', 8).toLowerCase()}@example.com` });
	}

	/** A one-off Checkout purchase; maybe refunded, disputed (lost, or won), or paid later (async). */
	oneOff(options: { quantity?: number; outcome?: 'keep' | 'refund' | 'dispute_lost' | 'dispute_won'; async?: boolean; lifetime?: boolean } = {}): Story {
		const rng = this.rng;
		const quantity = options.quantity ?? (rng.chance(0.15) ? 2 : 1);
		const lifetime = options.lifetime ?? rng.chance(0.25);
		const outcome = options.outcome ?? rng.pick(['keep', 'keep', 'keep', 'refund', 'dispute_lost', 'dispute_won'] as const);
		const async = options.async ?? rng.chance(0.1);
		const customer = this.customer();
		const price = lifetime ? PRICES.appLifetime : PRICES.app30Days;
		let root = '';
		let sessionId = '';
		const story: string[] = [`one-off ${lifetime ? 'lifetime' : '30d'}×${quantity}`];
		const steps: (() => void)[] = [
			() => {
				const bought = this.fake.checkoutPayment({ customer: customer.id, lines: [{ price, quantity }], payment_status: async ? 'unpaid' : 'paid' });
				sessionId = bought.session.id;
				root = bought.payment_intent?.id ?? sessionId;
			},
		];
		if (async) {
			story.push('paid later');
			steps.push(() => {
				this.fake.completeAsyncPayment(sessionId);
			});
		}
		if (outcome === 'refund') steps.push(() => void this.fake.refund({ payment_intent: root }));
		if (outcome === 'dispute_lost' || outcome === 'dispute_won') {
			let disputeId = '';
			steps.push(() => {
				disputeId = this.fake.dispute({ payment_intent: root }).id;
			});
			steps.push(() => void this.fake.closeDispute(disputeId, outcome === 'dispute_lost' ? 'lost' : 'won'));
		}
		if (outcome !== 'keep') story.push(outcome);
		return {
			steps,
			purchasesAndRenewals: () => 1,
			expected: () => ({
				root,
				kind: 'payment',
				story: story.join(', '),
				metadata: { stripe_checkout_session: sessionId, stripe_customer: customer.id },
				seats: Array.from({ length: quantity }, () => ({
					status: outcome === 'refund' || outcome === 'dispute_lost' ? 'paused' : 'active',
					expiry: lifetime ? null : { afterCreation: 30 * 86400 },
					tier: null,
				})),
			}),
		};
	}

	/** A subscription; maybe renewed, a seat added, its tier changed, then canceled, paused, or its last invoice refunded. */
	subscription(
		options: { quantity?: number; renewals?: number; addSeat?: boolean; changeTier?: boolean; end?: 'active' | 'cancel' | 'pause' | 'pause_resume' | 'refund'; checkout?: boolean } = {},
	): Story {
		const rng = this.rng;
		let quantity = options.quantity ?? (rng.chance(0.2) ? 2 : 1);
		let pro = rng.chance(0.5);
		const renewals = options.renewals ?? rng.int(0, 3);
		const addSeat = options.addSeat ?? rng.chance(0.15);
		const changeTier = options.changeTier ?? rng.chance(0.15);
		const end = options.end ?? rng.pick(['active', 'active', 'active', 'cancel', 'cancel', 'pause', 'pause_resume', 'refund'] as const);
		const checkout = options.checkout ?? rng.chance(0.3);
		const customer = this.customer();
		let subscriptionId = '';
		let lastPayment = '';
		const story: string[] = [`subscription ${pro ? 'pro' : 'basic'}×${quantity}${checkout ? ' via Checkout' : ''}`];
		const price = () => (pro ? PRICES.proMonthly : PRICES.basicMonthly);
		const steps: (() => void)[] = [
			() => {
				const params = { customer: customer.id, items: [{ price: price(), quantity }] };
				const made = checkout ? this.fake.checkoutSubscription(params) : this.fake.createSubscription(params);
				subscriptionId = made.subscription.id;
				lastPayment = made.payment_intent?.id ?? '';
			},
		];
		for (let renewal = 0; renewal < renewals; renewal++) {
			steps.push(() => {
				lastPayment = this.fake.renewSubscription(subscriptionId).payment_intent?.id ?? lastPayment;
			});
		}
		if (renewals > 0) story.push(`renewed×${renewals}`);
		if (addSeat) {
			story.push('seat+1');
			steps.push(() => {
				quantity += 1;
				this.fake.updateSubscription(subscriptionId, { items: [{ price: price(), quantity }] });
			});
		}
		if (changeTier) {
			story.push('tier→');
			steps.push(() => {
				const item = (this.fake.get(subscriptionId) as Stripe.Subscription).items.data[0];
				pro = !pro;
				this.fake.updateSubscription(subscriptionId, { items: [{ id: item.id, price: price(), quantity }] });
			});
		}
		if (end === 'cancel') steps.push(() => void this.fake.cancelSubscription(subscriptionId));
		if (end === 'pause' || end === 'pause_resume') steps.push(() => void this.fake.pauseSubscription(subscriptionId));
		if (end === 'pause_resume') steps.push(() => void this.fake.resumeSubscription(subscriptionId));
		if (end === 'refund') steps.push(() => void this.fake.refund({ payment_intent: lastPayment }));
		if (end !== 'active') story.push(end === 'cancel' ? 'canceled' : end);
		return {
			steps,
			purchasesAndRenewals: () => 1 + renewals,
			expected: () => {
				const subscription = this.fake.get(subscriptionId) as Stripe.Subscription;
				const periodEnd = Math.max(...subscription.items.data.map((item) => item.current_period_end));
				const status = end === 'cancel' || end === 'pause' || end === 'refund' ? 'paused' : 'active';
				return {
					root: subscriptionId,
					kind: 'subscription',
					story: story.join(', '),
					metadata: { stripe_subscription: subscriptionId, stripe_customer: customer.id },
					seats: Array.from({ length: quantity }, () => ({ status, expiry: periodEnd + this.graceSeconds, tier: pro ? this.tiers.pro : this.tiers.basic })),
				};
			},
		};
	}
}

/** Plays every story's step `phase` (stories with fewer steps are done). Returns how many steps ran. */
export function playPhase(stories: Story[], phase: number): number {
	let ran = 0;
	for (const story of stories) {
		const step = story.steps[phase];
		if (step) {
			step();
			ran += 1;
		}
	}
	return ran;
}
