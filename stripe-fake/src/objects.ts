/**
 * Builders of Stripe objects in API version 2026-02-25.clover, modelled on Stripe's published examples
 * (stripe/openapi fixtures3.json) and typed against stripe-node's declarations so that the shapes stay honest.
 * They only build; scenarios.ts decides when and how objects change.
 */
import type Stripe from 'stripe';
import { newId } from './ids';

const NO_AUTOMATIC_TAX = { enabled: false, liability: null, disabled_reason: null } as const;

export function listOf<T>(data: T[], url: string): Stripe.ApiList<T> {
	return { object: 'list', data, has_more: false, url };
}

export function buildCustomer(created: number, email: string, name: string | null, metadata: Stripe.Metadata): Stripe.Customer {
	return {
		id: newId('customer'),
		object: 'customer',
		address: null,
		balance: 0,
		created,
		currency: null,
		default_source: null,
		delinquent: false,
		description: null,
		discount: null,
		email,
		invoice_prefix: newId('customer').slice(4, 12).toUpperCase(),
		invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
		livemode: false,
		metadata,
		name,
		next_invoice_sequence: 1,
		phone: null,
		preferred_locales: [],
		shipping: null,
		tax_exempt: 'none',
		test_clock: null,
	};
}

export function buildProduct(created: number, name: string, metadata: Stripe.Metadata): Stripe.Product {
	return {
		id: newId('product'),
		object: 'product',
		active: true,
		created,
		default_price: null,
		description: null,
		images: [],
		livemode: false,
		marketing_features: [],
		metadata,
		name,
		package_dimensions: null,
		shippable: null,
		statement_descriptor: null,
		tax_code: null,
		type: 'service',
		unit_label: null,
		updated: created,
		url: null,
	};
}

export interface PriceInput {
	id?: string;
	unit_amount: number;
	currency: string;
	recurring: { interval: Stripe.Price.Recurring.Interval; interval_count: number } | null;
	lookup_key: string | null;
	metadata: Stripe.Metadata;
	nickname: string | null;
}

export function buildPrice(created: number, product: string, input: PriceInput): Stripe.Price {
	return {
		id: input.id ?? newId('price'),
		object: 'price',
		active: true,
		billing_scheme: 'per_unit',
		created,
		currency: input.currency,
		custom_unit_amount: null,
		livemode: false,
		lookup_key: input.lookup_key,
		metadata: input.metadata,
		nickname: input.nickname,
		product,
		recurring: input.recurring && { ...input.recurring, meter: null, trial_period_days: null, usage_type: 'licensed' },
		tax_behavior: 'unspecified',
		tiers_mode: null,
		transform_quantity: null,
		type: input.recurring ? 'recurring' : 'one_time',
		unit_amount: input.unit_amount,
		unit_amount_decimal: String(input.unit_amount),
	};
}

/** The legacy Plan that Stripe still mirrors on every subscription item of a recurring price. */
export function planOf(price: Stripe.Price): Stripe.Plan {
	const recurring = price.recurring;
	if (!recurring) throw new Error(`stripe-fake: ${price.id} is not recurring`);
	return {
		id: price.id,
		object: 'plan',
		active: price.active,
		amount: price.unit_amount,
		amount_decimal: price.unit_amount_decimal,
		billing_scheme: 'per_unit',
		created: price.created,
		currency: price.currency,
		interval: recurring.interval,
		interval_count: recurring.interval_count,
		livemode: false,
		metadata: price.metadata,
		meter: null,
		nickname: price.nickname,
		product: typeof price.product === 'string' ? price.product : price.product.id,
		tiers_mode: null,
		transform_usage: null,
		trial_period_days: null,
		usage_type: 'licensed',
	};
}

export function buildLineItem(price: Stripe.Price, quantity: number, description: string): Stripe.LineItem {
	const amount = (price.unit_amount ?? 0) * quantity;
	return {
		id: newId('line_item'),
		object: 'item',
		adjustable_quantity: null,
		amount_discount: 0,
		amount_subtotal: amount,
		amount_tax: 0,
		amount_total: amount,
		currency: price.currency,
		description,
		metadata: {},
		price,
		quantity,
	};
}

export interface SessionInput {
	mode: Stripe.Checkout.Session.Mode;
	customer: Stripe.Customer;
	amount: number;
	currency: string;
	metadata: Stripe.Metadata;
	paymentStatus: Stripe.Checkout.Session.PaymentStatus;
	paymentIntent: string | null;
	subscription: string | null;
	invoice: string | null;
}

export function buildCheckoutSession(created: number, input: SessionInput): Stripe.Checkout.Session {
	return {
		id: newId('checkout.session'),
		object: 'checkout.session',
		adaptive_pricing: { enabled: false },
		after_expiration: null,
		allow_promotion_codes: null,
		amount_subtotal: input.amount,
		amount_total: input.amount,
		automatic_tax: { ...NO_AUTOMATIC_TAX, provider: null, status: null },
		billing_address_collection: null,
		cancel_url: null,
		client_reference_id: null,
		client_secret: null,
		collected_information: null,
		consent: null,
		consent_collection: null,
		created,
		currency: input.currency,
		currency_conversion: null,
		custom_fields: [],
		custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
		customer: input.customer.id,
		customer_account: null,
		customer_creation: null,
		customer_details: {
			address: null,
			business_name: null,
			email: input.customer.email,
			individual_name: null,
			name: input.customer.name ?? null,
			phone: null,
			tax_exempt: 'none',
			tax_ids: [],
		},
		customer_email: null,
		discounts: [],
		expires_at: created + 24 * 3600,
		invoice: input.invoice,
		invoice_creation: input.mode === 'payment' ? { enabled: false, invoice_data: emptyInvoiceData() } : null,
		livemode: false,
		locale: null,
		metadata: input.metadata,
		mode: input.mode,
		origin_context: null,
		payment_intent: input.paymentIntent,
		payment_link: null,
		payment_method_collection: input.mode === 'subscription' ? 'always' : 'if_required',
		payment_method_configuration_details: null,
		payment_method_options: {},
		payment_method_types: ['card'],
		payment_status: input.paymentStatus,
		permissions: null,
		recovered_from: null,
		saved_payment_method_options: null,
		setup_intent: null,
		shipping_address_collection: null,
		shipping_cost: null,
		shipping_options: [],
		status: 'complete',
		submit_type: null,
		subscription: input.subscription,
		success_url: 'https://example.com/success',
		total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
		ui_mode: 'hosted',
		url: null,
		wallet_options: null,
	};
}

function emptyInvoiceData(): Stripe.Checkout.Session.InvoiceCreation.InvoiceData {
	return { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null };
}

export interface PaymentIntentInput {
	amount: number;
	currency: string;
	customer: string;
	description: string | null;
	metadata: Stripe.Metadata;
	status: Stripe.PaymentIntent.Status;
	paymentMethod: string | null;
	/** manual: authorized only (`requires_capture`) until captured. Default automatic. */
	captureMethod?: Stripe.PaymentIntent.CaptureMethod;
}

export function buildPaymentIntent(created: number, input: PaymentIntentInput): Stripe.PaymentIntent {
	const id = newId('payment_intent');
	return {
		id,
		object: 'payment_intent',
		amount: input.amount,
		amount_capturable: input.status === 'requires_capture' ? input.amount : 0,
		amount_details: { tip: {} },
		amount_received: input.status === 'succeeded' ? input.amount : 0,
		application: null,
		application_fee_amount: null,
		automatic_payment_methods: null,
		canceled_at: null,
		cancellation_reason: null,
		capture_method: input.captureMethod ?? 'automatic',
		client_secret: `${id}_secret_${newId('payment_intent').slice(3, 28)}`,
		confirmation_method: 'automatic',
		created,
		currency: input.currency,
		customer: input.customer,
		customer_account: null,
		description: input.description,
		excluded_payment_method_types: null,
		last_payment_error: null,
		latest_charge: null,
		livemode: false,
		metadata: input.metadata,
		next_action: null,
		on_behalf_of: null,
		payment_method: input.paymentMethod,
		payment_method_configuration_details: null,
		payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
		payment_method_types: ['card'],
		processing: null,
		receipt_email: null,
		review: null,
		setup_future_usage: null,
		shipping: null,
		source: null,
		statement_descriptor: null,
		statement_descriptor_suffix: null,
		status: input.status,
		transfer_data: null,
		transfer_group: null,
	};
}

/** `captured: false` with status succeeded is an authorization that a capture (or a cancel) settles. */
export function buildCharge(
	created: number,
	intent: Stripe.PaymentIntent,
	customer: Stripe.Customer,
	status: Stripe.Charge.Status,
	captured = true,
): Stripe.Charge {
	const paid = status === 'succeeded';
	return {
		id: newId('charge'),
		object: 'charge',
		amount: intent.amount,
		amount_captured: paid && captured ? intent.amount : 0,
		amount_refunded: 0,
		application: null,
		application_fee: null,
		application_fee_amount: null,
		balance_transaction: null,
		billing_details: { address: null, email: customer.email, name: customer.name ?? null, phone: null, tax_id: null },
		calculated_statement_descriptor: 'KEYCRATE',
		captured: paid && captured,
		created,
		currency: intent.currency,
		customer: customer.id,
		description: intent.description,
		disputed: false,
		failure_balance_transaction: null,
		failure_code: null,
		failure_message: null,
		fraud_details: {},
		livemode: false,
		metadata: {},
		on_behalf_of: null,
		outcome: paid
			? {
					advice_code: null,
					network_advice_code: null,
					network_decline_code: null,
					network_status: 'approved_by_network',
					reason: null,
					risk_level: 'normal',
					risk_score: 32,
					seller_message: 'Payment complete.',
					type: 'authorized',
				}
			: null,
		paid,
		payment_intent: intent.id,
		payment_method: typeof intent.payment_method === 'string' ? intent.payment_method : null,
		payment_method_details: null,
		receipt_email: null,
		receipt_number: null,
		receipt_url: null,
		refunded: false,
		review: null,
		shipping: null,
		source: null,
		source_transfer: null,
		statement_descriptor: null,
		statement_descriptor_suffix: null,
		status,
		transfer_data: null,
		transfer_group: null,
	};
}

/** A card refund: succeeded, or pending (Stripe holds a card refund as pending while the balance cannot cover it). */
export function buildRefund(
	created: number,
	charge: Stripe.Charge,
	amount: number,
	reason: Stripe.Refund.Reason | null,
	status: 'succeeded' | 'pending' = 'succeeded',
): Stripe.Refund {
	const refund: Stripe.Refund = {
		id: newId('refund'),
		object: 'refund',
		amount,
		balance_transaction: null,
		charge: charge.id,
		created,
		currency: charge.currency,
		destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
		metadata: {},
		payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
		reason,
		receipt_number: null,
		source_transfer_reversal: null,
		status,
		transfer_reversal: null,
	};
	if (status === 'pending') refund.pending_reason = 'insufficient_funds';
	return refund;
}

/** An inquiry starts `warning_needs_response` (no funds withdrawn, the charge still refundable); a chargeback `needs_response`. */
export function buildDispute(
	created: number,
	charge: Stripe.Charge,
	reason: string,
	status: 'needs_response' | 'warning_needs_response' = 'needs_response',
): Stripe.Dispute {
	return {
		id: newId('dispute'),
		object: 'dispute',
		amount: charge.amount,
		balance_transactions: [],
		charge: charge.id,
		created,
		currency: charge.currency,
		enhanced_eligibility_types: [],
		evidence: emptyEvidence(),
		evidence_details: {
			due_by: created + 7 * 86400,
			enhanced_eligibility: {},
			has_evidence: false,
			past_due: false,
			submission_count: 0,
		},
		is_charge_refundable: status === 'warning_needs_response',
		livemode: false,
		metadata: {},
		network_reason_code: null,
		payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
		reason,
		status,
	};
}

function emptyEvidence(): Stripe.Dispute.Evidence {
	return {
		access_activity_log: null,
		billing_address: null,
		cancellation_policy: null,
		cancellation_policy_disclosure: null,
		cancellation_rebuttal: null,
		customer_communication: null,
		customer_email_address: null,
		customer_name: null,
		customer_purchase_ip: null,
		customer_signature: null,
		duplicate_charge_documentation: null,
		duplicate_charge_explanation: null,
		duplicate_charge_id: null,
		enhanced_evidence: {},
		product_description: null,
		receipt: null,
		refund_policy: null,
		refund_policy_disclosure: null,
		refund_refusal_explanation: null,
		service_date: null,
		service_documentation: null,
		shipping_address: null,
		shipping_carrier: null,
		shipping_date: null,
		shipping_documentation: null,
		shipping_tracking_number: null,
		uncategorized_file: null,
		uncategorized_text: null,
	};
}

export interface Period {
	start: number;
	end: number;
}

export function buildSubscriptionItem(created: number, subscription: string, price: Stripe.Price, quantity: number, period: Period): Stripe.SubscriptionItem {
	return {
		id: newId('subscription_item'),
		object: 'subscription_item',
		billing_thresholds: null,
		created,
		current_period_end: period.end,
		current_period_start: period.start,
		discounts: [],
		metadata: {},
		plan: planOf(price),
		price,
		quantity,
		subscription,
		tax_rates: [],
	};
}

export interface SubscriptionInput {
	id: string;
	customer: string;
	currency: string;
	metadata: Stripe.Metadata;
	status: Stripe.Subscription.Status;
	items: Stripe.SubscriptionItem[];
	trial: Period | null;
}

export function buildSubscription(created: number, input: SubscriptionInput): Stripe.Subscription {
	return {
		id: input.id,
		object: 'subscription',
		application: null,
		application_fee_percent: null,
		automatic_tax: { ...NO_AUTOMATIC_TAX },
		billing_cycle_anchor: input.items[0]?.current_period_end ? input.items[0].current_period_start : created,
		billing_cycle_anchor_config: null,
		billing_mode: { flexible: null, type: 'classic' },
		billing_thresholds: null,
		cancel_at: null,
		cancel_at_period_end: false,
		canceled_at: null,
		cancellation_details: { comment: null, feedback: null, reason: null },
		collection_method: 'charge_automatically',
		created,
		currency: input.currency,
		customer: input.customer,
		customer_account: null,
		days_until_due: null,
		default_payment_method: null,
		default_source: null,
		default_tax_rates: [],
		description: null,
		discounts: [],
		ended_at: null,
		invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
		items: listOf(input.items, `/v1/subscription_items?subscription=${input.id}`),
		latest_invoice: null,
		livemode: false,
		metadata: input.metadata,
		next_pending_invoice_item_invoice: null,
		on_behalf_of: null,
		pause_collection: null,
		payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
		pending_invoice_item_interval: null,
		pending_setup_intent: null,
		pending_update: null,
		schedule: null,
		start_date: created,
		status: input.status,
		test_clock: null,
		transfer_data: null,
		trial_end: input.trial?.end ?? null,
		trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
		trial_start: input.trial?.start ?? null,
	};
}

export interface ProrationInput {
	/** What Stripe writes: "Unused time on …" (a credit) or "Remaining time on …". */
	description: string;
	/** On a credit: the invoice and line that billed the time given back. */
	credited: { invoice: string; invoice_line_items: string[] } | null;
}

/** A subscription item's line: its period's charge, or with `proration` a proration for part of it. */
export function buildInvoiceLine(
	invoice: string,
	subscription: Stripe.Subscription,
	item: Stripe.SubscriptionItem,
	amount: number,
	period: Period,
	proration: ProrationInput | null = null,
): Stripe.InvoiceLineItem {
	const price = item.price;
	const quantity = item.quantity ?? 1;
	const product = typeof price.product === 'string' ? price.product : price.product.id;
	return {
		id: newId('invoice_line_item'),
		object: 'line_item',
		amount,
		currency: price.currency,
		description:
			proration?.description ?? `${quantity} × ${price.nickname ?? product} (at ${(price.unit_amount ?? 0) / 100} / ${price.recurring?.interval ?? 'unit'})`,
		discount_amounts: [],
		discountable: true,
		discounts: [],
		invoice,
		livemode: false,
		metadata: {},
		parent: {
			type: 'subscription_item_details',
			invoice_item_details: null,
			subscription_item_details: {
				invoice_item: null,
				proration: proration !== null,
				proration_details: { credited_items: proration?.credited ?? null },
				subscription: subscription.id,
				subscription_item: item.id,
			},
		},
		period,
		pretax_credit_amounts: [],
		pricing: { type: 'price_details', price_details: { price: price.id, product }, unit_amount_decimal: price.unit_amount_decimal },
		quantity,
		subscription: subscription.id,
		subtotal: amount,
		taxes: [],
	};
}

export interface InvoiceInput {
	subscription: Stripe.Subscription;
	customer: Stripe.Customer;
	billingReason: Stripe.Invoice.BillingReason;
	/** Zero on a trial's first invoice. */
	charged: boolean;
	number: string;
	/** Lines other than a whole period per item (proration lines), built for the invoice's id. */
	lines?: (invoice: string) => Stripe.InvoiceLineItem[];
}

/** A finalized, open invoice for the subscription's current items and periods (or the lines given). */
export function buildSubscriptionInvoice(created: number, input: InvoiceInput): Stripe.Invoice {
	const id = newId('invoice');
	const { subscription, customer } = input;
	const lines =
		input.lines?.(id) ??
		subscription.items.data.map((item) =>
			buildInvoiceLine(id, subscription, item, input.charged ? (item.price.unit_amount ?? 0) * (item.quantity ?? 1) : 0, {
				start: item.current_period_start,
				end: item.current_period_end,
			}),
		);
	const total = lines.reduce((sum, line) => sum + line.amount, 0);
	// A credit larger than the charge goes to the customer's balance: nothing is due.
	const due = Math.max(total, 0);
	const first = subscription.items.data[0];
	return {
		id,
		object: 'invoice',
		account_country: 'US',
		account_name: 'Keycrate test seller',
		account_tax_ids: null,
		amount_due: due,
		amount_overpaid: 0,
		amount_paid: 0,
		amount_remaining: due,
		amount_shipping: 0,
		application: null,
		attempt_count: 0,
		attempted: false,
		auto_advance: true,
		automatic_tax: { ...NO_AUTOMATIC_TAX, provider: null, status: null },
		automatically_finalizes_at: null,
		billing_reason: input.billingReason,
		collection_method: 'charge_automatically',
		created,
		currency: subscription.currency,
		custom_fields: null,
		customer: customer.id,
		customer_account: null,
		customer_address: null,
		customer_email: customer.email,
		customer_name: customer.name ?? null,
		customer_phone: null,
		customer_shipping: null,
		customer_tax_exempt: 'none',
		customer_tax_ids: [],
		default_payment_method: null,
		default_source: null,
		default_tax_rates: [],
		description: null,
		discounts: [],
		due_date: null,
		effective_at: created,
		ending_balance: 0,
		footer: null,
		from_invoice: null,
		hosted_invoice_url: `https://invoice.stripe.com/i/acct_fake/test_${id}`,
		invoice_pdf: `https://pay.stripe.com/invoice/acct_fake/test_${id}/pdf`,
		issuer: { type: 'self' },
		last_finalization_error: null,
		latest_revision: null,
		lines: listOf(lines, `/v1/invoices/${id}/lines`),
		livemode: false,
		metadata: {},
		next_payment_attempt: null,
		number: input.number,
		on_behalf_of: null,
		parent: {
			type: 'subscription_details',
			quote_details: null,
			subscription_details: { metadata: { ...subscription.metadata }, subscription: subscription.id },
		},
		payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
		period_end: first ? first.current_period_start : created,
		period_start: first ? first.current_period_start : created,
		post_payment_credit_notes_amount: 0,
		pre_payment_credit_notes_amount: 0,
		receipt_number: null,
		rendering: null,
		shipping_cost: null,
		shipping_details: null,
		starting_balance: 0,
		statement_descriptor: null,
		status: 'open',
		status_transitions: { finalized_at: created, marked_uncollectible_at: null, paid_at: null, voided_at: null },
		subtotal: total,
		subtotal_excluding_tax: total,
		test_clock: null,
		total,
		total_discount_amounts: [],
		total_excluding_tax: total,
		total_pretax_credit_amounts: [],
		total_taxes: [],
		webhooks_delivered_at: created,
	};
}

export function buildInvoicePayment(created: number, invoice: Stripe.Invoice, paymentIntent: string): Stripe.InvoicePayment {
	return {
		id: newId('invoice_payment'),
		object: 'invoice_payment',
		amount_paid: null,
		amount_requested: invoice.amount_due,
		created,
		currency: invoice.currency,
		invoice: invoice.id,
		is_default: true,
		livemode: false,
		payment: { type: 'payment_intent', payment_intent: paymentIntent },
		status: 'open',
		status_transitions: { canceled_at: null, paid_at: null },
	};
}
