// The accessors for fields that moved between Stripe API versions, on payloads in both shapes.

import {
	idOf,
	invoiceLineIsProration,
	invoiceLinePrice,
	invoiceLineSubscriptionItemId,
	invoicePaymentIntentId,
	invoiceSubscriptionId,
	invoiceSubscriptionMetadata,
	subscriptionPeriodEnd,
} from '../src/stripe/accessors.js';
import type { Invoice, Subscription } from '../src/stripe/types.js';
import Stripe from 'stripe';
import { API_VERSIONS, checkoutSessionCompleted, invoicePaid, signEvent, stripeId, stripePrice, subscriptionEvent, type ApiShape } from '../src/stripe/example-events.js';

const price = stripePrice({ recurring: { interval: 'month' } });

function invoiceOf(shape: ApiShape, input: Parameters<typeof invoicePaid>[0] = {}): Invoice {
	return invoicePaid({ subscription: 'sub_1Shape', paymentIntent: 'pi_1Shape', includePayments: true, subscriptionMetadata: { plan: 'gold' }, ...input }, { apiShape: shape })
		.data.object as Invoice;
}

describe.each<ApiShape>(['legacy', 'current'])('%s shape', (shape) => {
	it('finds the subscription, its metadata snapshot and the payment intent of an invoice', () => {
		const invoice = invoiceOf(shape);
		expect(invoiceSubscriptionId(invoice)).toBe('sub_1Shape');
		expect(invoiceSubscriptionMetadata(invoice)).toEqual({ plan: 'gold' });
		expect(invoicePaymentIntentId(invoice)).toBe('pi_1Shape');
	});

	it("finds an invoice line's price, subscription item and proration flag", () => {
		const [plain, proration] = invoiceOf(shape, { lines: [{ price, subscriptionItem: 'si_Plain' }, { price, subscriptionItem: 'si_Plain', proration: true }] }).lines.data;
		const found = invoiceLinePrice(plain);
		expect(typeof found === 'string' ? found : found?.id).toBe(price.id);
		expect(invoiceLineSubscriptionItemId(plain)).toBe('si_Plain');
		expect(invoiceLineIsProration(plain)).toBe(false);
		expect(invoiceLineIsProration(proration)).toBe(true);
	});

	it('finds no subscription on a one-off invoice', () => {
		const invoice = invoiceOf(shape, { subscription: null, lines: [{ price, subscriptionItem: null }] });
		expect(invoiceSubscriptionId(invoice)).toBeUndefined();
		expect(invoiceLineSubscriptionItemId(invoice.lines.data[0])).toBeUndefined();
	});

	it("finds a subscription's period end", () => {
		const subscription = subscriptionEvent('updated', { items: [{ price }], periodEnd: 1766000000 }, { apiShape: shape }).data.object as Subscription;
		expect(subscriptionPeriodEnd(subscription)).toBe(1766000000);
	});
});

describe('expanded references', () => {
	it('reads ids of expanded objects as well as plain ids', () => {
		expect(idOf('cus_1')).toBe('cus_1');
		expect(idOf({ id: 'cus_2' })).toBe('cus_2');
		expect(idOf(null)).toBeUndefined();
		const invoice = invoiceOf('current');
		invoice.parent = { subscription_details: { subscription: { id: 'sub_1Expanded' } } };
		invoice.payments = { data: [{ payment: { payment_intent: null } }, { payment: { payment_intent: { id: 'pi_1Expanded' } } }] };
		expect(invoiceSubscriptionId(invoice)).toBe('sub_1Expanded');
		expect(invoicePaymentIntentId(invoice)).toBe('pi_1Expanded');
	});

	it('prefers the legacy field when a payload carries both', () => {
		const invoice = invoiceOf('current');
		invoice.subscription = 'sub_1Legacy';
		expect(invoiceSubscriptionId(invoice)).toBe('sub_1Legacy');
	});
});

describe('the test event builders', () => {
	it('sign events the way the stripe package verifies them', () => {
		const event = checkoutSessionCompleted({}, { apiShape: 'legacy' });
		const { body, header } = signEvent(event, 'whsec_builder_test');
		const verified = new Stripe('sk_test_verify').webhooks.constructEvent(body, header, 'whsec_builder_test');
		expect(verified.id).toBe(event.id);
		expect(verified.api_version).toBe(API_VERSIONS.legacy);
		expect(() => new Stripe('sk_test_verify').webhooks.constructEvent(body, header, 'whsec_other')).toThrow(/signature/i);
	});

	it('make Stripe-looking ids and keep an event id for a redelivery', () => {
		expect(stripeId('evt')).toMatch(/^evt_1[A-Za-z0-9]{23}$/);
		expect(checkoutSessionCompleted({ eventId: 'evt_1Same' }).id).toBe('evt_1Same');
		expect((checkoutSessionCompleted({ livemode: true }).data.object as { id: string }).id).toMatch(/^cs_live_a1/);
	});
});
