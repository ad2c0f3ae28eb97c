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
}

export interface SubscriptionParams {
  customer: string;
  items: LineInput[];
  metadata?: Stripe.MetadataParam;
  /** active (the default: first invoice paid), trialing (a free first period), incomplete (first payment pending: see payInvoice). */
  status?: 'active' | 'trialing' | 'incomplete';
  /** trialing only; 14 when omitted. */
  trial_period_days?: number;
}

export interface CheckoutSubscriptionParams {
  customer: string;
  items: LineInput[];
  /** The session's metadata. */
  metadata?: Stripe.MetadataParam;
  /** As Stripe: the subscription's metadata is set here, not from the session's. */
  subscription_data?: { metadata?: Stripe.MetadataParam; trial_period_days?: number };
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
}

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
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new FakeUsageError(field, `must be a positive integer, got ${JSON.stringify(value)}`);
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
        throw new FakeUsageError(`${field}[${index}].price`, recurring ? `${price.id} is a one-time price; a subscription needs recurring prices` : `${price.id} is recurring; mode payment takes one-time prices only (as Stripe)`);
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
    if (!['paid', 'unpaid', 'no_payment_required'].includes(paymentStatus)) throw new FakeUsageError('payment_status', 'must be paid, unpaid or no_payment_required');
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
        status: paymentStatus === 'paid' ? 'succeeded' : 'processing',
        paymentMethod: newId('payment_method'),
      });
      charge = buildCharge(now, intent, customer, paymentStatus === 'paid' ? 'succeeded' : 'pending');
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
      paymentStatus,
      paymentIntent: intent?.id ?? null,
      subscription: null,
      invoice: null,
    });
    session.amount_subtotal = subtotal;
    if (free && session.total_details) session.total_details.amount_discount = subtotal;
    this.store.add('checkout.session', session);
    this.store.lineItems.set(session.id, items);
    if (intent && charge) {
      if (paymentStatus === 'paid') {
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

  private settleCharge(intent: Stripe.PaymentIntent, charge: Stripe.Charge, outcome: 'succeeded' | 'failed'): void {
    charge.status = outcome;
    if (outcome === 'succeeded') {
      charge.paid = true;
      charge.captured = true;
      charge.amount_captured = charge.amount;
      charge.outcome = { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null, risk_level: 'normal', risk_score: 20, seller_message: 'Payment complete.', type: 'authorized' };
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
      this.store.emit('charge.succeeded', charge);
      this.store.emit('payment_intent.succeeded', intent);
    } else {
      charge.failure_code = 'insufficient_funds';
      charge.failure_message = 'The account has insufficient funds.';
      intent.status = 'requires_payment_method';
      intent.last_payment_error = { type: 'card_error', code: 'insufficient_funds', message: 'The account has insufficient funds.', charge: charge.id } as Stripe.PaymentIntent.LastPaymentError;
      this.store.emit('charge.failed', charge);
      this.store.emit('payment_intent.payment_failed', intent);
    }
  }

  createSubscription(params: SubscriptionParams): SubscriptionResult {
    return this.subscribe(params.customer, params.items, checkMetadata(params.metadata, 'metadata'), params.status ?? 'active', params.trial_period_days, false);
  }

  checkoutSubscription(params: CheckoutSubscriptionParams): CheckoutSubscriptionResult {
    const customer = this.require('customer', params?.customer, 'customer');
    const metadata = checkMetadata(params.metadata, 'metadata');
    const trialDays = params.subscription_data?.trial_period_days;
    const lines = this.lines(params.items, 'items', true);
    const result = this.subscribe(customer.id, params.items, checkMetadata(params.subscription_data?.metadata, 'subscription_data.metadata'), trialDays ? 'trialing' : 'active', trialDays, true);
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
  private subscribe(customerId: string, itemsInput: LineInput[], metadata: Stripe.Metadata, status: string, trialDays: number | undefined, viaCheckout: boolean): SubscriptionResult {
    const customer = this.require('customer', customerId, 'customer');
    if (!['active', 'trialing', 'incomplete'].includes(status)) throw new FakeUsageError('status', 'must be active, trialing or incomplete (later states come from setSubscriptionStatus, pause, cancel)');
    const lines = this.lines(itemsInput, 'items', true);
    const now = this.store.now();
    const recurring = lines[0].price.recurring as Stripe.Price.Recurring;
    const trial: Period | null =
      status === 'trialing' ? { start: now, end: now + positiveInteger(trialDays, 'trial_period_days', 14) * 86400 } : null;
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
    const invoice = this.newInvoice(subscription, customer, 'subscription_create', status !== 'trialing');
    subscription.latest_invoice = invoice.id;
    this.store.add('subscription', subscription);
    this.store.emit('customer.subscription.created', subscription);
    this.issueInvoice(invoice);
    const payment = this.collect(invoice, customer, status !== 'incomplete');
    if (subscription.status !== status) this.changeStatus(subscription, status as Stripe.Subscription.Status);
    return { subscription: copy(subscription), invoice: copy(invoice), ...payment };
  }

  /** An invoice for the subscription's current items and periods, numbered in the customer's sequence; not stored yet. */
  private newInvoice(subscription: Stripe.Subscription, customer: Stripe.Customer, reason: Stripe.Invoice.BillingReason, charged: boolean): Stripe.Invoice {
    const sequence = customer.next_invoice_sequence ?? 1;
    customer.next_invoice_sequence = sequence + 1;
    return buildSubscriptionInvoice(this.store.now(), {
      subscription,
      customer,
      billingReason: reason,
      charged,
      number: `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`,
    });
  }

  /** Stores the invoice and records it created (a draft), then finalized (open). */
  private issueInvoice(invoice: Stripe.Invoice): Stripe.Invoice {
    const number = invoice.number;
    invoice.status = 'draft';
    invoice.number = null;
    invoice.status_transitions.finalized_at = null;
    this.store.add('invoice', invoice);
    this.store.emit('invoice.created', invoice);
    invoice.status = 'open';
    invoice.number = number;
    invoice.status_transitions.finalized_at = this.store.now();
    this.store.emit('invoice.finalized', invoice);
    return invoice;
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
    const subscription = this.require('subscription', idOf(invoice.parent?.subscription_details?.subscription ?? null), 'invoice.parent.subscription_details.subscription');
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
    return { subscription: copy(subscription), invoice: copy(invoice), invoice_payment: copy(invoicePayment), payment_intent: copy(intent), charge: copy(charge) };
  }

  private subscription(id: string, field = 'subscription'): Stripe.Subscription {
    return this.require('subscription', id, field);
  }

  private changeStatus(subscription: Stripe.Subscription, status: Stripe.Subscription.Status, extra: Record<string, unknown> = {}): void {
    const previous: Record<string, unknown> = { status: subscription.status, ...extra };
    subscription.status = status;
    this.store.emit('customer.subscription.updated', subscription, previous);
  }

  /**
   * The next billing period on every item and its invoice: paid (the default: status active again if it was
   * past_due or unpaid) or, with `paid: false`, open with a failed payment and the subscription past_due.
   */
  renewSubscription(id: string, options: { paid?: boolean } = {}): SubscriptionResult {
    const subscription = this.subscription(id);
    if (!['active', 'trialing', 'past_due', 'unpaid'].includes(subscription.status)) {
      throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status}: only active, trialing, past_due or unpaid subscriptions renew`);
    }
    if (subscription.cancel_at_period_end) {
      throw new FakeUsageError('subscription', `${subscription.id} cancels at the end of its period: cancelSubscription(id) ends it, or updateSubscription with cancel_at_period_end: false keeps it`);
    }
    const customer = this.require('customer', idOf(subscription.customer), 'subscription.customer');
    const previousItems = copy(subscription.items);
    const previousInvoice = subscription.latest_invoice;
    for (const item of subscription.items.data) {
      const recurring = item.price.recurring as Stripe.Price.Recurring;
      const start = item.current_period_end;
      item.current_period_start = start;
      item.current_period_end = addInterval(start, recurring.interval, recurring.interval_count);
    }
    const paid = options.paid ?? true;
    const invoice = this.issueInvoice(this.newInvoice(subscription, customer, 'subscription_cycle', true));
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
   * Items, metadata and cancel_at_period_end as Stripe's update: items by id (or by price), `deleted: true`
   * removes; metadata merges, '' unsets; cancel_at_period_end schedules (or unschedules) the end.
   */
  updateSubscription(id: string, params: SubscriptionUpdate): Stripe.Subscription {
    const subscription = this.subscription(id);
    if (subscription.status === 'canceled') throw new FakeUsageError('subscription', `${subscription.id} is canceled`);
    const previous: Record<string, unknown> = {};
    if (params.items !== undefined) {
      if (!Array.isArray(params.items) || params.items.length === 0) throw new FakeUsageError('items', 'must be a non-empty list of { id?, price?, quantity?, deleted? }');
      const before = copy(subscription.items);
      const items = subscription.items.data;
      const now = this.store.now();
      const template = items[0];
      params.items.forEach((change, index) => {
        const field = `items[${index}]`;
        const price = change.price === undefined ? undefined : copy(this.require('price', change.price, `${field}.price`));
        if (price && !price.active) throw new FakeUsageError(`${field}.price`, `${price.id} is inactive`);
        if (price && !price.recurring) throw new FakeUsageError(`${field}.price`, `${price.id} is a one-time price`);
        if (price && template && `${price.recurring?.interval}/${price.recurring?.interval_count}` !== `${template.price.recurring?.interval}/${template.price.recurring?.interval_count}`) {
          throw new FakeUsageError(`${field}.price`, `${price.id} bills on a different interval than the subscription`);
        }
        if (price && price.currency !== subscription.currency) throw new FakeUsageError(`${field}.price`, `${price.id} is in ${price.currency}, the subscription in ${subscription.currency}`);
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
          const period = template ? { start: template.current_period_start, end: template.current_period_end } : { start: now, end: addInterval(now, price.recurring!.interval, price.recurring!.interval_count) };
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
    this.store.emit('customer.subscription.updated', subscription, previous);
    return copy(subscription);
  }

  setSubscriptionStatus(id: string, status: Stripe.Subscription.Status): Stripe.Subscription {
    const subscription = this.subscription(id);
    if (!SUBSCRIPTION_STATUSES.includes(status)) throw new FakeUsageError('status', `must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`);
    if (status === 'canceled') return this.cancelSubscription(id);
    if (subscription.status === 'canceled') throw new FakeUsageError('subscription', `${subscription.id} is canceled: a canceled subscription stays canceled (as Stripe)`);
    if (subscription.status === status) throw new FakeUsageError('status', `${subscription.id} is ${status} already`);
    this.changeStatus(subscription, status);
    return copy(subscription);
  }

  pauseSubscription(id: string): Stripe.Subscription {
    const subscription = this.subscription(id);
    if (!['active', 'trialing', 'past_due', 'unpaid'].includes(subscription.status)) throw new FakeUsageError('subscription', `${subscription.id} is ${subscription.status} and cannot be paused`);
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
    return { intent, charge };
  }

  /** Refunds the payment's charge, in full unless `amount` is given. */
  refund(params: { payment_intent: string; amount?: number; reason?: Stripe.Refund.Reason }): Stripe.Refund {
    const { charge } = this.chargeOf(params?.payment_intent);
    const remaining = charge.amount - charge.amount_refunded;
    if (remaining === 0) throw new FakeUsageError('payment_intent', `${charge.id} is refunded in full already`);
    const amount = params.amount === undefined ? remaining : positiveInteger(params.amount, 'amount');
    if (params.reason !== undefined && !REFUND_REASONS.includes(params.reason)) throw new FakeUsageError('reason', `must be one of ${REFUND_REASONS.join(', ')}`);
    if (amount > remaining) throw new FakeUsageError('amount', `${amount} is more than the ${remaining} left to refund on ${charge.id}`);
    const refund = buildRefund(this.store.now(), charge, amount, params.reason ?? 'requested_by_customer');
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

  dispute(params: { payment_intent: string; reason?: string }): Stripe.Dispute {
    const { charge } = this.chargeOf(params?.payment_intent);
    if (params.reason !== undefined && !DISPUTE_REASONS.includes(params.reason)) throw new FakeUsageError('reason', `must be one of Stripe's dispute reasons (${DISPUTE_REASONS.join(', ')})`);
    if (this.store.all('dispute').some((dispute) => dispute.charge === charge.id)) throw new FakeUsageError('payment_intent', `${charge.id} is disputed already (one dispute per charge)`);
    const dispute = buildDispute(this.store.now(), charge, params.reason ?? 'fraudulent');
    this.store.add('dispute', dispute);
    charge.disputed = true;
    this.store.emit('charge.dispute.created', dispute);
    return copy(dispute);
  }

  closeDispute(disputeId: string, outcome: 'won' | 'lost'): Stripe.Dispute {
    const dispute = this.require('dispute', disputeId, 'dispute');
    if (outcome !== 'won' && outcome !== 'lost') throw new FakeUsageError('outcome', 'must be won or lost');
    if (dispute.status === 'won' || dispute.status === 'lost') throw new FakeUsageError('dispute', `${dispute.id} is closed already (${dispute.status})`);
    const previous = { status: dispute.status };
    dispute.status = outcome;
    dispute.is_charge_refundable = false;
    this.store.emit('charge.dispute.closed', dispute, previous);
    if (outcome === 'won') this.store.emit('charge.dispute.funds_reinstated', dispute);
    return copy(dispute);
  }

  advanceClock(seconds: number): number {
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) throw new FakeUsageError('seconds', 'must be a whole number of seconds, 0 or more (the clock only moves forward)');
    this.store.offsetMs += seconds * 1000;
    return this.store.now();
  }
}

