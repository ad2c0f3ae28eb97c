// Seeded Stripe "stories" for the cluster tests, played on the Stripe fake (which records the events Stripe
// would send): one-off Checkout purchases (refunded, disputed, paid later) and subscriptions (renewed, seats
// added, tier changed, paused, canceled, their latest invoice refunded). Each story knows what Keycrate must
// hold in the end — written from what the story did, not from the worker's own rules — and cluster-check.ts
// compares the emulator with it.

import type Stripe from 'stripe';
import type { StripeFake } from '@keycrate/stripe-fake';

/** A line of a subscription as the fake takes it. */
interface LineInput {
	price: string;
	quantity?: number;
}

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
	/**
	 * Whole seconds since the epoch; `null` = lifetime; `{ afterCreation }` = created_at + that many seconds;
	 * `{ between }` = within these bounds (a refunded period extends a license only if a sync saw it paid first).
	 */
	expiry: number | null | { afterCreation: number } | { between: [number, number] };
	/** The Keycrate tier the license must be in (null = none). */
	tier: string | null;
}

export interface ExpectedRoot {
	/** sub_…, pi_… or cs_… */
	root: string;
	kind: 'subscription' | 'payment';
	seats: ExpectedSeat[];
	/** The expected seat by its key (`<line>:<n>`), where seats differ within a root; else `seats` in key order. */
	bySeat?: (seat: string) => ExpectedSeat | undefined;
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
		options: {
			quantity?: number;
			renewals?: number;
			addSeat?: boolean;
			changeTier?: boolean;
			end?: 'active' | 'cancel' | 'pause' | 'pause_resume' | 'refund';
			checkout?: boolean;
		} = {},
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
		/** The end of the paid period before the last payment's (what stands once that payment is refunded). */
		let endBeforeLastPayment = 0;
		const story: string[] = [`subscription ${pro ? 'pro' : 'basic'}×${quantity}${checkout ? ' via Checkout' : ''}`];
		const price = () => (pro ? PRICES.proMonthly : PRICES.basicMonthly);
		const steps: (() => void)[] = [
			() => {
				const params = { customer: customer.id, items: [{ price: price(), quantity }] };
				const made = checkout ? this.fake.checkoutSubscription(params) : this.fake.createSubscription(params);
				subscriptionId = made.subscription.id;
				lastPayment = made.payment_intent?.id ?? '';
				endBeforeLastPayment = Math.max(...made.subscription.items.data.map((item) => item.current_period_end));
			},
		];
		for (let renewal = 0; renewal < renewals; renewal++) {
			steps.push(() => {
				endBeforeLastPayment = Math.max(...(this.fake.get(subscriptionId) as Stripe.Subscription).items.data.map((item) => item.current_period_end));
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
					seats: Array.from({ length: quantity }, () => ({
						status,
						// A refunded renewal extended the license only if a sync saw it paid before the refund.
						expiry:
							end === 'refund'
								? { between: [endBeforeLastPayment + this.graceSeconds, periodEnd + this.graceSeconds] as [number, number] }
								: periodEnd + this.graceSeconds,
						tier: pro ? this.tiers.pro : this.tiers.basic,
					})),
				};
			},
		};
	}
	private periodEnd(subscriptionId: string): number {
		return Math.max(...(this.fake.get(subscriptionId) as Stripe.Subscription).items.data.map((item) => item.current_period_end));
	}

	/** The payment intent that paid an invoice (current API versions name it only on the invoice payment). */
	private paymentOf(invoiceId: string): string {
		const payment = this.fake.list('invoice_payment').find((entry) => entry.invoice === invoiceId && entry.status === 'paid');
		return (payment?.payment.payment_intent as string | undefined) ?? '';
	}

	/** One entitlement story (ENTITLEMENT_STORIES). */
	entitlement(kind: EntitlementStory): Story {
		const customer = this.customer();
		const grace = this.graceSeconds;
		const { basic, pro } = this.tiers;
		let root = '';
		let sessionId = '';
		/** The seats it must end with; filled by the steps (some know only once they ran). */
		let seats: ExpectedSeat[] = [];
		let bySeat: Record<string, ExpectedSeat> | undefined;
		let firstPayment = '';
		let firstEnd = 0;
		const subscribe = (
			items: LineInput[] = [{ price: PRICES.basicMonthly, quantity: 1 }],
			extra: { metadata?: Record<string, string>; status?: 'trialing'; trial_period_days?: number } = {},
		) => {
			const made = this.fake.createSubscription({ customer: customer.id, items, ...extra });
			root = made.subscription.id;
			firstPayment = made.payment_intent?.id ?? '';
			firstEnd = this.periodEnd(root);
			return made;
		};
		const one = (status: 'active' | 'paused', expiry: number, tier: string | null = basic): ExpectedSeat[] => [{ status, expiry: expiry + grace, tier }];
		const steps: (() => void)[] = [];
		let oneOff = false;
		switch (kind) {
			case 'chargeback_lost_on_first_invoice':
			case 'chargeback_won_on_first_invoice': {
				let dispute = '';
				steps.push(() => void subscribe());
				steps.push(() => void this.fake.renewSubscription(root));
				steps.push(() => {
					dispute = this.fake.dispute({ payment_intent: firstPayment }).id;
				});
				steps.push(() => {
					this.fake.closeDispute(dispute, kind === 'chargeback_lost_on_first_invoice' ? 'lost' : 'won');
					seats = one(kind === 'chargeback_lost_on_first_invoice' ? 'paused' : 'active', this.periodEnd(root));
				});
				break;
			}
			case 'inquiry_closed': {
				let dispute = '';
				steps.push(() => void subscribe());
				steps.push(() => void this.fake.renewSubscription(root));
				steps.push(() => {
					dispute = this.fake.dispute({ payment_intent: firstPayment, inquiry: true }).id;
				});
				steps.push(() => {
					this.fake.closeDispute(dispute, 'warning_closed');
					seats = one('active', this.periodEnd(root));
				});
				break;
			}
			case 'refund_then_draft_renewal_then_paid': {
				let draft = '';
				steps.push(() => void subscribe());
				steps.push(() => void this.fake.refund({ payment_intent: firstPayment }));
				steps.push(() => {
					draft = this.fake.renewSubscription(root, { collect: 'draft' }).invoice.id as string;
				});
				steps.push(() => {
					this.fake.finalizeInvoice(draft, { collect: 'paid' });
					seats = one('active', this.periodEnd(root));
				});
				break;
			}
			case 'renewal_failed_then_unpaid':
				steps.push(() => void subscribe());
				steps.push(() => void this.fake.renewSubscription(root, { collect: 'failed' }));
				steps.push(() => {
					this.fake.setSubscriptionStatus(root, 'unpaid');
					seats = one('paused', firstEnd);
				});
				break;
			case 'proration_refunded':
				steps.push(() => void subscribe());
				steps.push(() => {
					const item = (this.fake.get(root) as Stripe.Subscription).items.data[0];
					this.fake.updateSubscription(root, { items: [{ id: item.id, price: PRICES.proMonthly }], proration_behavior: 'always_invoice' });
				});
				steps.push(() => {
					const proration = (this.fake.get(root) as Stripe.Subscription).latest_invoice as string;
					this.fake.refund({ payment_intent: this.paymentOf(proration) });
					seats = one('active', firstEnd, pro);
				});
				break;
			case 'trial_paid':
				steps.push(() => void subscribe(undefined, { status: 'trialing', trial_period_days: 7 }));
				steps.push(() => {
					this.fake.endTrial(root, { payment_method: true });
					seats = one('active', this.periodEnd(root));
				});
				break;
			case 'trial_without_payment_method_paused':
				steps.push(() => void subscribe(undefined, { status: 'trialing', trial_period_days: 7 }));
				steps.push(() => {
					this.fake.endTrial(root, { payment_method: false, missing_payment_method: 'pause' });
					seats = one('paused', firstEnd);
				});
				break;
			case 'cancel_at_period_end':
				steps.push(() => void subscribe());
				steps.push(() => void this.fake.cancelSubscription(root, { at_period_end: true }));
				steps.push(() => {
					this.fake.cancelSubscription(root);
					seats = one('paused', firstEnd);
				});
				break;
			case 'refund_failed': {
				let refund = '';
				steps.push(() => void subscribe());
				steps.push(() => {
					refund = this.fake.refund({ payment_intent: firstPayment, status: 'pending' }).id;
				});
				steps.push(() => {
					this.fake.failRefund(refund, 'failed');
					seats = one('active', firstEnd);
				});
				break;
			}
			case 'refunded_before_first_sync':
				oneOff = true;
				steps.push(() => {
					const bought = this.fake.checkoutPayment({ customer: customer.id, lines: [{ price: PRICES.app30Days, quantity: 1 }] });
					root = bought.payment_intent?.id ?? '';
					sessionId = bought.session.id;
					this.fake.refund({ payment_intent: root });
				});
				break;
			case 'canceled_before_first_sync':
				steps.push(() => {
					subscribe();
					this.fake.cancelSubscription(root);
				});
				break;
			case 'price_unmapped_then_canceled': {
				const price = this.fake.createPrice({ unit_amount: 700, recurring: { interval: 'month' }, metadata: { keycrate_subscription_id: basic } });
				steps.push(() => void subscribe([{ price: price.id, quantity: 1 }]));
				steps.push(() => void this.fake.updatePrice(price.id, { metadata: { keycrate_subscription_id: '' } }));
				steps.push(() => {
					this.fake.cancelSubscription(root);
					seats = one('paused', firstEnd);
				});
				break;
			}
			case 'subscription_metadata_completes':
				// hwid_lock alone: the price keeps its tier.
				steps.push(() => {
					subscribe(undefined, { metadata: { keycrate_hwid_lock: 'true' } });
					seats = one('active', firstEnd);
				});
				break;
			case 'session_metadata_completes':
				oneOff = true;
				// A value alone: the price's unit (days) stays, 90 of them.
				steps.push(() => {
					const bought = this.fake.checkoutPayment({
						customer: customer.id,
						lines: [{ price: PRICES.app30Days, quantity: 1 }],
						metadata: { keycrate_duration_value: '90' },
					});
					root = bought.payment_intent?.id ?? '';
					sessionId = bought.session.id;
					seats = [{ status: 'active', expiry: { afterCreation: 90 * 86400 }, tier: null }];
				});
				break;
			case 'item_replaced_by_higher_tier':
				steps.push(() => void subscribe());
				steps.push(() => {
					const item = (this.fake.get(root) as Stripe.Subscription).items.data[0];
					this.fake.updateSubscription(root, {
						items: [
							{ id: item.id, deleted: true },
							{ price: PRICES.proMonthly, quantity: 1 },
						],
					});
					// The same key, now in the higher tier (its seat stays the replaced item's).
					seats = one('active', firstEnd, pro);
				});
				break;
			case 'quantity_down_on_one_of_two_items':
				steps.push(
					() =>
						void subscribe([
							{ price: PRICES.basicMonthly, quantity: 2 },
							{ price: PRICES.proMonthly, quantity: 1 },
						]),
				);
				steps.push(() => {
					const [basicItem, proItem] = (this.fake.get(root) as Stripe.Subscription).items.data;
					this.fake.updateSubscription(root, { items: [{ id: basicItem.id, quantity: 1 }] });
					const active = (tier: string): ExpectedSeat => ({ status: 'active', expiry: firstEnd + grace, tier });
					bySeat = {
						[`${basicItem.id}:0`]: active(basic),
						[`${basicItem.id}:1`]: { status: 'paused', expiry: firstEnd + grace, tier: basic },
						[`${proItem.id}:0`]: active(pro),
					};
					seats = Object.values(bySeat);
				});
				break;
			case 'manual_capture':
			case 'authorization_canceled':
				oneOff = true;
				steps.push(() => {
					const bought = this.fake.checkoutPayment({ customer: customer.id, lines: [{ price: PRICES.app30Days, quantity: 1 }], capture_method: 'manual' });
					root = bought.payment_intent?.id ?? '';
					sessionId = bought.session.id;
				});
				steps.push(() => {
					if (kind === 'manual_capture') {
						this.fake.capturePayment(root);
						seats = [{ status: 'active', expiry: { afterCreation: 30 * 86400 }, tier: null }];
					} else {
						this.fake.cancelPaymentIntent(root);
					}
				});
				break;
		}
		return {
			steps,
			purchasesAndRenewals: () => 1,
			expected: (): ExpectedRoot => {
				const table = bySeat;
				const metadata: Record<string, string> = oneOff
					? { stripe_checkout_session: sessionId, stripe_customer: customer.id }
					: { stripe_subscription: root, stripe_customer: customer.id };
				return {
					root,
					kind: oneOff ? 'payment' : 'subscription',
					story: `entitlement ${kind}`,
					metadata,
					seats,
					...(table ? { bySeat: (seat: string) => table[seat] } : {}),
				};
			},
		};
	}
}

/**
 * The entitlement stories (what was PAID decides): each plays one rule of the README's table against the fake,
 * and says what Keycrate must hold from what the story did.
 */
export const ENTITLEMENT_STORIES = [
	'chargeback_lost_on_first_invoice',
	'chargeback_won_on_first_invoice',
	'inquiry_closed',
	'refund_then_draft_renewal_then_paid',
	'renewal_failed_then_unpaid',
	'proration_refunded',
	'trial_paid',
	'trial_without_payment_method_paused',
	'cancel_at_period_end',
	'refund_failed',
	'refunded_before_first_sync',
	'canceled_before_first_sync',
	'price_unmapped_then_canceled',
	'subscription_metadata_completes',
	'session_metadata_completes',
	'item_replaced_by_higher_tier',
	'quantity_down_on_one_of_two_items',
	'manual_capture',
	'authorization_canceled',
] as const;
export type EntitlementStory = (typeof ENTITLEMENT_STORIES)[number];

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
