/** The fake's state: every object by id, per-kind creation order, the recorded events, and the clock. */
import type Stripe from 'stripe';
import { newId } from './ids';

/** The objects the fake stores, by their `object` field. */
export interface Kinds {
	customer: Stripe.Customer;
	product: Stripe.Product;
	price: Stripe.Price;
	'checkout.session': Stripe.Checkout.Session;
	payment_intent: Stripe.PaymentIntent;
	charge: Stripe.Charge;
	refund: Stripe.Refund;
	dispute: Stripe.Dispute;
	subscription: Stripe.Subscription;
	invoice: Stripe.Invoice;
	invoice_payment: Stripe.InvoicePayment;
}
export type Kind = keyof Kinds;
export type StoredObject = Kinds[Kind];
export const KINDS: readonly Kind[] = [
	'customer',
	'product',
	'price',
	'checkout.session',
	'payment_intent',
	'charge',
	'refund',
	'dispute',
	'subscription',
	'invoice',
	'invoice_payment',
];

/** What Stripe puts in `data.object` for an event type: the compiler checks that each event carries its object. */
export type EventObject<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>['data']['object'];

export const API_VERSION = '2026-02-25.clover';

export function copy<T>(value: T): T {
	return structuredClone(value);
}

/** Events never change once recorded: frozen, they can be handed out without a copy (structuredClone one to edit it). */
function deepFreeze<T>(value: T): T {
	if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const child of Object.values(value)) deepFreeze(child);
	}
	return value;
}

export class Store {
	private readonly byId = new Map<string, StoredObject>();
	private readonly order = new Map<Kind, StoredObject[]>();
	/** A Checkout session's line items: Stripe never puts them on the session unless asked (`expand[]=line_items`). */
	readonly lineItems = new Map<string, Stripe.LineItem[]>();
	/** Frozen snapshots, oldest first. */
	readonly events: readonly Stripe.Event[] = [];
	private readonly eventsById = new Map<string, Stripe.Event>();
	/** Creation order of every object and event: what list pagination sorts by (newest first). */
	private readonly sequence = new Map<string, number>();
	private nextSequence = 0;
	/** Added to the base clock by advanceClock. */
	offsetMs = 0;
	/** How many webhook endpoints an event is sent to (`pending_webhooks`). */
	webhookCount = 0;

	constructor(private readonly baseNow: () => number) {}

	nowMs(): number {
		return this.baseNow() + this.offsetMs;
	}

	/** Unix seconds on the fake clock: every `created` and period boundary. */
	now(): number {
		return Math.floor(this.nowMs() / 1000);
	}

	add<K extends Kind>(kind: K, object: Kinds[K]): Kinds[K] {
		if (this.byId.has(object.id)) throw new Error(`stripe-fake: ${object.id} exists already`);
		this.byId.set(object.id, object);
		this.sequence.set(object.id, this.nextSequence++);
		let list = this.order.get(kind);
		if (!list) this.order.set(kind, (list = []));
		list.push(object);
		return object;
	}

	get<K extends Kind>(kind: K, id: string): Kinds[K] | undefined {
		const object = this.byId.get(id);
		return object && object.object === kind ? (object as Kinds[K]) : undefined;
	}

	/** Any stored object or event by id. */
	find(id: string): StoredObject | Stripe.Event | undefined {
		return this.byId.get(id) ?? this.eventsById.get(id);
	}

	/** Oldest first. */
	all<K extends Kind>(kind: K): readonly Kinds[K][] {
		return (this.order.get(kind) ?? []) as Kinds[K][];
	}

	counts(): Record<string, number> {
		const result: Record<string, number> = {};
		for (const kind of KINDS) result[kind] = this.all(kind).length;
		result.event = this.events.length;
		return result;
	}

	/** Records what Stripe would send: a snapshot of the object as it is now, with what changed where Stripe says. */
	emit<T extends Stripe.Event.Type>(type: T, object: EventObject<T>, previousAttributes?: Record<string, unknown>): Stripe.Event {
		const data: { object: EventObject<T>; previous_attributes?: Record<string, unknown> } = { object: copy(object) };
		if (previousAttributes) data.previous_attributes = copy(previousAttributes);
		const event = {
			id: newId('event'),
			object: 'event' as const,
			api_version: API_VERSION,
			created: this.now(),
			data,
			livemode: false,
			pending_webhooks: this.webhookCount,
			request: { id: null, idempotency_key: null },
			type,
		} as unknown as Stripe.Event;
		deepFreeze(event);
		(this.events as Stripe.Event[]).push(event);
		this.eventsById.set(event.id, event);
		this.sequence.set(event.id, this.nextSequence++);
		return event;
	}

	sequenceOf(id: string): number | undefined {
		return this.sequence.get(id);
	}

	event(id: string): Stripe.Event | undefined {
		return this.eventsById.get(id);
	}
}
