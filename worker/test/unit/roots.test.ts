// Table tests of rootOfEvent: every event shape Stripe has sent → its root, or why it names none.

import { HANDLED_EVENT_TYPES, rootOfEvent, type EventLike } from '../../src/stripe/roots.js';

const event = (type: string, object: unknown): EventLike => ({ id: 'evt_1', type, data: { object } });

const cases: [string, EventLike, ReturnType<typeof rootOfEvent>][] = [
	[
		'checkout payment → its payment intent',
		event('checkout.session.completed', { id: 'cs_1', object: 'checkout.session', mode: 'payment', payment_intent: 'pi_1' }),
		{ root: 'pi_1' },
	],
	[
		'checkout payment, payment intent expanded',
		event('checkout.session.completed', { id: 'cs_1', mode: 'payment', payment_intent: { id: 'pi_2', object: 'payment_intent' } }),
		{ root: 'pi_2' },
	],
	[
		'checkout payment that charged nothing → the session',
		event('checkout.session.completed', { id: 'cs_free', mode: 'payment', payment_intent: null }),
		{ root: 'cs_free' },
	],
	['async payment succeeded', event('checkout.session.async_payment_succeeded', { id: 'cs_1', mode: 'payment', payment_intent: 'pi_3' }), { root: 'pi_3' }],
	[
		'checkout subscription → its subscription',
		event('checkout.session.completed', { id: 'cs_1', mode: 'subscription', subscription: 'sub_1' }),
		{ root: 'sub_1' },
	],
	[
		'checkout subscription without one',
		event('checkout.session.completed', { id: 'cs_1', mode: 'subscription', subscription: null }),
		{ skip: 'no_root', detail: 'checkout.session.completed evt_1: the session names no subscription' },
	],
	[
		'checkout setup sells nothing',
		event('checkout.session.completed', { id: 'cs_1', mode: 'setup' }),
		{ skip: 'not_a_purchase', detail: 'checkout.session.completed evt_1: checkout session mode setup sells nothing' },
	],
	['subscription updated', event('customer.subscription.updated', { id: 'sub_9', object: 'subscription' }), { root: 'sub_9' }],
	['subscription deleted', event('customer.subscription.deleted', { id: 'sub_9' }), { root: 'sub_9' }],
	[
		'invoice, current shape (parent.subscription_details)',
		event('invoice.paid', { id: 'in_1', parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_4' } } }),
		{ root: 'sub_4' },
	],
	['invoice, legacy shape (invoice.subscription)', event('invoice.paid', { id: 'in_1', subscription: 'sub_5', payment_intent: 'pi_x' }), { root: 'sub_5' }],
	[
		'invoice of no subscription',
		event('invoice.paid', { id: 'in_1', parent: null }),
		{ skip: 'not_a_purchase', detail: 'invoice.paid evt_1: the invoice belongs to no subscription' },
	],
	[
		'invoice payment → the payment intent',
		event('invoice_payment.paid', { id: 'inpay_1', payment: { type: 'payment_intent', payment_intent: 'pi_7' } }),
		{ root: 'pi_7' },
	],
	['charge refunded → its payment intent', event('charge.refunded', { id: 'ch_1', payment_intent: 'pi_8' }), { root: 'pi_8' }],
	['dispute → its payment intent', event('charge.dispute.created', { id: 'dp_1', charge: 'ch_1', payment_intent: 'pi_8' }), { root: 'pi_8' }],
	['refund → its payment intent', event('refund.created', { id: 're_1', payment_intent: 'pi_8' }), { root: 'pi_8' }],
	['payment intent itself', event('payment_intent.succeeded', { id: 'pi_6' }), { root: 'pi_6' }],
	[
		'manual capture: charge captured → its payment intent',
		event('charge.captured', { id: 'ch_1', object: 'charge', payment_intent: 'pi_cap' }),
		{ root: 'pi_cap' },
	],
	['authorization released → its payment intent', event('payment_intent.canceled', { id: 'pi_cap', object: 'payment_intent' }), { root: 'pi_cap' }],
	[
		'a refund that failed (charge.refund.updated carries the refund) → its payment intent',
		event('charge.refund.updated', { id: 're_1', object: 'refund', status: 'failed', payment_intent: 'pi_9' }),
		{ root: 'pi_9' },
	],
	[
		'refund.updated → its payment intent',
		event('refund.updated', { id: 're_1', object: 'refund', status: 'canceled', payment_intent: 'pi_9' }),
		{ root: 'pi_9' },
	],
	[
		'dispute updated (under review) → its payment intent',
		event('charge.dispute.updated', { id: 'dp_1', object: 'dispute', status: 'under_review', payment_intent: 'pi_8' }),
		{ root: 'pi_8' },
	],
	[
		'renewal payment failed → its subscription',
		event('invoice.payment_failed', { id: 'in_2', parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_4' } } }),
		{ root: 'sub_4' },
	],
	[
		'charge without a payment intent',
		event('charge.refunded', { id: 'ch_1', payment_intent: null }),
		{ skip: 'no_root', detail: 'charge.refunded evt_1: names no payment intent (a charge without one sells nothing we license)' },
	],
	[
		'an id with characters Stripe never uses',
		event('customer.subscription.updated', { id: 'sub_1;DROP' }),
		{ skip: 'no_root', detail: 'customer.subscription.updated evt_1: the subscription has no id' },
	],
	[
		'an event type we do not use',
		event('customer.created', { id: 'cus_1' }),
		{ skip: 'not_handled', detail: 'customer.created evt_1: not an event type the worker uses' },
	],
	['no data.object', { id: 'evt_1', type: 'invoice.paid', data: {} }, { skip: 'no_root', detail: 'invoice.paid evt_1: no data.object' }],
	// Found by the ingest fuzz: String() of a field whose own toString is not a function threw a TypeError (503).
	[
		'checkout mode an object whose toString is no function',
		event('checkout.session.completed', JSON.parse('{"id":"cs_1","mode":{"toString":1,"valueOf":{}}}')),
		{ skip: 'not_a_purchase', detail: 'checkout.session.completed evt_1: checkout session mode an object sells nothing' },
	],
	[
		'checkout mode an array',
		event('checkout.session.completed', { id: 'cs_1', mode: ['payment'] }),
		{ skip: 'not_a_purchase', detail: 'checkout.session.completed evt_1: checkout session mode an array sells nothing' },
	],
	[
		'checkout mode missing',
		event('checkout.session.completed', { id: 'cs_1' }),
		{ skip: 'not_a_purchase', detail: 'checkout.session.completed evt_1: checkout session mode undefined sells nothing' },
	],
];

describe('rootOfEvent', () => {
	test.each(cases)('%s', (_name, input, expected) => {
		expect(rootOfEvent(input)).toEqual(expected);
	});
});

describe('HANDLED_EVENT_TYPES', () => {
	test('fits the Events API filter (at most 20 types, each once), so resync can ask for all of them', () => {
		expect(HANDLED_EVENT_TYPES.length).toBeLessThanOrEqual(20);
		expect(new Set(HANDLED_EVENT_TYPES).size).toBe(HANDLED_EVENT_TYPES.length);
	});

	test('each names a root', () => {
		for (const type of HANDLED_EVENT_TYPES) {
			const object = type.startsWith('checkout.')
				? { id: 'cs_1', mode: 'payment', payment_intent: 'pi_1' }
				: type.startsWith('customer.subscription.')
					? { id: 'sub_1' }
					: type.startsWith('invoice.')
						? { id: 'in_1', parent: { subscription_details: { subscription: 'sub_1' } } }
						: type.startsWith('payment_intent.')
							? { id: 'pi_1' }
							: { id: 'x_1', payment_intent: 'pi_1' };
			expect(rootOfEvent(event(type, object))).toHaveProperty('root');
		}
	});
});
