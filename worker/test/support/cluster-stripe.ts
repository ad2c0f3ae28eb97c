// Seeded Stripe "worlds" for the cluster tests: whole purchase and subscription lifecycles as signed-ready
// webhook events (legacy and current API shapes, after stripe/openapi fixtures3.json), each with the state
// that ONE clean, in-order delivery would leave on Keycrate. The checks compare the emulator against that.

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

export type ApiShape = 'legacy' | 'current';

export interface StripeEventEnvelope {
	id: string;
	object: 'event';
	api_version: string;
	created: number;
	livemode: false;
	pending_webhooks: number;
	request: { id: string | null; idempotency_key: string | null };
	type: string;
	data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

/** The prices the cluster's PLANS_FILE maps; tiers are Keycrate subscription ids created in the emulator. */
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
		[PRICES.basicMonthly]: { duration_unit: 'months', duration_value: 1, subscription_id: tiers.basic },
		[PRICES.proMonthly]: { duration_unit: 'months', duration_value: 1, subscription_id: tiers.pro },
		[PRICES.app30Days]: { duration_unit: 'days', duration_value: 30 },
		[PRICES.appLifetime]: { duration_unit: 'lifetime' },
	};
}

/** A Checkout Session's line items, as the fake Stripe API serves them (`GET /v1/checkout/sessions/:id/line_items`). */
export interface SessionLineItem {
	id: string;
	priceId: string;
	quantity: number;
}

/** What one clean delivery leaves for one seat (one license) of a root. */
export interface ExpectedSeat {
	status: 'active' | 'paused';
	/** Whole seconds since the epoch; `null` = lifetime; `{ afterCreation }` = created_at + that many seconds. */
	expiry: number | null | { afterCreation: number };
	/** The Keycrate tier the license must be in (null = none). */
	tier: string | null;
}

export interface ExpectedRoot {
	/** The worker's root id (`sub:<id>` or `pay:<payment intent>`), which licenses carry as metadata.keycrate_sync_seat. */
	root: string;
	kind: 'subscription' | 'payment';
	seats: ExpectedSeat[];
	/** Metadata every license of the root must carry (linkage). */
	metadata: Record<string, string>;
	/** For reports: what happened to it. */
	story: string;
}

export interface Lifecycle {
	events: StripeEventEnvelope[];
	expected: ExpectedRoot;
	lineItems: Record<string, SessionLineItem[]>;
	/** Purchases (1) plus paid renewals, for the "≥ 1,000 purchases and renewals" figure. */
	purchasesAndRenewals: number;
}

const DAY = 86400;
const API_VERSION: Record<ApiShape, string> = { legacy: '2024-06-20', current: '2025-03-31.basil' };

/** Builds events and lifecycles from one seeded generator; timestamps are whole seconds. */
export class StripeWorld {
	readonly rng: Rng;
	/** Event timestamps are in the past (ordering only), period ends in the future (so nothing expires). */
	private readonly eventClock: number;
	readonly now: number;

	constructor(
		seed: number,
		readonly tiers: Tiers,
		readonly graceSeconds: number,
	) {
		this.rng = new Rng(seed);
		this.now = Math.floor(Date.now() / 1000);
		this.eventClock = this.now - 20 * DAY;
	}

	envelope(type: string, created: number, object: Record<string, unknown>, shape: ApiShape, previous?: Record<string, unknown>): StripeEventEnvelope {
		return {
			id: this.rng.id('evt'),
			object: 'event',
			api_version: API_VERSION[shape],
			created,
			livemode: false,
			pending_webhooks: 1,
			request: { id: this.rng.id('req', 14), idempotency_key: null },
			type,
			data: previous === undefined ? { object } : { object, previous_attributes: previous },
		};
	}

	private price(priceId: string): Record<string, unknown> {
		return {
			id: priceId,
			object: 'price',
			active: true,
			currency: 'usd',
			lookup_key: null,
			metadata: {},
			product: `prod_${priceId.slice(6)}`,
			recurring: priceId === PRICES.app30Days || priceId === PRICES.appLifetime ? null : { interval: 'month', interval_count: 1 },
			type: priceId === PRICES.app30Days || priceId === PRICES.appLifetime ? 'one_time' : 'recurring',
			unit_amount: 1500,
		};
	}

	checkoutSession(input: {
		id: string;
		mode: 'payment' | 'subscription';
		paymentStatus: 'paid' | 'unpaid';
		paymentIntent: string | null;
		subscription: string | null;
		customer: string;
		email: string;
		created: number;
	}): Record<string, unknown> {
		return {
			id: input.id,
			object: 'checkout.session',
			amount_subtotal: 1500,
			amount_total: 1500,
			created: input.created,
			currency: 'usd',
			customer: input.customer,
			customer_details: { email: input.email, name: 'Jenny Rosen', phone: null, tax_exempt: 'none' },
			customer_email: null,
			expires_at: input.created + DAY,
			livemode: false,
			metadata: {},
			mode: input.mode,
			payment_intent: input.paymentIntent,
			payment_status: input.paymentStatus,
			status: 'complete',
			subscription: input.subscription,
			success_url: 'https://example.com/success',
			url: null,
		};
	}

	subscription(input: {
		id: string;
		customer: string;
		status: string;
		itemId: string;
		priceId: string;
		quantity: number;
		periodStart: number;
		periodEnd: number;
		created: number;
		shape: ApiShape;
		canceledAt?: number;
	}): Record<string, unknown> {
		const item: Record<string, unknown> = {
			id: input.itemId,
			object: 'subscription_item',
			created: input.created,
			metadata: {},
			price: this.price(input.priceId),
			quantity: input.quantity,
			subscription: input.id,
		};
		const subscription: Record<string, unknown> = {
			id: input.id,
			object: 'subscription',
			billing_cycle_anchor: input.periodStart,
			cancel_at_period_end: false,
			canceled_at: input.canceledAt ?? null,
			collection_method: 'charge_automatically',
			created: input.created,
			currency: 'usd',
			customer: input.customer,
			ended_at: input.canceledAt ?? null,
			items: { object: 'list', data: [item], has_more: false, url: `/v1/subscription_items?subscription=${input.id}` },
			livemode: false,
			metadata: {},
			start_date: input.created,
			status: input.status,
		};
		if (input.shape === 'legacy') {
			subscription.current_period_start = input.periodStart;
			subscription.current_period_end = input.periodEnd;
			subscription.plan = this.price(input.priceId);
			subscription.quantity = input.quantity;
		} else {
			item.current_period_start = input.periodStart;
			item.current_period_end = input.periodEnd;
		}
		return subscription;
	}

	invoice(input: {
		subscription: string;
		itemId: string;
		customer: string;
		email: string;
		priceId: string;
		quantity: number;
		periodStart: number;
		periodEnd: number;
		paymentIntent: string;
		billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update';
		shape: ApiShape;
	}): Record<string, unknown> {
		const lineId = this.rng.id('il');
		const line: Record<string, unknown> = {
			id: lineId,
			object: 'line_item',
			amount: 1500 * input.quantity,
			currency: 'usd',
			description: `${input.quantity} × Keycrate app`,
			livemode: false,
			metadata: {},
			period: { start: input.periodStart, end: input.periodEnd },
			quantity: input.quantity,
		};
		const invoice: Record<string, unknown> = {
			id: this.rng.id('in'),
			object: 'invoice',
			amount_due: 1500 * input.quantity,
			amount_paid: 1500 * input.quantity,
			billing_reason: input.billingReason,
			collection_method: 'charge_automatically',
			currency: 'usd',
			customer: input.customer,
			customer_email: input.email,
			livemode: false,
			paid: true,
			status: 'paid',
			lines: { object: 'list', data: [line], has_more: false, url: `/v1/invoices/lines` },
		};
		if (input.shape === 'legacy') {
			Object.assign(line, {
				price: this.price(input.priceId),
				proration: false,
				subscription: input.subscription,
				subscription_item: input.itemId,
				type: 'subscription',
			});
			Object.assign(invoice, {
				subscription: input.subscription,
				subscription_details: { metadata: {} },
				payment_intent: input.paymentIntent,
			});
		} else {
			Object.assign(line, {
				parent: {
					type: 'subscription_item_details',
					subscription_item_details: { subscription: input.subscription, subscription_item: input.itemId, proration: false, invoice_item: null },
					invoice_item_details: null,
				},
				pricing: { type: 'price_details', price_details: { price: input.priceId, product: `prod_${input.priceId.slice(6)}` }, unit_amount_decimal: '1500' },
			});
			Object.assign(invoice, {
				parent: { type: 'subscription_details', subscription_details: { subscription: input.subscription, metadata: {} }, quote_details: null },
				payments: {
					object: 'list',
					data: [{ id: this.rng.id('inpay'), object: 'invoice_payment', is_default: true, status: 'paid', payment: { type: 'payment_intent', payment_intent: input.paymentIntent } }],
					has_more: false,
				},
			});
		}
		return invoice;
	}

	charge(paymentIntent: string, refunded: boolean): Record<string, unknown> {
		return {
			id: this.rng.id('ch'),
			object: 'charge',
			amount: 1500,
			amount_refunded: refunded ? 1500 : 0,
			captured: true,
			currency: 'usd',
			livemode: false,
			paid: true,
			payment_intent: paymentIntent,
			refunded,
			status: 'succeeded',
		};
	}

	dispute(paymentIntent: string): Record<string, unknown> {
		return {
			id: this.rng.id('dp'),
			object: 'dispute',
			amount: 1500,
			charge: this.rng.id('ch'),
			currency: 'usd',
			livemode: false,
			payment_intent: paymentIntent,
			reason: 'fraudulent',
			status: 'needs_response',
		};
	}

	/** A fresh, increasing event time for the next lifecycle (each lifecycle gets its own second range). */
	private startOfLifecycle(): number {
		return this.eventClock + this.rng.int(0, 5 * DAY);
	}

	/** A one-off purchase (mode payment) of `quantity` seats, maybe paid asynchronously, maybe refunded or disputed. */
	oneOffPurchase(options: { priceId?: string; quantity?: number; refund?: boolean; dispute?: boolean; asyncPayment?: boolean; shape?: ApiShape } = {}): Lifecycle {
		const { rng } = this;
		const priceId = options.priceId ?? (rng.chance(0.8) ? PRICES.app30Days : PRICES.appLifetime);
		const quantity = options.quantity ?? (rng.chance(0.85) ? 1 : 2);
		const refund = options.refund ?? rng.chance(0.12);
		const dispute = options.dispute ?? (!refund && rng.chance(0.03));
		const asyncPayment = options.asyncPayment ?? rng.chance(0.05);
		const shape = options.shape ?? rng.pick(['legacy', 'current'] as const);
		const t0 = this.startOfLifecycle();
		const sessionId = rng.id('cs_test', 58);
		const paymentIntent = rng.id('pi');
		const customer = rng.id('cus', 14);
		const email = `${customer.slice(4).toLowerCase()}@example.com`;
		const session = (paymentStatus: 'paid' | 'unpaid') =>
			this.checkoutSession({ id: sessionId, mode: 'payment', paymentStatus, paymentIntent, subscription: null, customer, email, created: t0 });
		const events: StripeEventEnvelope[] = [];
		if (asyncPayment) {
			events.push(this.envelope('checkout.session.completed', t0, session('unpaid'), shape));
			events.push(this.envelope('checkout.session.async_payment_succeeded', t0 + 3600, session('paid'), shape));
		} else {
			events.push(this.envelope('checkout.session.completed', t0, session('paid'), shape));
		}
		if (refund) events.push(this.envelope('charge.refunded', t0 + 7200, this.charge(paymentIntent, true), shape));
		if (dispute) events.push(this.envelope('charge.dispute.created', t0 + 7300, this.dispute(paymentIntent), shape));
		const expiry: ExpectedSeat['expiry'] = priceId === PRICES.appLifetime ? null : { afterCreation: 30 * DAY };
		const status = refund || dispute ? 'paused' : 'active';
		const story = `one-off ${priceId} ×${quantity}${asyncPayment ? ' async' : ''}${refund ? ' refunded' : ''}${dispute ? ' disputed' : ''} (${shape})`;
		return {
			events,
			expected: {
				root: `pay:${paymentIntent}`,
				kind: 'payment',
				seats: Array.from({ length: quantity }, () => ({ status, expiry, tier: null })),
				metadata: { stripe_payment_intent: paymentIntent, stripe_checkout_session: sessionId, stripe_customer: customer, stripe_email: email },
				story,
			},
			lineItems: { [sessionId]: [{ id: rng.id('li'), priceId, quantity }] },
			purchasesAndRenewals: 1,
		};
	}

	/**
	 * A subscription bought through Checkout: session + created + first invoice.paid, then `renewals` periods
	 * (updated + invoice.paid each), maybe a tier change or a quantity increase at a renewal, maybe canceled.
	 */
	subscriptionLifecycle(options: {
		renewals?: number;
		priceId?: string;
		quantity?: number;
		startIncomplete?: boolean;
		changeTierAt?: number | null;
		addSeatAt?: number | null;
		cancel?: boolean;
		shape?: ApiShape;
	} = {}): Lifecycle {
		const { rng } = this;
		const renewals = options.renewals ?? rng.int(1, 3);
		let priceId = options.priceId ?? (rng.chance(0.7) ? PRICES.basicMonthly : PRICES.proMonthly);
		let quantity = options.quantity ?? (rng.chance(0.85) ? 1 : 2);
		const startIncomplete = options.startIncomplete ?? rng.chance(0.2);
		const changeTierAt = options.changeTierAt !== undefined ? options.changeTierAt : rng.chance(0.15) ? rng.int(1, renewals) : null;
		const addSeatAt = options.addSeatAt !== undefined ? options.addSeatAt : rng.chance(0.1) ? rng.int(1, renewals) : null;
		const cancel = options.cancel ?? rng.chance(0.2);
		const shape = options.shape ?? rng.pick(['legacy', 'current'] as const);

		const t0 = this.startOfLifecycle();
		const subscriptionId = rng.id('sub', 14);
		const itemId = rng.id('si', 14);
		const customer = rng.id('cus', 14);
		const email = `${customer.slice(4).toLowerCase()}@example.com`;
		const sessionId = rng.id('cs_test', 58);
		// Period k runs [periodEnds[k-1], periodEnds[k]); all ends lie in the future so nothing expires meanwhile.
		const firstEnd = this.now + rng.int(20, 30) * DAY;
		const periodEnds = Array.from({ length: renewals + 1 }, (_, k) => firstEnd + k * 30 * DAY);
		const periodStart = (k: number) => (k === 0 ? firstEnd - 30 * DAY : periodEnds[k - 1]);
		const sub = (status: string, k: number, canceledAt?: number) =>
			this.subscription({ id: subscriptionId, customer, status, itemId, priceId, quantity, periodStart: periodStart(k), periodEnd: periodEnds[k], created: t0, shape, canceledAt });
		const paid = (k: number, reason: 'subscription_create' | 'subscription_cycle') =>
			this.invoice({ subscription: subscriptionId, itemId, customer, email, priceId, quantity, periodStart: periodStart(k), periodEnd: periodEnds[k], paymentIntent: rng.id('pi'), billingReason: reason, shape });

		const firstPrice = priceId;
		const firstQuantity = quantity;
		const events: StripeEventEnvelope[] = [];
		events.push(this.envelope('checkout.session.completed', t0 + 2, this.checkoutSession({ id: sessionId, mode: 'subscription', paymentStatus: 'paid', paymentIntent: null, subscription: subscriptionId, customer, email, created: t0 }), shape));
		events.push(this.envelope('customer.subscription.created', t0, sub(startIncomplete ? 'incomplete' : 'active', 0), shape));
		events.push(this.envelope('invoice.paid', t0 + 1, paid(0, 'subscription_create'), shape));
		if (startIncomplete) {
			events.push(this.envelope('customer.subscription.updated', t0 + 1, sub('active', 0), shape, { status: 'incomplete' }));
		}
		let story = `subscription ${priceId} ×${quantity}${startIncomplete ? ' incomplete→active' : ''}`;
		for (let k = 1; k <= renewals; k++) {
			const tk = t0 + k * 30 * DAY / 100; // event times only order things; they stay in the past
			const previous: Record<string, unknown> = { items: { note: 'period advanced' } };
			if (changeTierAt === k) {
				priceId = priceId === PRICES.basicMonthly ? PRICES.proMonthly : PRICES.basicMonthly;
				story += `, tier→${priceId === PRICES.proMonthly ? 'pro' : 'basic'}@${k}`;
			}
			if (addSeatAt === k) {
				quantity += 1;
				story += `, seat+1@${k}`;
			}
			events.push(this.envelope('customer.subscription.updated', tk, sub('active', k), shape, previous));
			events.push(this.envelope('invoice.paid', tk + 1, paid(k, 'subscription_cycle'), shape));
		}
		story += `, ${renewals} renewal(s)`;
		if (cancel) {
			const tEnd = t0 + (renewals + 1) * 30 * DAY / 100;
			events.push(this.envelope('customer.subscription.deleted', tEnd, sub('canceled', renewals, tEnd), shape));
			story += ', canceled';
		}
		const tier = priceId === PRICES.proMonthly ? this.tiers.pro : this.tiers.basic;
		return {
			events,
			expected: {
				root: `sub:${subscriptionId}`,
				kind: 'subscription',
				seats: Array.from({ length: quantity }, () => ({ status: cancel ? 'paused' : 'active', expiry: periodEnds[renewals] + this.graceSeconds, tier })),
				metadata: { stripe_subscription: subscriptionId, stripe_customer: customer },
				story: `${story} (${shape})`,
			},
			lineItems: { [sessionId]: [{ id: rng.id('li'), priceId: firstPrice, quantity: firstQuantity }] },
			purchasesAndRenewals: 1 + renewals,
		};
	}
}

/** Every event `copies` times, the whole list shuffled: Stripe's at-least-once, any-order delivery. */
export function shuffledDeliveries<T>(rng: Rng, events: readonly T[], copies: number): T[] {
	const all: T[] = [];
	for (const event of events) for (let copy = 0; copy < copies; copy++) all.push(event);
	return rng.shuffle(all);
}
