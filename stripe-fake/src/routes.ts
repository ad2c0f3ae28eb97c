/**
 * The read API the sync worker uses: retrieve and list per resource, with Stripe's filters, pagination and
 * expand. A table of resources, one generic handler each for retrieve and list.
 */
import type Stripe from 'stripe';
import { invalidRequest, resourceMissing } from './errors';
import { expand, type ExpandSource, type Json } from './expand';
import { listOf } from './objects';
import { checkParameters, inRange, LIST_PARAMETERS, pageParams, rangeParam, stringList, type Page, type Query, type QueryValue } from './query';
import { copy, type Kind, type Store } from './store';

type JsonObject = { [key: string]: Json };
type Item = { id: string; created?: number; object: string };
/** A list filter: true keeps the item. Built once per request from the query, so bad values fail before any work. */
type Filter = (item: never) => boolean;
type FilterParser = (value: QueryValue, query: Query) => Filter | null;

interface Resource {
	/** The URL path after /v1/. */
	path: string;
	kind: Kind | 'event';
	/** How Stripe names it in "No such …". */
	name: string;
	filters: Record<string, FilterParser>;
}

function idOf(value: unknown): string | null {
	if (typeof value === 'string') return value;
	if (value && typeof value === 'object' && 'id' in value) return String((value as { id: unknown }).id);
	return null;
}

/** A path segment as an id; a malformed escape stays as sent (and then names nothing). */
function decodeSegment(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}

function text(value: QueryValue, param: string): string {
	if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${param} must be a string`, param);
	return value;
}

/** Keeps items whose field (an id or a string) equals the parameter. */
function equals<T>(param: string, field: (item: T) => unknown): FilterParser {
	return (value) => {
		const wanted = text(value, param);
		return ((item: T) => idOf(field(item)) === wanted) as Filter;
	};
}

function bool(param: string, field: (item: never) => boolean): FilterParser {
	return (value) => {
		if (value !== 'true' && value !== 'false') throw invalidRequest(`Invalid boolean: ${String(value)}`, param);
		return ((item: never) => field(item) === (value === 'true')) as Filter;
	};
}

function oneOf<T>(param: string, allowed: readonly string[], field: (item: T) => unknown): FilterParser {
	return (value) => {
		const wanted = text(value, param);
		if (!allowed.includes(wanted)) throw invalidRequest(`Invalid ${param}: must be one of ${allowed.join(', ')}`, param);
		return ((item: T) => field(item) === wanted) as Filter;
	};
}

const created: FilterParser = (_value, query) => {
	const range = rangeParam(query, 'created');
	return ((item: Item) => inRange(item.created ?? 0, range)) as Filter;
};

/** Stripe keeps events for 30 days: older ones are neither listed nor retrievable (the fake clock decides). */
export const EVENT_RETENTION_SECONDS = 30 * 86400;

function retained(event: Stripe.Event, store: Store): boolean {
	return event.created > store.now() - EVENT_RETENTION_SECONDS;
}

const SUBSCRIPTION_STATUSES = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'];

/** `customer.subscription.*` style patterns, as the Events API takes them. */
function eventTypeMatcher(pattern: string): (type: string) => boolean {
	if (!pattern.includes('*')) return (type) => type === pattern;
	const regex = new RegExp(
		`^${pattern
			.split('*')
			.map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
			.join('[^]*')}$`,
	);
	return (type) => regex.test(type);
}

const RESOURCES: Resource[] = [
	{ path: 'customers', kind: 'customer', name: 'customer', filters: { email: equals<Stripe.Customer>('email', (c) => c.email), created } },
	{ path: 'products', kind: 'product', name: 'product', filters: { active: bool('active', (p: Stripe.Product) => p.active), created } },
	{
		path: 'prices',
		kind: 'price',
		name: 'price',
		filters: {
			product: equals<Stripe.Price>('product', (p) => p.product),
			active: bool('active', (p: Stripe.Price) => p.active),
			currency: equals<Stripe.Price>('currency', (p) => p.currency),
			type: oneOf<Stripe.Price>('type', ['one_time', 'recurring'], (p) => p.type),
			lookup_keys: (_value, query) => {
				const keys = stringList(query, 'lookup_keys');
				return ((p: Stripe.Price) => p.lookup_key !== null && keys.includes(p.lookup_key)) as Filter;
			},
			created,
		},
	},
	{
		path: 'checkout/sessions',
		kind: 'checkout.session',
		name: 'checkout.session',
		filters: {
			payment_intent: equals<Stripe.Checkout.Session>('payment_intent', (s) => s.payment_intent),
			subscription: equals<Stripe.Checkout.Session>('subscription', (s) => s.subscription),
			customer: equals<Stripe.Checkout.Session>('customer', (s) => s.customer),
			status: oneOf<Stripe.Checkout.Session>('status', ['open', 'complete', 'expired'], (s) => s.status),
			created,
		},
	},
	{
		path: 'payment_intents',
		kind: 'payment_intent',
		name: 'payment_intent',
		filters: { customer: equals<Stripe.PaymentIntent>('customer', (p) => p.customer), created },
	},
	{
		path: 'charges',
		kind: 'charge',
		name: 'charge',
		filters: {
			payment_intent: equals<Stripe.Charge>('payment_intent', (c) => c.payment_intent),
			customer: equals<Stripe.Charge>('customer', (c) => c.customer),
			created,
		},
	},
	{
		path: 'refunds',
		kind: 'refund',
		name: 'refund',
		filters: {
			payment_intent: equals<Stripe.Refund>('payment_intent', (r) => r.payment_intent),
			charge: equals<Stripe.Refund>('charge', (r) => r.charge),
			created,
		},
	},
	{
		path: 'disputes',
		kind: 'dispute',
		name: 'dispute',
		filters: {
			payment_intent: equals<Stripe.Dispute>('payment_intent', (d) => d.payment_intent),
			charge: equals<Stripe.Dispute>('charge', (d) => d.charge),
			created,
		},
	},
	{
		path: 'subscriptions',
		kind: 'subscription',
		name: 'subscription',
		filters: {
			customer: equals<Stripe.Subscription>('customer', (s) => s.customer),
			price: (value) => {
				const price = text(value, 'price');
				return ((s: Stripe.Subscription) => s.items.data.some((item) => item.price.id === price)) as Filter;
			},
			// Without a status Stripe lists every subscription that is not canceled; `all` lists every one.
			status: (value) => {
				const status = text(value, 'status');
				if (status === 'all') return null;
				if (!SUBSCRIPTION_STATUSES.includes(status) && status !== 'ended')
					throw invalidRequest(`Invalid status: must be one of ${SUBSCRIPTION_STATUSES.join(', ')}, ended or all`, 'status');
				if (status === 'ended') return ((s: Stripe.Subscription) => s.status === 'canceled' || s.status === 'incomplete_expired') as Filter;
				return ((s: Stripe.Subscription) => s.status === status) as Filter;
			},
			created,
		},
	},
	{
		path: 'invoices',
		kind: 'invoice',
		name: 'invoice',
		filters: {
			subscription: equals<Stripe.Invoice>('subscription', (i) => i.parent?.subscription_details?.subscription ?? null),
			customer: equals<Stripe.Invoice>('customer', (i) => i.customer),
			status: oneOf<Stripe.Invoice>('status', ['draft', 'open', 'paid', 'uncollectible', 'void'], (i) => i.status),
			created,
		},
	},
	{
		path: 'invoice_payments',
		kind: 'invoice_payment',
		name: 'invoice_payment',
		filters: {
			invoice: equals<Stripe.InvoicePayment>('invoice', (p) => p.invoice),
			status: oneOf<Stripe.InvoicePayment>('status', ['canceled', 'open', 'paid'], (p) => p.status),
			payment: (value) => {
				if (typeof value !== 'object' || Array.isArray(value))
					throw invalidRequest('Invalid payment: must be a hash of type and payment_intent or charge', 'payment');
				const type = value.type;
				if (type === undefined) throw invalidRequest('Missing required param: payment[type].', 'payment[type]');
				if (type !== 'payment_intent' && type !== 'charge')
					throw invalidRequest('Invalid payment[type]: must be one of payment_intent, charge', 'payment[type]');
				for (const key of Object.keys(value)) {
					if (key !== 'type' && key !== 'payment_intent' && key !== 'charge')
						throw invalidRequest(`Received unknown parameter: payment[${key}]`, `payment[${key}]`);
				}
				const id = value[type];
				if (id === undefined) throw invalidRequest(`Missing required param: payment[${type}].`, `payment[${type}]`);
				const wanted = text(id, `payment[${type}]`);
				return ((p: Stripe.InvoicePayment) => p.payment.type === type && idOf(p.payment[type]) === wanted) as Filter;
			},
			created,
		},
	},
	{
		path: 'events',
		kind: 'event',
		name: 'event',
		filters: {
			type: (value, query) => {
				if (query.types !== undefined) throw invalidRequest('You may only specify one of these parameters: type, types.', 'types');
				const matches = eventTypeMatcher(text(value, 'type'));
				return ((e: Stripe.Event) => matches(e.type)) as Filter;
			},
			types: (_value, query) => {
				const types = stringList(query, 'types');
				if (types.length > 20) throw invalidRequest('Invalid types: at most 20 event types', 'types');
				const matchers = types.map(eventTypeMatcher);
				return ((e: Stripe.Event) => matchers.some((matches) => matches(e.type))) as Filter;
			},
			created,
		},
	},
];

export interface RouteMatch {
	/** `GET /v1/charges/:id`: how requests() counts it. */
	template: string;
	handle(query: Query): unknown;
}

export type Lookup = { status: 'found'; match: RouteMatch } | { status: 'method'; template: string } | { status: 'none' };

export class Api {
	private readonly source: ExpandSource;

	constructor(private readonly store: () => Store) {
		this.source = {
			byId: (id) => {
				const object = this.store().find(id);
				return object ? (copy(object) as unknown as JsonObject) : undefined;
			},
			includable: (object, field) => this.includable(object, field),
		};
	}

	private includable(object: JsonObject, field: string): Json | undefined {
		const store = this.store();
		const id = String(object.id);
		if (object.object === 'checkout.session' && field === 'line_items') {
			return listOf(copy(store.lineItems.get(id) ?? []), `/v1/checkout/sessions/${id}/line_items`) as unknown as Json;
		}
		if (object.object === 'invoice' && field === 'payments') {
			const payments = store
				.all('invoice_payment')
				.filter((payment) => payment.invoice === id)
				.reverse();
			return listOf(copy(payments), `/v1/invoices/${id}/payments`) as unknown as Json;
		}
		if (object.object === 'charge' && field === 'refunds') {
			const refunds = store
				.all('refund')
				.filter((refund) => refund.charge === id)
				.reverse();
			return listOf(copy(refunds), `/v1/charges/${id}/refunds`) as unknown as Json;
		}
		return undefined;
	}

	/** Finds what answers `method path`; `method` when the path exists but answers GET only. */
	lookup(method: string, path: string): Lookup {
		const segments = path.split('/');
		if (segments[0] !== '' || segments[1] !== 'v1') return { status: 'none' };
		const rest = segments.slice(2);
		for (const resource of RESOURCES) {
			const prefix = resource.path.split('/');
			if (rest.length < prefix.length || prefix.some((part, i) => rest[i] !== part)) continue;
			const tail = rest.slice(prefix.length);
			let found: { template: string; handle: (query: Query) => unknown } | undefined;
			if (tail.length === 0) {
				found = { template: `/v1/${resource.path}`, handle: (query) => this.list(resource, query) };
			} else if (tail.length === 1 && tail[0] !== '') {
				found = { template: `/v1/${resource.path}/:id`, handle: (query) => this.retrieve(resource, decodeSegment(tail[0]), query) };
			} else if (tail.length === 2 && resource.kind === 'checkout.session' && tail[1] === 'line_items') {
				found = { template: `/v1/${resource.path}/:id/line_items`, handle: (query) => this.lineItems(decodeSegment(tail[0]), query) };
			} else if (tail.length === 2 && resource.kind === 'invoice' && tail[1] === 'lines') {
				found = { template: `/v1/${resource.path}/:id/lines`, handle: (query) => this.invoiceLines(decodeSegment(tail[0]), query) };
			}
			if (!found) return { status: 'none' };
			if (method !== 'GET') return { status: 'method', template: `${method} ${found.template}` };
			return { status: 'found', match: { template: `GET ${found.template}`, handle: found.handle } };
		}
		return { status: 'none' };
	}

	private object(resource: Resource, id: string): Item | undefined {
		const store = this.store();
		if (resource.kind !== 'event') return store.get(resource.kind, id);
		const event = store.event(id);
		return event && retained(event, store) ? event : undefined;
	}

	private retrieve(resource: Resource, id: string, query: Query): unknown {
		checkParameters(query, ['expand']);
		const object = this.object(resource, id);
		if (!object) throw resourceMissing(resource.name, id);
		return expand(copy(object) as unknown as JsonObject, stringList(query, 'expand'), this.source);
	}

	private list(resource: Resource, query: Query): unknown {
		checkParameters(query, [...LIST_PARAMETERS, ...Object.keys(resource.filters)]);
		const page = pageParams(query);
		const filters: Filter[] = [];
		for (const [name, parse] of Object.entries(resource.filters)) {
			if (query[name] === undefined) continue;
			const filter = parse(query[name], query);
			if (filter) filters.push(filter);
		}
		if (resource.kind === 'subscription' && query.status === undefined) filters.push(((s: Stripe.Subscription) => s.status !== 'canceled') as Filter);
		const store = this.store();
		const all: readonly Item[] = resource.kind === 'event' ? store.events : store.all(resource.kind);
		if (resource.kind === 'event') filters.push(((event: Stripe.Event) => retained(event, store)) as Filter);
		const matching: Item[] = [];
		for (let i = all.length - 1; i >= 0; i--) {
			const item = all[i];
			if (filters.every((filter) => (filter as (item: Item) => boolean)(item))) matching.push(item);
		}
		return this.page(resource.name, matching, page, `/v1/${resource.path}`, query);
	}

	private lineItems(sessionId: string, query: Query): unknown {
		checkParameters(query, [...LIST_PARAMETERS]);
		const store = this.store();
		if (!store.get('checkout.session', sessionId)) throw resourceMissing('checkout.session', sessionId);
		return this.nested(store.lineItems.get(sessionId) ?? [], 'line_item', query, `/v1/checkout/sessions/${sessionId}/line_items`);
	}

	private invoiceLines(invoiceId: string, query: Query): unknown {
		checkParameters(query, [...LIST_PARAMETERS]);
		const invoice = this.store().get('invoice', invoiceId);
		if (!invoice) throw resourceMissing('invoice', invoiceId);
		return this.nested(invoice.lines.data, 'line_item', query, `/v1/invoices/${invoiceId}/lines`);
	}

	/** Lists kept inside their parent (line items) page in their own order, which is Stripe's for them. */
	private nested(items: readonly Item[], name: string, query: Query, url: string): unknown {
		const page = pageParams(query);
		const position = new Map(items.map((item, index) => [item.id, items.length - index]));
		return this.paginate(name, [...items], page, url, query, (id) => position.get(id));
	}

	private page(name: string, matching: Item[], page: Page, url: string, query: Query): unknown {
		return this.paginate(name, matching, page, url, query, (id) => this.store().sequenceOf(id));
	}

	/** `items` newest first; `rank` orders them (a larger rank is newer). */
	private paginate(name: string, items: Item[], page: Page, url: string, query: Query, rank: (id: string) => number | undefined): unknown {
		let window = items;
		const anchorId = page.startingAfter ?? page.endingBefore;
		if (anchorId !== undefined) {
			const anchor = rank(anchorId);
			const param = page.startingAfter !== undefined ? 'starting_after' : 'ending_before';
			if (anchor === undefined) throw resourceMissing(name, anchorId, param);
			window = items.filter((item) => {
				const value = rank(item.id) ?? 0;
				return page.startingAfter !== undefined ? value < anchor : value > anchor;
			});
		}
		const data = page.endingBefore !== undefined ? window.slice(Math.max(0, window.length - page.limit)) : window.slice(0, page.limit);
		const list = { object: 'list', data: copy(data), has_more: window.length > page.limit, url };
		return expand(list as unknown as JsonObject, stringList(query, 'expand'), this.source);
	}
}
