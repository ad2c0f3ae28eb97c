/**
 * World building: each call changes the stored objects the way Stripe would and records the events Stripe
 * would send, in Stripe's usual order. Arguments mirror Stripe's own create parameters where one exists
 * (e.g. `subscription_data.metadata`: Stripe does not copy a Checkout session's metadata to its subscription).
 */
import type Stripe from 'stripe';
import { FakeUsageError } from './errors';
import { newId } from './ids';
import {
	buildCharge,
	buildCheckoutSession,
	buildCustomer,
	buildDispute,
	buildInvoiceLine,
	buildInvoicePayment,
	buildLineItem,
	buildPaymentIntent,
	buildPrice,
	buildProduct,
	buildRefund,
	buildSubscription,
	buildSubscriptionInvoice,
	buildSubscriptionItem,
	planOf,
	type Period,
	type ProrationInput,
} from './objects';
import { copy, type Kind, type Kinds, type Store } from './store';

export interface LineInput {
	price: string;
	quantity?: number;
}

export interface CustomerParams {
	email: string;
	name?: string;
	metadata?: Stripe.MetadataParam;
}

export interface PriceParams {
	id?: string;
	unit_amount: number;
	currency?: string;
	recurring?: { interval: Stripe.Price.Recurring.Interval; interval_count?: number };
	lookup_key?: string;
	nickname?: string;
	metadata?: Stripe.MetadataParam;
	/** The product's name (default "Product for <price>"). */
	product_name?: string;
	product_metadata?: Stripe.MetadataParam;
}

export interface CheckoutPaymentParams {
	customer: string;
	lines: LineInput[];
	/** The session's metadata. */
	metadata?: Stripe.MetadataParam;
	/** As Stripe: the payment intent's metadata is its own, not the session's. */
	payment_intent_data?: { metadata?: Stripe.MetadataParam };
	/** paid (card, the default), unpaid (an async method still processing), no_payment_required (fully discounted: no payment intent). */
	payment_status?: Stripe.Checkout.Session.PaymentStatus;
	/** manual: the card is only authorized (payment intent `requires_capture`, session `unpaid`) until capturePayment. */
	capture_method?: 'automatic' | 'manual';
}

export interface SubscriptionParams {
	customer: string;
	items: LineInput[];
	metadata?: Stripe.MetadataParam;
	/** active (the default: first invoice paid), trialing (a free first period), incomplete (first payment pending: see payInvoice). */
	status?: 'active' | 'trialing' | 'incomplete';
	/** trialing only; 14 when omitted. */
	trial_period_days?: number;
	/** What happens when the trial ends without a payment method (default create_invoice, as Stripe). */
	trial_settings?: TrialSettings;
}

export interface TrialSettings {
	end_behavior: { missing_payment_method: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod };
}

export interface CheckoutSubscriptionParams {
	customer: string;
	items: LineInput[];
	/** The session's metadata. */
	metadata?: Stripe.MetadataParam;
	/** As Stripe: the subscription's metadata is set here, not from the session's. */
	subscription_data?: { metadata?: Stripe.MetadataParam; trial_period_days?: number; trial_settings?: TrialSettings };
}

export interface SubscriptionItemUpdate {
	/** An existing item (`si_…`); without it, an item with the same price is updated, or a new item is added. */
	id?: string;
	price?: string;
	quantity?: number;
	deleted?: boolean;
}

export interface SubscriptionUpdate {
	items?: SubscriptionItemUpdate[];
	metadata?: Stripe.MetadataParam;
	cancel_at_period_end?: boolean;
	/**
	 * always_invoice: the item changes are prorated and invoiced (`subscription_update`) and paid at once;
	 * create_prorations (Stripe's default) and none: no invoice now.
	 */
	proration_behavior?: 'always_invoice' | 'create_prorations' | 'none';
}

/** How a renewal invoice is collected: paid, failed (past_due), or left a draft (finalizeInvoice collects it). */
export type Collect = 'paid' | 'failed' | 'draft';

export interface RenewOptions {
	collect?: Collect;
	/** The older spelling: `paid: false` is `collect: 'failed'`. */
	paid?: boolean;
}

export interface EndTrialOptions {
	/** Whether the customer gave a payment method during the trial. */
	payment_method: boolean;
	/** Sets the subscription's trial_settings.end_behavior.missing_payment_method first. */
	missing_payment_method?: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
}

export interface RefundParams {
	payment_intent: string;
	amount?: number;
	reason?: Stripe.Refund.Reason;
	/** pending: Stripe holds a card refund as pending while the balance cannot cover it (`pending_reason: insufficient_funds`). */
	status?: 'succeeded' | 'pending';
}

export interface DisputeParams {
	payment_intent: string;
	reason?: string;
	/** An inquiry (warning_needs_response, no funds withdrawn) rather than a chargeback (needs_response). */
	inquiry?: boolean;
}

export type DisputeOutcome = 'won' | 'lost' | 'warning_closed';

export interface PriceUpdate {
	metadata?: Stripe.MetadataParam;
	active?: boolean;
	lookup_key?: string | null;
	nickname?: string | null;
}

export interface PaymentResult {
	payment_intent: Stripe.PaymentIntent | null;
	charge: Stripe.Charge | null;
}
export interface CheckoutPaymentResult extends PaymentResult {
	session: Stripe.Checkout.Session;
	line_items: Stripe.LineItem[];
}
export interface SubscriptionResult extends PaymentResult {
	subscription: Stripe.Subscription;
	invoice: Stripe.Invoice;
	invoice_payment: Stripe.InvoicePayment | null;
}
/** A trial ended into cancel or pause has no new invoice. */
export interface EndTrialResult extends Omit<SubscriptionResult, 'invoice'> {
	invoice: Stripe.Invoice | null;
}
export interface CaptureResult extends PaymentResult {
	/** The Checkout session that took the payment, if one did. */
	session: Stripe.Checkout.Session | null;
}
export interface CheckoutSubscriptionResult extends SubscriptionResult {
	session: Stripe.Checkout.Session;
	line_items: Stripe.LineItem[];
}

const SUBSCRIPTION_STATUSES: readonly Stripe.Subscription.Status[] = [
	'incomplete',
	'incomplete_expired',
	'trialing',
	'active',
	'past_due',
	'canceled',
	'unpaid',
	'paused',
];
const INTERVALS: readonly string[] = ['day', 'week', 'month', 'year'];
const REFUND_REASONS: readonly string[] = ['duplicate', 'fraudulent', 'requested_by_customer'];
const REFUND_FAILURE_REASONS: readonly string[] = [
	'lost_or_stolen_card',
	'expired_or_canceled_card',
	'charge_for_pending_refund_disputed',
	'insufficient_funds',
	'declined',
	'merchant_request',
	'unknown',
];
const MISSING_PAYMENT_METHOD: readonly string[] = ['cancel', 'create_invoice', 'pause'];
const CANCELABLE_INTENT: readonly string[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
const DISPUTE_REASONS: readonly string[] = [
	'bank_cannot_process',
	'check_returned',
	'credit_not_processed',
	'customer_initiated',
	'debit_not_authorized',
	'duplicate',
	'fraudulent',
	'general',
	'incorrect_account_details',
	'insufficient_funds',
	'noncompliant',
	'product_not_received',
	'product_unacceptable',
	'subscription_canceled',
	'unrecognized',
];

/** Stripe's metadata rules: ≤ 50 keys, key ≤ 40 characters, value a string ≤ 500 characters. */
export function checkMetadata(value: unknown, field: string): Stripe.Metadata {
	if (value === undefined || value === null) return {};
	if (typeof value !== 'object' || Array.isArray(value)) throw new FakeUsageError(field, 'must be an object of string values');
	const entries = Object.entries(value as Record<string, unknown>);
	if (entries.length > 50) throw new FakeUsageError(field, 'has more than 50 keys (Stripe allows 50)');
	const result: Stripe.Metadata = {};
	for (const [key, item] of entries) {
		if (key.length === 0 || key.length > 40) throw new FakeUsageError(`${field}.${key}`, 'keys are 1 to 40 characters (Stripe)');
		if (typeof item === 'number') result[key] = String(item);
		else if (typeof item === 'string') {
			if (item.length > 500) throw new FakeUsageError(`${field}.${key}`, 'is longer than 500 characters (Stripe)');
			result[key] = item;
		} else throw new FakeUsageError(`${field}.${key}`, 'must be a string');
	}
	return result;
}

/** Stripe's metadata update: keys merge, an empty string unsets; still 50 keys at most. */
function mergeMetadata(current: Stripe.Metadata, changes: Stripe.Metadata): Stripe.Metadata {
	const merged: Stripe.Metadata = { ...current };
	for (const [key, value] of Object.entries(changes)) {
		if (value === '') delete merged[key];
		else merged[key] = value;
	}
	if (Object.keys(merged).length > 50) throw new FakeUsageError('metadata', 'would have more than 50 keys (Stripe allows 50)');
	return merged;
}

function positiveInteger(value: unknown, field: string, fallback?: number): number {
	if (value === undefined && fallback !== undefined) return fallback;
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
		throw new FakeUsageError(field, `must be a positive integer, got ${JSON.stringify(value)}`);
	return value;
}

/** Calendar arithmetic in UTC, as Stripe bills: the 31st of a month renews on the last day of shorter months. */
export function addInterval(start: number, interval: Stripe.Price.Recurring.Interval, count: number): number {
	if (interval === 'day') return start + count * 86400;
	if (interval === 'week') return start + count * 7 * 86400;
	const date = new Date(start * 1000);
	const months = interval === 'year' ? 12 * count : count;
	const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
	const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
	target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
	return Math.floor(target.getTime() / 1000);
}

/** One of `allowed`, or the fallback when absent. */
function choice<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
	if (value === undefined) return fallback;
	if (!allowed.includes(value as T)) throw new FakeUsageError(field, `must be one of ${allowed.join(', ')}`);
	return value as T;
}

function checkTrialSettings(value: TrialSettings | undefined, field: string): Stripe.Subscription.TrialSettings | undefined {
	if (value === undefined) return undefined;
	const behavior = value?.end_behavior?.missing_payment_method;
	if (!MISSING_PAYMENT_METHOD.includes(behavior))
		throw new FakeUsageError(`${field}.end_behavior.missing_payment_method`, `must be one of ${MISSING_PAYMENT_METHOD.join(', ')}`);
	return { end_behavior: { missing_payment_method: behavior } };
}

/** "13 Feb 2026", as Stripe dates proration lines. */
function day(timestamp: number): string {
	return new Date(timestamp * 1000).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

function idOf(value: string | { id: string } | null): string | null {
	return value === null ? null : typeof value === 'string' ? value : value.id;
}

export class World {
	constructor(private readonly store: Store) {}

	private require<K extends Kind>(kind: K, id: unknown, field: string): Kinds[K] {
		if (typeof id !== 'string' || id === '') throw new FakeUsageError(field, `must be the id of a ${kind}`);
		const object = this.store.get(kind, id);
		if (!object) throw new FakeUsageError(field, `no ${kind} ${id} in this fake`);
		return object;
	}

	createCustomer(params: CustomerParams): Stripe.Customer {
		if (typeof params?.email !== 'string' || !params.email.includes('@')) throw new FakeUsageError('email', 'must be an email address');
		const customer = buildCustomer(this.store.now(), params.email, params.name ?? null, checkMetadata(params.metadata, 'metadata'));
		this.store.add('customer', customer);
		this.store.emit('customer.created', customer);
		return copy(customer);
	}

	createPrice(params: PriceParams): Stripe.Price {
		if (typeof params?.unit_amount !== 'number' || !Number.isSafeInteger(params.unit_amount) || params.unit_amount < 0) {
			throw new FakeUsageError('unit_amount', 'must be a whole number of the smallest currency unit, 0 or more');
		}
		const currency = (params.currency ?? 'usd').toLowerCase();
		if (!/^[a-z]{3}$/.test(currency)) throw new FakeUsageError('currency', 'must be a three-letter ISO code');
		if (params.id !== undefined && (typeof params.id !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(params.id))) {
			throw new FakeUsageError('id', 'must be letters, digits, _ or -');
		}
		if (params.id && this.store.find(params.id)) throw new FakeUsageError('id', `${params.id} exists already`);
		let recurring: { interval: Stripe.Price.Recurring.Interval; interval_count: number } | null = null;
		if (params.recurring) {
			if (!INTERVALS.includes(params.recurring.interval)) throw new FakeUsageError('recurring.interval', `must be one of ${INTERVALS.join(', ')}`);
			recurring = { interval: params.recurring.interval, interval_count: positiveInteger(params.recurring.interval_count, 'recurring.interval_count', 1) };
		}
		if (params.lookup_key !== undefined && this.store.all('price').some((price) => price.lookup_key === params.lookup_key)) {
			throw new FakeUsageError('lookup_key', `${params.lookup_key} is already used by another price`);
		}
		const metadata = checkMetadata(params.metadata, 'metadata');
		const productMetadata = checkMetadata(params.product_metadata, 'product_metadata');
		const now = this.store.now();
		const product = buildProduct(now, params.product_name ?? `Product for ${params.nickname ?? params.id ?? 'price'}`, productMetadata);
		const price = buildPrice(now, product.id, {
			id: params.id,
			unit_amount: params.unit_amount,
			currency,
			recurring,
			lookup_key: params.lookup_key ?? null,
			metadata,
			nickname: params.nickname ?? null,
		});
		product.default_price = price.id;
		this.store.add('product', product);
		this.store.add('price', price);
		this.store.emit('product.created', product);
		this.store.emit('price.created', price);
		return copy(price);
	}

	/**
	 * Changes a price (metadata merged, '' unsets); Stripe returns the current price wherever one is embedded
	 * (subscription items, Checkout line items), so those follow. Records price.updated.
	 */
	updatePrice(id: string, params: PriceUpdate): Stripe.Price {
		const price = this.require('price', id, 'price');
		const previous: Record<string, unknown> = {};
		if (params.metadata !== undefined) {
			previous.metadata = { ...price.metadata };
			price.metadata = mergeMetadata(price.metadata, checkMetadata(params.metadata, 'metadata'));
		}
		if (params.active !== undefined) {
			if (typeof params.active !== 'boolean') throw new FakeUsageError('active', 'must be true or false');
			previous.active = price.active;
			price.active = params.active;
		}
		if (params.lookup_key !== undefined) {
			if (params.lookup_key !== null && this.store.all('price').some((other) => other !== price && other.lookup_key === params.lookup_key)) {
				throw new FakeUsageError('lookup_key', `${params.lookup_key} is already used by another price`);
			}
			previous.lookup_key = price.lookup_key;
			price.lookup_key = params.lookup_key;
		}
		if (params.nickname !== undefined) {
			previous.nickname = price.nickname;
			price.nickname = params.nickname;
		}
		if (Object.keys(previous).length === 0) throw new FakeUsageError('params', 'give metadata, active, lookup_key or nickname to change');
		for (const subscription of this.store.all('subscription')) {
			for (const item of subscription.items.data) {
				if (item.price.id !== price.id) continue;
				item.price = copy(price);
				item.plan = planOf(price);
			}
		}
		for (const items of this.store.lineItems.values()) {
			for (const item of items) if (item.price?.id === price.id) item.price = copy(price);
		}
		this.store.emit('price.updated', price, previous);
		return copy(price);
	}

	/** Changes a product's metadata (merged, '' unsets) or name; records product.updated. */
	updateProduct(id: string, params: { metadata?: Stripe.MetadataParam; name?: string }): Stripe.Product {
		const product = this.require('product', id, 'product');
		const previous: Record<string, unknown> = {};
		if (params.metadata !== undefined) {
			previous.metadata = { ...product.metadata };
			product.metadata = mergeMetadata(product.metadata, checkMetadata(params.metadata, 'metadata'));
		}
		if (params.name !== undefined) {
			if (typeof params.name !== 'string' || params.name === '') throw new FakeUsageError('name', 'must be a non-empty string');
			previous.name = product.name;
			product.name = params.name;
		}
		if (Object.keys(previous).length === 0) throw new FakeUsageError('params', 'give metadata or name to change');
		product.updated = this.store.now();
		this.store.emit('product.updated', product, previous);
		return copy(product);
	}

	private lines(lines: unknown, field: string, recurring: boolean): { price: Stripe.Price; quantity: number }[] {
		if (!Array.isArray(lines) || lines.length === 0) throw new FakeUsageError(field, 'must be a non-empty list of { price, quantity }');
		const result = lines.map((line: LineInput, index) => {
			const price = this.require('price', line?.price, `${field}[${index}].price`);
			if (!price.active) throw new FakeUsageError(`${field}[${index}].price`, `${price.id} is inactive (as Stripe, an archived price cannot be sold)`);
			if (recurring !== (price.recurring !== null)) {
				throw new FakeUsageError(
					`${field}[${index}].price`,
					recurring
						? `${price.id} is a one-time price; a subscription needs recurring prices`
						: `${price.id} is recurring; mode payment takes one-time prices only (as Stripe)`,
				);
			}
			return { price: copy(price), quantity: positiveInteger(line.quantity, `${field}[${index}].quantity`, 1) };
		});
		const currencies = new Set(result.map((line) => line.price.currency));
		if (currencies.size > 1) throw new FakeUsageError(field, `mixes currencies (${[...currencies].join(', ')})`);
		if (recurring) {
			const cadence = new Set(result.map((line) => `${line.price.recurring?.interval}/${line.price.recurring?.interval_count}`));
			if (cadence.size > 1) throw new FakeUsageError(field, 'prices with different billing intervals cannot share a subscription (as Stripe)');
		}
		return result;
	}

	private lineItems(lines: { price: Stripe.Price; quantity: number }[], discounted: boolean): Stripe.LineItem[] {
		return lines.map(({ price, quantity }) => {
			const product = this.store.get('product', idOf(price.product) ?? '');
			const item = buildLineItem(price, quantity, product?.name ?? price.id);
			if (discounted) {
				item.amount_discount = item.amount_subtotal;
				item.amount_total = 0;
			}
			return item;
		});
	}

	checkoutPayment(params: CheckoutPaymentParams): CheckoutPaymentResult {
		const customer = this.require('customer', params?.customer, 'customer');
		const lines = this.lines(params.lines, 'lines', false);
		const paymentStatus = params.payment_status ?? 'paid';
		if (!['paid', 'unpaid', 'no_payment_required'].includes(paymentStatus))
			throw new FakeUsageError('payment_status', 'must be paid, unpaid or no_payment_required');
		const captureMethod = choice(params.capture_method, 'capture_method', ['automatic', 'manual'] as const, 'automatic');
		const manual = captureMethod === 'manual';
		if (manual && paymentStatus !== 'paid')
			throw new FakeUsageError('capture_method', 'manual capture is a card authorization: it takes payment_status paid (the default)');
		const metadata = checkMetadata(params.metadata, 'metadata');
		const intentMetadata = checkMetadata(params.payment_intent_data?.metadata, 'payment_intent_data.metadata');
		const now = this.store.now();
		const free = paymentStatus === 'no_payment_required';
		const items = this.lineItems(lines, free);
		const subtotal = items.reduce((sum, item) => sum + item.amount_subtotal, 0);
		const currency = lines[0].price.currency;
		let intent: Stripe.PaymentIntent | null = null;
		let charge: Stripe.Charge | null = null;
		if (!free) {
			intent = buildPaymentIntent(now, {
				amount: subtotal,
				currency,
				customer: customer.id,
				description: null,
				metadata: intentMetadata,
				status: manual ? 'requires_capture' : paymentStatus === 'paid' ? 'succeeded' : 'processing',
				paymentMethod: newId('payment_method'),
				captureMethod,
			});
			charge = buildCharge(now, intent, customer, paymentStatus === 'paid' ? 'succeeded' : 'pending', !manual);
			intent.latest_charge = charge.id;
			this.store.add('payment_intent', intent);
			this.store.add('charge', charge);
		}
		const session = buildCheckoutSession(now, {
			mode: 'payment',
			customer,
			amount: free ? 0 : subtotal,
			currency,
			metadata,
			// An authorization is not money in the account: Checkout reports it unpaid until it is captured.
			paymentStatus: manual ? 'unpaid' : paymentStatus,
			paymentIntent: intent?.id ?? null,
			subscription: null,
			invoice: null,
		});
		session.amount_subtotal = subtotal;
		if (free && session.total_details) session.total_details.amount_discount = subtotal;
		this.store.add('checkout.session', session);
		this.store.lineItems.set(session.id, items);
		if (intent && charge) {
			if (manual) {
				this.store.emit('charge.succeeded', charge);
				this.store.emit('payment_intent.amount_capturable_updated', intent);
			} else if (paymentStatus === 'paid') {
				this.store.emit('charge.succeeded', charge);
				this.store.emit('payment_intent.succeeded', intent);
			} else {
				this.store.emit('charge.pending', charge);
				this.store.emit('payment_intent.processing', intent);
			}
		}
		this.store.emit('checkout.session.completed', session);
		return { session: copy(session), line_items: copy(items), payment_intent: copy(intent), charge: copy(charge) };
	}

	private asyncSession(sessionId: string): { session: Stripe.Checkout.Session; intent: Stripe.PaymentIntent; charge: Stripe.Charge } {
		const session = this.require('checkout.session', sessionId, 'session');
		if (session.payment_status !== 'unpaid') throw new FakeUsageError('session', `${session.id} is ${session.payment_status}, not unpaid`);
		const intent = this.require('payment_intent', idOf(session.payment_intent), 'session.payment_intent');
		const charge = this.require('charge', idOf(intent.latest_charge), 'payment_intent.latest_charge');
		return { session, intent, charge };
	}

	/** An async payment (bank debit) that was processing has succeeded. */
	completeAsyncPayment(sessionId: string): CheckoutPaymentResult {
		const { session, intent, charge } = this.asyncSession(sessionId);
		this.settleCharge(intent, charge, 'succeeded');
		session.payment_status = 'paid';
		this.store.emit('checkout.session.async_payment_succeeded', session);
		return { session: copy(session), line_items: copy(this.store.lineItems.get(session.id) ?? []), payment_intent: copy(intent), charge: copy(charge) };
	}

	/** An async payment that was processing has failed. */
	failAsyncPayment(sessionId: string): CheckoutPaymentResult {
		const { session, intent, charge } = this.asyncSession(sessionId);
		this.settleCharge(intent, charge, 'failed');
		this.store.emit('checkout.session.async_payment_failed', session);
		return { session: copy(session), line_items: copy(this.store.lineItems.get(session.id) ?? []), payment_intent: copy(intent), charge: copy(charge) };
	}

	/** Captures an authorized payment in full: the charge is captured, the payment intent succeeds, its Checkout session is paid. */
	capturePayment(paymentIntentId: string): CaptureResult {
		const intent = this.require('payment_intent', paymentIntentId, 'payment_intent');
		if (intent.status !== 'requires_capture')
			throw new FakeUsageError('payment_intent', `${intent.id} is ${intent.status}, not requires_capture (only a manual-capture authorization is captured)`);
		const charge = this.require('charge', idOf(intent.latest_charge), 'payment_intent.latest_charge');
		const previous = { captured: charge.captured, amount_captured: charge.amount_captured };
		charge.captured = true;
		charge.amount_captured = charge.amount;
		this.store.emit('charge.captured', charge, previous);
		intent.status = 'succeeded';
		intent.amount_received = intent.amount;
		intent.amount_capturable = 0;
		this.store.emit('payment_intent.succeeded', intent);
		const session = this.store.all('checkout.session').find((candidate) => candidate.payment_intent === intent.id) ?? null;
		if (session) session.payment_status = 'paid';
		return { payment_intent: copy(intent), charge: copy(charge), session: copy(session) };
	}

	/**
	 * Cancels a payment intent that has not succeeded (an authorization is released: its charge shows refunded,
	 * without a refund object). Stripe refuses to cancel one that an invoice created.
	 */
	cancelPaymentIntent(paymentIntentId: string): PaymentResult {
		const intent = this.require('payment_intent', paymentIntentId, 'payment_intent');
		if (!CANCELABLE_INTENT.includes(intent.status))
			throw new FakeUsageError('payment_intent', `${intent.id} is ${intent.status}: only ${CANCELABLE_INTENT.join(', ')} payment intents can be canceled`);
		if (this.store.all('invoice_payment').some((payment) => payment.payment.payment_intent === intent.id)) {
			throw new FakeUsageError('payment_intent', `${intent.id} was created by an invoice: Stripe cancels it only with its invoice`);
		}
		const charge = intent.latest_charge ? (this.store.get('charge', idOf(intent.latest_charge) ?? '') ?? null) : null;
		if (charge && intent.status === 'requires_capture') {
			charge.amount_refunded = charge.amount;
			charge.refunded = true;
		}
		intent.status = 'canceled';
		intent.canceled_at = this.store.now();
		intent.amount_capturable = 0;
		this.store.emit('payment_intent.canceled', intent);
		return { payment_intent: copy(intent), charge: copy(charge) };
	}

	private settleCharge(intent: Stripe.PaymentIntent, charge: Stripe.Charge, outcome: 'succeeded' | 'failed'): void {
		charge.status = outcome;
		if (outcome === 'succeeded') {
			charge.paid = true;
			charge.captured = true;
			charge.amount_captured = charge.amount;
			charge.outcome = {
				advice_code: null,
				network_advice_code: null,
				network_decline_code: null,
				network_status: 'approved_by_network',
				reason: null,
				risk_level: 'normal',
				risk_score: 20,
				seller_message: 'Payment complete.',
				type: 'authorized',
			};
			intent.status = 'succeeded';
			intent.amount_received = intent.amount;
			this.store.emit('charge.succeeded', charge);
			this.store.emit('payment_intent.succeeded', intent);
		} else {
			charge.failure_code = 'insufficient_funds';
			charge.failure_message = 'The account has insufficient funds.';
			intent.status = 'requires_payment_method';
			intent.last_payment_error = {
				type: 'card_error',
				code: 'insufficient_funds',
				message: 'The account has insufficient funds.',
				charge: charge.id,
			} as Stripe.PaymentIntent.LastPaymentError;
			this.store.emit('charge.failed', charge);
			this.store.emit('payment_intent.payment_failed', intent);
		}
	}

	createSubscription(params: SubscriptionParams): SubscriptionResult {
		const trialSettings = checkTrialSettings(params.trial_settings, 'trial_settings');
		return this.subscribe(
			params.customer,
			params.items,
			checkMetadata(params.metadata, 'metadata'),
			params.status ?? 'active',
			params.trial_period_days,
			false,
			trialSettings,
		);
	}

	checkoutSubscription(params: CheckoutSubscriptionParams): CheckoutSubscriptionResult {
		const customer = this.require('customer', params?.customer, 'customer');
		const metadata = checkMetadata(params.metadata, 'metadata');
		const trialDays = params.subscription_data?.trial_period_days;
		const lines = this.lines(params.items, 'items', true);
		const trialSettings = checkTrialSettings(params.subscription_data?.trial_settings, 'subscription_data.trial_settings');
		const subscriptionMetadata = checkMetadata(params.subscription_data?.metadata, 'subscription_data.metadata');
		const result = this.subscribe(customer.id, params.items, subscriptionMetadata, trialDays ? 'trialing' : 'active', trialDays, true, trialSettings);
		const items = this.lineItems(lines, false);
		const session = buildCheckoutSession(result.subscription.created, {
			mode: 'subscription',
			customer,
			amount: result.invoice.total,
			currency: result.subscription.currency,
			metadata,
			paymentStatus: result.invoice.total === 0 ? 'no_payment_required' : 'paid',
			paymentIntent: null,
			subscription: result.subscription.id,
			invoice: result.invoice.id,
		});
		this.store.add('checkout.session', session);
		this.store.lineItems.set(session.id, items);
		this.store.emit('checkout.session.completed', session);
		return { ...result, session: copy(session), line_items: copy(items) };
	}

	/**
	 * With `viaCheckout`, as Stripe runs a Checkout subscription: created incomplete, then updated to active once
	 * its first invoice is paid. Created through the API with a saved card, it is active from its first event.
	 */
	private subscribe(
		customerId: string,
		itemsInput: LineInput[],
		metadata: Stripe.Metadata,
		status: string,
		trialDays: number | undefined,
		viaCheckout: boolean,
		trialSettings: Stripe.Subscription.TrialSettings | undefined,
	): SubscriptionResult {
		const customer = this.require('customer', customerId, 'customer');
		if (!['active', 'trialing', 'incomplete'].includes(status))
			throw new FakeUsageError('status', 'must be active, trialing or incomplete (later states come from setSubscriptionStatus, pause, cancel)');
		const lines = this.lines(itemsInput, 'items', true);
		const now = this.store.now();
		const recurring = lines[0].price.recurring as Stripe.Price.Recurring;
		const trial: Period | null = status === 'trialing' ? { start: now, end: now + positiveInteger(trialDays, 'trial_period_days', 14) * 86400 } : null;
		const period: Period = trial ?? { start: now, end: addInterval(now, recurring.interval, recurring.interval_count) };
		const id = newId('subscription');
		const items = lines.map((line) => buildSubscriptionItem(now, id, line.price, line.quantity, period));
		const subscription = buildSubscription(now, {
			id,
			customer: customer.id,
			currency: lines[0].price.currency,
			metadata,
			status: viaCheckout && status === 'active' ? 'incomplete' : (status as Stripe.Subscription.Status),
			items,
			trial,
		});
		if (trialSettings) subscription.trial_settings = trialSettings;
		const invoice = this.newInvoice(subscription, customer, 'subscription_create', status !== 'trialing');
		subscription.latest_invoice = invoice.id;
		this.store.add('subscription', subscription);
		this.store.emit('customer.subscription.created', subscription);
		this.issueInvoice(invoice, customer);
		const payment = this.collect(invoice, customer, status !== 'incomplete');
		if (subscription.status !== status) this.changeStatus(subscription, status as Stripe.Subscription.Status);
		return { subscription: copy(subscription), invoice: copy(invoice), ...payment };
	}

	/** An invoice for the subscription's current items and periods (or the lines given); not stored yet, numbered when finalized. */
	private newInvoice(
		subscription: Stripe.Subscription,
		customer: Stripe.Customer,
		reason: Stripe.Invoice.BillingReason,
		charged: boolean,
		lines?: (invoice: string) => Stripe.InvoiceLineItem[],
	): Stripe.Invoice {
		return buildSubscriptionInvoice(this.store.now(), { subscription, customer, billingReason: reason, charged, number: '', lines });
	}

	/** Stores the invoice as a draft (no number yet; a subscription's draft finalizes itself about an hour later) and records invoice.created. */
	private draftInvoice(invoice: Stripe.Invoice): Stripe.Invoice {
		invoice.status = 'draft';
		invoice.number = null;
		invoice.effective_at = null;
		invoice.status_transitions.finalized_at = null;
		invoice.automatically_finalizes_at = invoice.created + 3600;
		this.store.add('invoice', invoice);
		this.store.emit('invoice.created', invoice);
		return invoice;
	}

	/** A draft becomes open, numbered in the customer's sequence: invoice.finalized. */
	private finalize(invoice: Stripe.Invoice, customer: Stripe.Customer): Stripe.Invoice {
		const sequence = customer.next_invoice_sequence ?? 1;
		customer.next_invoice_sequence = sequence + 1;
		const now = this.store.now();
		invoice.status = 'open';
		invoice.number = `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`;
		invoice.effective_at = now;
		invoice.automatically_finalizes_at = null;
		invoice.status_transitions.finalized_at = now;
		this.store.emit('invoice.finalized', invoice);
		return invoice;
	}

	/** Stores the invoice and records it created (a draft), then finalized (open). */
	private issueInvoice(invoice: Stripe.Invoice, customer: Stripe.Customer): Stripe.Invoice {
		return this.finalize(this.draftInvoice(invoice), customer);
	}

	/** Pays an open invoice (or records the failed attempt): payment intent, charge, invoice payment and their events. */
	private collect(invoice: Stripe.Invoice, customer: Stripe.Customer, succeed: boolean): Omit<SubscriptionResult, 'subscription' | 'invoice'> {
		const now = this.store.now();
		if (invoice.amount_due === 0) {
			this.markPaid(invoice, now);
			return { invoice_payment: null, payment_intent: null, charge: null };
		}
		const intent = buildPaymentIntent(now, {
			amount: invoice.amount_due,
			currency: invoice.currency,
			customer: customer.id,
			description: invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
			metadata: {},
			status: succeed ? 'succeeded' : 'requires_payment_method',
			paymentMethod: succeed ? newId('payment_method') : null,
		});
		this.store.add('payment_intent', intent);
		const invoicePayment = buildInvoicePayment(now, invoice, intent.id);
		this.store.add('invoice_payment', invoicePayment);
		invoice.attempted = true;
		invoice.attempt_count += 1;
		if (!succeed) {
			this.store.emit('payment_intent.created', intent);
			invoice.next_payment_attempt = now + 3 * 86400;
			this.store.emit('invoice.payment_failed', invoice);
			return { invoice_payment: copy(invoicePayment), payment_intent: copy(intent), charge: null };
		}
		const charge = buildCharge(now, intent, customer, 'succeeded');
		intent.latest_charge = charge.id;
		this.store.add('charge', charge);
		this.store.emit('charge.succeeded', charge);
		this.store.emit('payment_intent.succeeded', intent);
		this.recordPayment(invoice, invoicePayment, now);
		return { invoice_payment: copy(invoicePayment), payment_intent: copy(intent), charge: copy(charge) };
	}

	private recordPayment(invoice: Stripe.Invoice, invoicePayment: Stripe.InvoicePayment, now: number): void {
		invoicePayment.status = 'paid';
		invoicePayment.amount_paid = invoice.amount_due;
		invoicePayment.status_transitions.paid_at = now;
		this.store.emit('invoice_payment.paid', invoicePayment);
		this.markPaid(invoice, now);
	}

	private markPaid(invoice: Stripe.Invoice, now: number): void {
		invoice.status = 'paid';
		invoice.amount_paid = invoice.amount_due;
		invoice.amount_remaining = 0;
		invoice.next_payment_attempt = null;
		invoice.status_transitions.paid_at = now;
		this.store.emit('invoice.paid', invoice);
		this.store.emit('invoice.payment_succeeded', invoice);
	}

	/**
	 * Pays an open subscription invoice whose payment failed (an incomplete first invoice, a failed renewal):
	 * its payment intent succeeds, and the subscription becomes active.
	 */
	payInvoice(invoiceId: string): SubscriptionResult {
		const invoice = this.require('invoice', invoiceId, 'invoice');
		if (invoice.status !== 'open') throw new FakeUsageError('invoice', `${invoice.id} is ${invoice.status}, not open`);
		const subscription = this.require(
			'subscription',
			idOf(invoice.parent?.subscription_details?.subscription ?? null),
			'invoice.parent.subscription_details.subscription',
		);
		const customer = this.require('customer', idOf(invoice.customer), 'invoice.customer');
		const invoicePayment = this.store.all('invoice_payment').find((payment) => payment.invoice === invoice.id && payment.status === 'open');
		const intent = invoicePayment && this.store.get('payment_intent', idOf(invoicePayment.payment.payment_intent ?? null) ?? '');
		if (!invoicePayment || !intent) throw new FakeUsageError('invoice', `${invoice.id} has no pending payment`);
		const now = this.store.now();
		intent.status = 'succeeded';
		intent.amount_received = intent.amount;
		intent.payment_method = newId('payment_method');
		const charge = buildCharge(now, intent, customer, 'succeeded');
		intent.latest_charge = charge.id;
		this.store.add('charge', charge);
		invoice.attempt_count += 1;
		this.store.emit('charge.succeeded', charge);
		this.store.emit('payment_intent.succeeded', intent);
		this.recordPayment(invoice, invoicePayment, now);
		if (subscription.status !== 'active' && subscription.status !== 'canceled') this.changeStatus(subscription, 'active');
		return {
			subscription: copy(subscription),
			invoice: copy(invoice),
			invoice_payment: copy(invoicePayment),
			payment_intent: copy(intent),
			charge: copy(charge),
		};
	}

	private subscription(id: string, field = 'subscription'): Stripe.Subscription {
		return this.require('subscription', id, field);
	}

	private changeStatus(subscription: Stripe.Subscription, status: Stripe.Subscription.Status, extra: Record<string, unknown> = {}): void {
		const previous: Record<string, unknown> = { status: subscription.status, ...extra };
		subscription.status = status;
		this.store.emit('customer.subscription.updated', subscription, previous);
	}

	/** Every item's next billing period (the one after its current period end). */
	private advanceItems(subscription: Stripe.Subscription): void {
		for (const item of subscription.items.data) {
			const recurring = item.price.recurring as Stripe.Price.Recurring;
			const start = item.current_period_end;
			item.current_period_start = start;
			item.current_period_end = addInterval(start, recurring.interval, recurring.interval_count);
		}
	}

	/**
	 * Stripe's order at a period boundary: the items' periods move on and latest_invoice names the renewal
	 * invoice (customer.subscription.updated), which is created as a draft (invoice.created).
	 */
	private startNextPeriod(subscription: Stripe.Subscription, customer: Stripe.Customer, status: Stripe.Subscription.Status): Stripe.Invoice {
		const previous: Record<string, unknown> = { items: copy(subscription.items), latest_invoice: subscription.latest_invoice };
		this.advanceItems(subscription);
		const invoice = this.newInvoice(subscription, customer, 'subscription_cycle', true);
		subscription.latest_invoice = invoice.id;
		if (subscription.status !== status) {
			previous.status = subscription.status;
			subscription.status = status;
		}
		this.store.emit('customer.subscription.updated', subscription, previous);
		return this.draftInvoice(invoice);
	}

	/**
	 * The next billing period on every item and its invoice. `collect`: paid (the default: status active again
	 * if it was past_due or unpaid), failed (open with a failed payment, past_due), or draft (Stripe's first
	 * hour: the period moves on and the invoice is a draft, unpaid, the status unchanged; finalizeInvoice
	 * collects it). `paid: false` is the older spelling of `collect: 'failed'`.
	 */
	renewSubscription(id: string, options: RenewOptions = {}): SubscriptionResult {
		const subscription = this.subscription(id);
		if (!['active', 'trialing', 'past_due', 'unpaid'].includes(subscription.status)) {
			throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status}: only active, trialing, past_due or unpaid subscriptions renew`);
		}
		if (subscription.cancel_at_period_end) {
			throw new FakeUsageError(
				'subscription',
				`${subscription.id} cancels at the end of its period: cancelSubscription(id) ends it, or updateSubscription with cancel_at_period_end: false keeps it`,
			);
		}
		if (options.paid !== undefined && typeof options.paid !== 'boolean') throw new FakeUsageError('paid', 'must be true or false');
		const implied: Collect | undefined = options.paid === undefined ? undefined : options.paid ? 'paid' : 'failed';
		const collect = choice(options.collect, 'collect', ['paid', 'failed', 'draft'] as const, implied ?? 'paid');
		if (implied !== undefined && options.collect !== undefined && implied !== collect)
			throw new FakeUsageError('paid', `paid: ${String(options.paid)} contradicts collect: ${collect} (give one)`);
		const latest = subscription.latest_invoice ? this.store.get('invoice', idOf(subscription.latest_invoice) ?? '') : undefined;
		if (latest?.status === 'draft')
			throw new FakeUsageError(
				'subscription',
				`${subscription.id}'s renewal invoice ${latest.id} is still a draft: finalizeInvoice it first (Stripe finalizes it within about an hour)`,
			);
		const customer = this.require('customer', idOf(subscription.customer), 'subscription.customer');
		if (collect === 'draft') {
			// A trial's end is a period boundary too: the subscription is active from it, its invoice still a draft.
			const invoice = this.startNextPeriod(subscription, customer, subscription.status === 'trialing' ? 'active' : subscription.status);
			return { subscription: copy(subscription), invoice: copy(invoice), invoice_payment: null, payment_intent: null, charge: null };
		}
		const previousItems = copy(subscription.items);
		const previousInvoice = subscription.latest_invoice;
		this.advanceItems(subscription);
		const paid = collect === 'paid';
		const invoice = this.issueInvoice(this.newInvoice(subscription, customer, 'subscription_cycle', true), customer);
		subscription.latest_invoice = invoice.id;
		const payment = this.collect(invoice, customer, paid);
		const previous: Record<string, unknown> = { items: previousItems, latest_invoice: previousInvoice };
		const status: Stripe.Subscription.Status = paid ? 'active' : 'past_due';
		if (subscription.status !== status) previous.status = subscription.status;
		if (subscription.status === 'trialing') subscription.trial_end = subscription.trial_end ?? subscription.items.data[0].current_period_start;
		subscription.status = status;
		this.store.emit('customer.subscription.updated', subscription, previous);
		return { subscription: copy(subscription), invoice: copy(invoice), ...payment };
	}

	/**
	 * Finalizes a draft subscription invoice (invoice.finalized) and collects it: paid (payment intent, charge,
	 * invoice payment, invoice.paid; the subscription active) or failed (invoice.payment_failed; past_due).
	 */
	finalizeInvoice(invoiceId: string, options: { collect?: 'paid' | 'failed' } = {}): SubscriptionResult {
		const invoice = this.require('invoice', invoiceId, 'invoice');
		if (invoice.status !== 'draft') throw new FakeUsageError('invoice', `${invoice.id} is ${invoice.status}, not draft (payInvoice pays an open one)`);
		const collect = choice(options?.collect, 'collect', ['paid', 'failed'] as const, 'paid');
		const subscription = this.require(
			'subscription',
			idOf(invoice.parent?.subscription_details?.subscription ?? null),
			'invoice.parent.subscription_details.subscription',
		);
		const customer = this.require('customer', idOf(invoice.customer), 'invoice.customer');
		this.finalize(invoice, customer);
		const payment = this.collect(invoice, customer, collect === 'paid');
		const status: Stripe.Subscription.Status = collect === 'paid' ? 'active' : 'past_due';
		if (subscription.status !== status && subscription.status !== 'canceled') this.changeStatus(subscription, status);
		return { subscription: copy(subscription), invoice: copy(invoice), ...payment };
	}

	/**
	 * Ends a trial now. With a payment method the first paid period starts: customer.subscription.updated
	 * (active, the items' next period), the invoice created, finalized and paid. Without one, as
	 * trial_settings.end_behavior.missing_payment_method says: cancel (customer.subscription.deleted), pause
	 * (status paused, customer.subscription.paused; no invoice) or create_invoice (the period and its invoice
	 * as with a payment method, but the payment fails: invoice.payment_failed, status past_due).
	 */
	endTrial(id: string, options: EndTrialOptions): EndTrialResult {
		const subscription = this.subscription(id);
		if (subscription.status !== 'trialing') throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status}, not trialing`);
		if (typeof options?.payment_method !== 'boolean')
			throw new FakeUsageError('payment_method', 'must be true or false (did the customer give a payment method?)');
		if (options.missing_payment_method !== undefined) {
			subscription.trial_settings = checkTrialSettings({ end_behavior: { missing_payment_method: options.missing_payment_method } }, 'trial_settings') ?? null;
		}
		const customer = this.require('customer', idOf(subscription.customer), 'subscription.customer');
		const behavior = options.payment_method ? null : (subscription.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice');
		const none = { invoice: null, invoice_payment: null, payment_intent: null, charge: null };
		if (behavior === 'cancel') {
			const now = this.store.now();
			subscription.status = 'canceled';
			subscription.canceled_at = now;
			subscription.ended_at = now;
			this.store.emit('customer.subscription.deleted', subscription);
			return { subscription: copy(subscription), ...none };
		}
		if (behavior === 'pause') {
			this.changeStatus(subscription, 'paused');
			this.store.emit('customer.subscription.paused', subscription);
			return { subscription: copy(subscription), ...none };
		}
		const invoice = this.startNextPeriod(subscription, customer, 'active');
		this.finalize(invoice, customer);
		const payment = this.collect(invoice, customer, options.payment_method);
		if (!options.payment_method) this.changeStatus(subscription, 'past_due');
		return { subscription: copy(subscription), invoice: copy(invoice), ...payment };
	}

	/**
	 * Items, metadata and cancel_at_period_end as Stripe's update: items by id (or by price), `deleted: true`
	 * removes; metadata merges, '' unsets; cancel_at_period_end schedules (or unschedules) the end. With
	 * `proration_behavior: 'always_invoice'` the item changes are invoiced at once (billing_reason
	 * subscription_update, proration lines from now to the period end) and paid; latest_invoice names it.
	 */
	updateSubscription(id: string, params: SubscriptionUpdate): Stripe.Subscription {
		const subscription = this.subscription(id);
		if (subscription.status === 'canceled') throw new FakeUsageError('subscription', `${subscription.id} is canceled`);
		const prorationBehavior = choice(
			params?.proration_behavior,
			'proration_behavior',
			['always_invoice', 'create_prorations', 'none'] as const,
			'create_prorations',
		);
		if (prorationBehavior === 'always_invoice' && subscription.status === 'trialing') {
			throw new FakeUsageError('proration_behavior', `${subscription.id} is trialing: a trial's time costs nothing, so there is nothing to prorate`);
		}
		const previous: Record<string, unknown> = {};
		if (params.items !== undefined) {
			if (!Array.isArray(params.items) || params.items.length === 0)
				throw new FakeUsageError('items', 'must be a non-empty list of { id?, price?, quantity?, deleted? }');
			const before = copy(subscription.items);
			const items = subscription.items.data;
			const now = this.store.now();
			const template = items[0];
			params.items.forEach((change, index) => {
				const field = `items[${index}]`;
				const price = change.price === undefined ? undefined : copy(this.require('price', change.price, `${field}.price`));
				if (price && !price.active) throw new FakeUsageError(`${field}.price`, `${price.id} is inactive`);
				if (price && !price.recurring) throw new FakeUsageError(`${field}.price`, `${price.id} is a one-time price`);
				if (
					price &&
					template &&
					`${price.recurring?.interval}/${price.recurring?.interval_count}` !==
						`${template.price.recurring?.interval}/${template.price.recurring?.interval_count}`
				) {
					throw new FakeUsageError(`${field}.price`, `${price.id} bills on a different interval than the subscription`);
				}
				if (price && price.currency !== subscription.currency)
					throw new FakeUsageError(`${field}.price`, `${price.id} is in ${price.currency}, the subscription in ${subscription.currency}`);
				const existing = change.id !== undefined ? items.find((item) => item.id === change.id) : items.find((item) => price && item.price.id === price.id);
				if (change.id !== undefined && !existing) throw new FakeUsageError(`${field}.id`, `${subscription.id} has no item ${change.id}`);
				if (change.deleted) {
					if (!existing) throw new FakeUsageError(`${field}.deleted`, 'names no item to delete (give its id or price)');
					items.splice(items.indexOf(existing), 1);
					return;
				}
				const quantity = change.quantity === undefined ? undefined : positiveInteger(change.quantity, `${field}.quantity`);
				if (existing) {
					if (price) {
						existing.price = price;
						existing.plan = planOf(price);
					}
					if (quantity !== undefined) existing.quantity = quantity;
				} else {
					if (!price) throw new FakeUsageError(`${field}.price`, 'a new item needs a price');
					const period = template
						? { start: template.current_period_start, end: template.current_period_end }
						: { start: now, end: addInterval(now, price.recurring!.interval, price.recurring!.interval_count) };
					items.push(buildSubscriptionItem(now, subscription.id, price, quantity ?? 1, period));
				}
			});
			if (items.length === 0) throw new FakeUsageError('items', 'would leave the subscription without items (cancel it instead)');
			previous.items = before;
		}
		if (params.metadata !== undefined) {
			previous.metadata = { ...subscription.metadata };
			subscription.metadata = mergeMetadata(subscription.metadata, checkMetadata(params.metadata, 'metadata'));
		}
		if (params.cancel_at_period_end !== undefined) {
			if (typeof params.cancel_at_period_end !== 'boolean') throw new FakeUsageError('cancel_at_period_end', 'must be true or false');
			if (params.cancel_at_period_end !== subscription.cancel_at_period_end) {
				previous.cancel_at_period_end = subscription.cancel_at_period_end;
				previous.cancel_at = subscription.cancel_at;
				subscription.cancel_at_period_end = params.cancel_at_period_end;
				subscription.cancel_at = params.cancel_at_period_end ? Math.min(...subscription.items.data.map((item) => item.current_period_end)) : null;
				subscription.cancellation_details = { comment: null, feedback: null, reason: params.cancel_at_period_end ? 'cancellation_requested' : null };
			}
		}
		if (Object.keys(previous).length === 0) throw new FakeUsageError('params', 'give items, metadata or a new cancel_at_period_end to change');
		const before = previous.items as Stripe.ApiList<Stripe.SubscriptionItem> | undefined;
		if (prorationBehavior !== 'always_invoice' || !before) {
			this.store.emit('customer.subscription.updated', subscription, previous);
			return copy(subscription);
		}
		const customer = this.require('customer', idOf(subscription.customer), 'subscription.customer');
		const prorations = this.prorations(subscription, before.data, subscription.items.data);
		if (prorations.length === 0) {
			this.store.emit('customer.subscription.updated', subscription, previous);
			return copy(subscription);
		}
		const now = this.store.now();
		const invoice = this.newInvoice(subscription, customer, 'subscription_update', true, (invoiceId) =>
			prorations.map(({ item, amount, proration }) =>
				buildInvoiceLine(invoiceId, subscription, item, amount, { start: now, end: item.current_period_end }, proration),
			),
		);
		invoice.period_start = now;
		invoice.period_end = now;
		previous.latest_invoice = subscription.latest_invoice;
		subscription.latest_invoice = invoice.id;
		this.store.emit('customer.subscription.updated', subscription, previous);
		this.issueInvoice(invoice, customer);
		this.collect(invoice, customer, true);
		return copy(subscription);
	}

	/**
	 * Stripe's proration of an item change for the rest of the period: the unused time of what was (a
	 * credit, naming the line that billed it) and the remaining time of what is.
	 */
	private prorations(
		subscription: Stripe.Subscription,
		before: Stripe.SubscriptionItem[],
		after: Stripe.SubscriptionItem[],
	): { item: Stripe.SubscriptionItem; amount: number; proration: ProrationInput }[] {
		const now = this.store.now();
		const name = (item: Stripe.SubscriptionItem): string =>
			`${item.quantity ?? 1} × ${this.store.get('product', idOf(item.price.product) ?? '')?.name ?? item.price.id}`;
		const share = (item: Stripe.SubscriptionItem, sign: 1 | -1): number => {
			const length = item.current_period_end - item.current_period_start;
			const left = Math.min(Math.max(item.current_period_end - now, 0), length);
			return length <= 0 ? 0 : sign * Math.round(((item.price.unit_amount ?? 0) * (item.quantity ?? 1) * left) / length);
		};
		const billed = (item: Stripe.SubscriptionItem): ProrationInput['credited'] => {
			const invoices = this.store.all('invoice').filter((invoice) => invoice.parent?.subscription_details?.subscription === subscription.id);
			for (let i = invoices.length - 1; i >= 0; i--) {
				const line = invoices[i].lines.data.find(
					(candidate) => candidate.parent?.subscription_item_details?.subscription_item === item.id && !candidate.parent.subscription_item_details.proration,
				);
				if (line) return { invoice: invoices[i].id, invoice_line_items: [line.id] };
			}
			return null;
		};
		const result: { item: Stripe.SubscriptionItem; amount: number; proration: ProrationInput }[] = [];
		for (const old of before) {
			const current = after.find((item) => item.id === old.id);
			if (current && current.price.id === old.price.id && current.quantity === old.quantity) continue;
			const credit = share(old, -1);
			if (credit !== 0)
				result.push({ item: old, amount: credit, proration: { description: `Unused time on ${name(old)} after ${day(now)}`, credited: billed(old) } });
		}
		for (const current of after) {
			const old = before.find((item) => item.id === current.id);
			if (old && current.price.id === old.price.id && current.quantity === old.quantity) continue;
			const charge = share(current, 1);
			if (charge !== 0)
				result.push({ item: current, amount: charge, proration: { description: `Remaining time on ${name(current)} after ${day(now)}`, credited: null } });
		}
		return result;
	}

	setSubscriptionStatus(id: string, status: Stripe.Subscription.Status): Stripe.Subscription {
		const subscription = this.subscription(id);
		if (!SUBSCRIPTION_STATUSES.includes(status)) throw new FakeUsageError('status', `must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`);
		if (status === 'canceled') return this.cancelSubscription(id);
		if (subscription.status === 'canceled')
			throw new FakeUsageError('subscription', `${subscription.id} is canceled: a canceled subscription stays canceled (as Stripe)`);
		if (subscription.status === status) throw new FakeUsageError('status', `${subscription.id} is ${status} already`);
		this.changeStatus(subscription, status);
		return copy(subscription);
	}

	pauseSubscription(id: string): Stripe.Subscription {
		const subscription = this.subscription(id);
		if (!['active', 'trialing', 'past_due', 'unpaid'].includes(subscription.status))
			throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status} and cannot be paused`);
		this.changeStatus(subscription, 'paused');
		this.store.emit('customer.subscription.paused', subscription);
		return copy(subscription);
	}

	resumeSubscription(id: string): Stripe.Subscription {
		const subscription = this.subscription(id);
		if (subscription.status !== 'paused') throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status}, not paused`);
		this.changeStatus(subscription, 'active');
		this.store.emit('customer.subscription.resumed', subscription);
		return copy(subscription);
	}

	/** Ends the subscription now (customer.subscription.deleted), or with `at_period_end` schedules its end (updated). */
	cancelSubscription(id: string, options: { at_period_end?: boolean } = {}): Stripe.Subscription {
		const subscription = this.subscription(id);
		if (subscription.status === 'canceled') throw new FakeUsageError('subscription', `${subscription.id} is canceled already`);
		if (options.at_period_end) return this.updateSubscription(id, { cancel_at_period_end: true });
		const reason = subscription.cancellation_details?.reason ?? 'cancellation_requested';
		const now = this.store.now();
		subscription.status = 'canceled';
		subscription.canceled_at = now;
		subscription.ended_at = now;
		subscription.cancellation_details = { comment: null, feedback: null, reason };
		this.store.emit('customer.subscription.deleted', subscription);
		return copy(subscription);
	}

	private chargeOf(paymentIntentId: unknown): { intent: Stripe.PaymentIntent; charge: Stripe.Charge } {
		const intent = this.require('payment_intent', paymentIntentId, 'payment_intent');
		const charge = this.require('charge', idOf(intent.latest_charge), 'payment_intent.latest_charge');
		if (charge.status !== 'succeeded') throw new FakeUsageError('payment_intent', `${intent.id}'s charge is ${charge.status}, not succeeded`);
		if (!charge.captured)
			throw new FakeUsageError('payment_intent', `${intent.id} is authorized, not captured: capturePayment takes the money, cancelPaymentIntent releases it`);
		return { intent, charge };
	}

	/** Refunds the payment's charge, in full unless `amount` is given; `status: 'pending'` as a card refund Stripe holds. */
	refund(params: RefundParams): Stripe.Refund {
		const { charge } = this.chargeOf(params?.payment_intent);
		const remaining = charge.amount - charge.amount_refunded;
		if (remaining === 0) throw new FakeUsageError('payment_intent', `${charge.id} is refunded in full already`);
		const amount = params.amount === undefined ? remaining : positiveInteger(params.amount, 'amount');
		if (params.reason !== undefined && !REFUND_REASONS.includes(params.reason))
			throw new FakeUsageError('reason', `must be one of ${REFUND_REASONS.join(', ')}`);
		const status = choice(params.status, 'status', ['succeeded', 'pending'] as const, 'succeeded');
		if (amount > remaining) throw new FakeUsageError('amount', `${amount} is more than the ${remaining} left to refund on ${charge.id}`);
		const refund = buildRefund(this.store.now(), charge, amount, params.reason ?? 'requested_by_customer', status);
		this.store.add('refund', refund);
		const previous: Record<string, unknown> = { amount_refunded: charge.amount_refunded };
		charge.amount_refunded += amount;
		if (charge.amount_refunded === charge.amount) {
			previous.refunded = false;
			charge.refunded = true;
		}
		this.store.emit('charge.refunded', charge, previous);
		this.store.emit('refund.created', refund);
		return copy(refund);
	}

	/**
	 * A refund that did not reach the customer: `failed` (a pending or succeeded card refund the issuer
	 * returned; `failure_reason`) or `canceled` (a pending one). The money goes back to the merchant: the
	 * charge's amount_refunded no longer counts it (and `refunded` is false again). Records
	 * charge.refund.updated and refund.updated (the refund), then refund.failed for a failure.
	 */
	failRefund(refundId: string, outcome: 'failed' | 'canceled', failureReason = 'expired_or_canceled_card'): Stripe.Refund {
		const refund = this.require('refund', refundId, 'refund');
		if (outcome !== 'failed' && outcome !== 'canceled') throw new FakeUsageError('outcome', 'must be failed or canceled');
		if (refund.status !== 'pending' && refund.status !== 'succeeded') throw new FakeUsageError('refund', `${refund.id} is ${refund.status} already`);
		if (outcome === 'canceled' && refund.status !== 'pending')
			throw new FakeUsageError('outcome', `${refund.id} is ${refund.status}: only a pending refund can be canceled (a succeeded one can still fail)`);
		if (outcome === 'failed' && !REFUND_FAILURE_REASONS.includes(failureReason))
			throw new FakeUsageError('failure_reason', `must be one of ${REFUND_FAILURE_REASONS.join(', ')}`);
		const charge = this.require('charge', idOf(refund.charge), 'refund.charge');
		const previous = { status: refund.status };
		refund.status = outcome;
		if (outcome === 'failed') refund.failure_reason = failureReason;
		delete refund.pending_reason;
		charge.amount_refunded -= refund.amount;
		charge.refunded = false;
		this.store.emit('charge.refund.updated', refund, previous);
		this.store.emit('refund.updated', refund, previous);
		if (outcome === 'failed') this.store.emit('refund.failed', refund);
		return copy(refund);
	}

	/**
	 * A chargeback (needs_response: charge.dispute.created, then charge.dispute.funds_withdrawn) or, with
	 * `inquiry`, an inquiry (warning_needs_response: created only, no funds withdrawn, still refundable).
	 */
	dispute(params: DisputeParams): Stripe.Dispute {
		const { charge } = this.chargeOf(params?.payment_intent);
		if (params.reason !== undefined && !DISPUTE_REASONS.includes(params.reason))
			throw new FakeUsageError('reason', `must be one of Stripe's dispute reasons (${DISPUTE_REASONS.join(', ')})`);
		if (params.inquiry !== undefined && typeof params.inquiry !== 'boolean') throw new FakeUsageError('inquiry', 'must be true or false');
		if (this.store.all('dispute').some((dispute) => dispute.charge === charge.id))
			throw new FakeUsageError('payment_intent', `${charge.id} is disputed already (one dispute per charge)`);
		const dispute = buildDispute(this.store.now(), charge, params.reason ?? 'fraudulent', params.inquiry ? 'warning_needs_response' : 'needs_response');
		this.store.add('dispute', dispute);
		charge.disputed = true;
		this.store.emit('charge.dispute.created', dispute);
		if (!params.inquiry) this.store.emit('charge.dispute.funds_withdrawn', dispute);
		return copy(dispute);
	}

	/**
	 * A dispute's in-between statuses (charge.dispute.updated): evidence under review (`warning_under_review`
	 * for an inquiry, `under_review` for a chargeback), or an inquiry escalated into a chargeback on the same
	 * dispute (`needs_response`: the funds are withdrawn then, charge.dispute.funds_withdrawn).
	 */
	updateDispute(disputeId: string, status: 'warning_under_review' | 'under_review' | 'needs_response'): Stripe.Dispute {
		const dispute = this.require('dispute', disputeId, 'dispute');
		const from: Record<string, readonly string[]> = {
			warning_under_review: ['warning_needs_response'],
			under_review: ['needs_response'],
			needs_response: ['warning_needs_response', 'warning_under_review'],
		};
		if (!(status in from)) throw new FakeUsageError('status', 'must be warning_under_review, under_review or needs_response (closeDispute closes)');
		if (!from[status].includes(dispute.status))
			throw new FakeUsageError('status', `${dispute.id} is ${dispute.status}: ${status} follows ${from[status].join(' or ')}`);
		const previous: Record<string, unknown> = { status: dispute.status };
		dispute.status = status;
		if (status === 'needs_response') {
			previous.is_charge_refundable = dispute.is_charge_refundable;
			dispute.is_charge_refundable = false;
		} else {
			previous.evidence_details = copy(dispute.evidence_details);
			dispute.evidence_details.has_evidence = true;
			dispute.evidence_details.submission_count += 1;
		}
		this.store.emit('charge.dispute.updated', dispute, previous);
		if (status === 'needs_response') this.store.emit('charge.dispute.funds_withdrawn', dispute);
		return copy(dispute);
	}

	/** Closes a chargeback won (funds reinstated) or lost, or an inquiry as warning_closed: charge.dispute.closed. */
	closeDispute(disputeId: string, outcome: DisputeOutcome): Stripe.Dispute {
		const dispute = this.require('dispute', disputeId, 'dispute');
		if (outcome !== 'won' && outcome !== 'lost' && outcome !== 'warning_closed')
			throw new FakeUsageError('outcome', 'must be won or lost (a chargeback) or warning_closed (an inquiry)');
		if (['won', 'lost', 'warning_closed', 'prevented'].includes(dispute.status))
			throw new FakeUsageError('dispute', `${dispute.id} is closed already (${dispute.status})`);
		const inquiry = dispute.status.startsWith('warning_');
		if (inquiry && outcome !== 'warning_closed') {
			throw new FakeUsageError(
				'outcome',
				`${dispute.id} is an inquiry (${dispute.status}): it closes as warning_closed, or escalates first (updateDispute(id, 'needs_response'))`,
			);
		}
		if (!inquiry && outcome === 'warning_closed')
			throw new FakeUsageError('outcome', `${dispute.id} is a chargeback (${dispute.status}): it closes won or lost`);
		const previous = { status: dispute.status };
		dispute.status = outcome;
		if (!inquiry) dispute.is_charge_refundable = false;
		this.store.emit('charge.dispute.closed', dispute, previous);
		if (outcome === 'won') this.store.emit('charge.dispute.funds_reinstated', dispute);
		return copy(dispute);
	}

	advanceClock(seconds: number): number {
		if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0)
			throw new FakeUsageError('seconds', 'must be a whole number of seconds, 0 or more (the clock only moves forward)');
		this.store.offsetMs += seconds * 1000;
		return this.store.now();
	}
}
