/** The fake as a whole: a store, the world-building API, the HTTP server, delivery; what startStripeFake returns. */
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { Deliverer, checkEndpoint, type DeliverOptions, type DeliveryRecord, type DeliveryResult, type WebhookEndpoint } from './delivery';
import { FakeUsageError } from './errors';
import { FaultInjector, type Faults, type InjectedFaults } from './faults';
import { newApiKey } from './ids';
import { legacyEvent } from './legacy';
import { Api } from './routes';
import {
	World,
	type CaptureResult,
	type CheckoutPaymentParams,
	type CheckoutPaymentResult,
	type CheckoutSubscriptionParams,
	type CheckoutSubscriptionResult,
	type CustomerParams,
	type DisputeOutcome,
	type DisputeParams,
	type EndTrialOptions,
	type EndTrialResult,
	type PaymentResult,
	type PriceParams,
	type PriceUpdate,
	type RefundParams,
	type RenewOptions,
	type SubscriptionParams,
	type SubscriptionUpdate,
	type SubscriptionResult,
} from './scenarios';
import { FakeServer, type Reply } from './server';
import { copy, Store, type Kind, type Kinds, type StoredObject } from './store';

export interface StripeFakeOptions {
	/** 0 (the default) picks a free port. */
	port?: number;
	host?: string;
	/** `sk_test_…`; generated when absent. */
	apiKey?: string;
	/** Where events are delivered, each with its `whsec_…` signing secret. */
	webhooks?: WebhookEndpoint[];
	/** Send every new event to every webhook as it happens (Stripe's way). Default false: events wait for deliver(). */
	autoDeliver?: boolean;
	/** With autoDeliver: further attempts after a non-2xx (default 5; backoff 100 ms doubling, at most 5 s). */
	autoDeliverRetries?: number;
	/** The fake's base clock in ms (default Date.now); advanceClock adds to it. Object timestamps come from it. */
	now?: () => number;
	/** The random source of injected 500s (default Math.random). */
	random?: () => number;
}

const API_KEY = /^sk_test_[A-Za-z0-9]{8,}$/;

export class StripeFake {
	readonly apiKey: string;
	private store: Store;
	private world: World;
	private readonly faultInjector: FaultInjector;
	private readonly http: FakeServer;
	private readonly deliverer: Deliverer;
	private readonly endpoints: WebhookEndpoint[];
	/** Events before this index have been handed to deliver() or autoDeliver. */
	private delivered = 0;
	private address = '';
	private listening = false;

	constructor(private readonly options: StripeFakeOptions = {}) {
		this.apiKey = options.apiKey ?? newApiKey();
		if (!API_KEY.test(this.apiKey)) throw new FakeUsageError('apiKey', 'must be a test-mode secret key: sk_test_ followed by at least 8 letters or digits');
		this.endpoints = (options.webhooks ?? []).map((endpoint, index) => checkEndpoint(endpoint, `webhooks[${index}]`));
		if (
			options.autoDeliverRetries !== undefined &&
			(!Number.isSafeInteger(options.autoDeliverRetries) || options.autoDeliverRetries < 0 || options.autoDeliverRetries > 20)
		) {
			throw new FakeUsageError('autoDeliverRetries', 'must be an integer from 0 to 20');
		}
		this.store = this.newStore();
		this.world = new World(this.store);
		this.faultInjector = new FaultInjector(options.random);
		this.deliverer = new Deliverer(() => this.endpoints);
		this.http = new FakeServer({
			api: new Api(() => this.store),
			apiKey: this.apiKey,
			faults: this.faultInjector,
			admin: (method, name, body) => this.admin(method, name, body),
		});
	}

	private newStore(): Store {
		const store = new Store(this.options.now ?? Date.now);
		store.webhookCount = this.endpoints.length;
		return store;
	}

	/** `http://127.0.0.1:<port>`: what STRIPE_API_BASE points at. */
	get url(): string {
		return this.address;
	}

	get port(): number {
		return Number(new URL(this.address).port);
	}

	get webhooks(): WebhookEndpoint[] {
		return this.endpoints.map((endpoint) => ({ ...endpoint }));
	}

	async listen(): Promise<this> {
		const host = this.options.host ?? '127.0.0.1';
		const { server } = this.http;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(this.options.port ?? 0, host, () => {
				server.off('error', reject);
				resolve();
			});
		});
		this.listening = true;
		const { port } = server.address() as AddressInfo;
		this.address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
		return this;
	}

	async stop(): Promise<void> {
		this.deliverer.stop();
		if (!this.listening) return;
		this.listening = false;
		await new Promise<void>((resolve, reject) => {
			this.http.server.close((error) => (error ? reject(error) : resolve()));
			this.http.server.closeAllConnections();
		});
	}

	/** Runs a world-building change; with autoDeliver, sends the events it recorded. */
	private change<T>(apply: () => T): T {
		const result = apply();
		if (this.options.autoDeliver && this.endpoints.length > 0) {
			const fresh = this.store.events.slice(this.delivered);
			this.delivered = this.store.events.length;
			this.deliverer.autoDeliver(fresh, this.options.autoDeliverRetries ?? 5);
		}
		return result;
	}

	// World building: see scenarios.ts for what each call changes and records.
	createCustomer(params: CustomerParams): Stripe.Customer {
		return this.change(() => this.world.createCustomer(params));
	}
	createPrice(params: PriceParams): Stripe.Price {
		return this.change(() => this.world.createPrice(params));
	}
	checkoutPayment(params: CheckoutPaymentParams): CheckoutPaymentResult {
		return this.change(() => this.world.checkoutPayment(params));
	}
	completeAsyncPayment(sessionId: string): CheckoutPaymentResult {
		return this.change(() => this.world.completeAsyncPayment(sessionId));
	}
	failAsyncPayment(sessionId: string): CheckoutPaymentResult {
		return this.change(() => this.world.failAsyncPayment(sessionId));
	}
	checkoutSubscription(params: CheckoutSubscriptionParams): CheckoutSubscriptionResult {
		return this.change(() => this.world.checkoutSubscription(params));
	}
	createSubscription(params: SubscriptionParams): SubscriptionResult {
		return this.change(() => this.world.createSubscription(params));
	}
	renewSubscription(id: string, options?: RenewOptions): SubscriptionResult {
		return this.change(() => this.world.renewSubscription(id, options));
	}
	finalizeInvoice(invoiceId: string, options?: { collect?: 'paid' | 'failed' }): SubscriptionResult {
		return this.change(() => this.world.finalizeInvoice(invoiceId, options));
	}
	endTrial(id: string, options: EndTrialOptions): EndTrialResult {
		return this.change(() => this.world.endTrial(id, options));
	}
	payInvoice(invoiceId: string): SubscriptionResult {
		return this.change(() => this.world.payInvoice(invoiceId));
	}
	updatePrice(id: string, params: PriceUpdate): Stripe.Price {
		return this.change(() => this.world.updatePrice(id, params));
	}
	updateProduct(id: string, params: { metadata?: Stripe.MetadataParam; name?: string }): Stripe.Product {
		return this.change(() => this.world.updateProduct(id, params));
	}
	updateSubscription(id: string, params: SubscriptionUpdate): Stripe.Subscription {
		return this.change(() => this.world.updateSubscription(id, params));
	}
	setSubscriptionStatus(id: string, status: Stripe.Subscription.Status): Stripe.Subscription {
		return this.change(() => this.world.setSubscriptionStatus(id, status));
	}
	pauseSubscription(id: string): Stripe.Subscription {
		return this.change(() => this.world.pauseSubscription(id));
	}
	resumeSubscription(id: string): Stripe.Subscription {
		return this.change(() => this.world.resumeSubscription(id));
	}
	cancelSubscription(id: string, options?: { at_period_end?: boolean }): Stripe.Subscription {
		return this.change(() => this.world.cancelSubscription(id, options));
	}
	capturePayment(paymentIntentId: string): CaptureResult {
		return this.change(() => this.world.capturePayment(paymentIntentId));
	}
	cancelPaymentIntent(paymentIntentId: string): PaymentResult {
		return this.change(() => this.world.cancelPaymentIntent(paymentIntentId));
	}
	refund(params: RefundParams): Stripe.Refund {
		return this.change(() => this.world.refund(params));
	}
	failRefund(refundId: string, outcome: 'failed' | 'canceled', failureReason?: string): Stripe.Refund {
		return this.change(() => this.world.failRefund(refundId, outcome, failureReason));
	}
	dispute(params: DisputeParams): Stripe.Dispute {
		return this.change(() => this.world.dispute(params));
	}
	updateDispute(disputeId: string, status: 'warning_under_review' | 'under_review' | 'needs_response'): Stripe.Dispute {
		return this.change(() => this.world.updateDispute(disputeId, status));
	}
	closeDispute(disputeId: string, outcome: DisputeOutcome): Stripe.Dispute {
		return this.change(() => this.world.closeDispute(disputeId, outcome));
	}
	/** Moves the fake clock forward; returns the new time (unix seconds). */
	advanceClock(seconds: number): number {
		return this.world.advanceClock(seconds);
	}
	/** The fake clock, unix seconds. */
	now(): number {
		return this.store.now();
	}

	// Lookups.
	/** A copy of any stored object, or an event (frozen), as the API returns it (without expansions). */
	get<T extends StoredObject | Stripe.Event = StoredObject | Stripe.Event>(id: string): T | undefined {
		const event = this.store.event(id);
		if (event) return event as T;
		const found = this.store.find(id);
		return found === undefined ? undefined : (copy(found) as T);
	}
	/** Copies of every stored object of a kind, oldest first. */
	list<K extends Kind>(kind: K): Kinds[K][] {
		return copy([...this.store.all(kind)]);
	}
	/** A Checkout session's line items. */
	lineItems(sessionId: string): Stripe.LineItem[] {
		return copy(this.store.lineItems.get(sessionId) ?? []);
	}
	/** How many objects of each kind, and events. */
	objects(): Record<string, number> {
		return this.store.counts();
	}
	/** Every recorded event, oldest first: frozen snapshots (structuredClone one to edit it, e.g. into an older shape). */
	events(): Stripe.Event[] {
		return [...this.store.events];
	}
	/**
	 * The event as an endpoint pinned to an older API version receives it (default 2024-06-20: `invoice.subscription`,
	 * `invoice.payment_intent`, `charge.invoice`, the period on the subscription): deliver it with `deliver({ events })`.
	 */
	legacyEvent(event: Stripe.Event | string, apiVersion?: string): Stripe.Event {
		const found = typeof event === 'string' ? this.store.event(event) : event;
		if (!found) throw new FakeUsageError('event', `no event ${String(event)} in this fake`);
		return legacyEvent(found, this.store, apiVersion);
	}
	/** Events not yet handed to deliver() (or autoDeliver). */
	pendingEvents(): Stripe.Event[] {
		return this.store.events.slice(this.delivered);
	}

	// Delivery.
	/** Signed POSTs of `events` (default: those recorded since the last deliver()). */
	async deliver(options: DeliverOptions = {}): Promise<DeliveryResult> {
		if (options.events !== undefined && !Array.isArray(options.events)) throw new FakeUsageError('events', 'must be a list of events');
		const pending = options.events === undefined;
		const events = options.events ?? this.store.events.slice(this.delivered);
		const plan = this.deliverer.plan(events, options);
		// Taken off the pending list only once the options are known to be good.
		if (pending) this.delivered += events.length;
		return this.deliverer.run(plan);
	}
	/** Every delivery attempt so far: event, url, attempt, status. */
	deliveries(): DeliveryRecord[] {
		return this.deliverer.records();
	}
	/** Resolves when automatic deliveries (and their retries) are done. */
	idle(): Promise<void> {
		return this.deliverer.idle();
	}

	// The API's behaviour.
	setFaults(faults: Faults): void {
		this.faultInjector.set(faults);
	}
	faults(): Faults {
		return this.faultInjector.get();
	}
	/** The 500s and 429s the faults answered (a 429 of the per-second budget counts too). */
	injectedFaults(): InjectedFaults {
		return this.faultInjector.injected();
	}
	/** API calls so far per "METHOD /v1/path-template" (every outcome). */
	requests(): Record<string, number> {
		return this.http.requests();
	}

	/** Empties the world (objects, events, deliveries), faults, call counts and the clock offset; keeps key, webhooks and port. */
	reset(): void {
		this.store = this.newStore();
		this.world = new World(this.store);
		this.delivered = 0;
		this.faultInjector.set({});
		this.http.resetCounts();
		this.deliverer.clearRecords();
	}

	/** `/__fake/<name>`: the same operations as JSON, for the CLI and other processes. */
	private async admin(method: string, name: string, body: unknown): Promise<Reply> {
		const ok = (value: unknown): Reply => ({ status: 200, body: value ?? { ok: true } });
		const args = (body ?? {}) as Record<string, unknown>;
		const field = (key: string): string => {
			const value = args[key];
			if (typeof value !== 'string') throw new FakeUsageError(key, 'is required (a string)');
			return value;
		};
		const optional = (key: string): string | undefined => (args[key] === undefined ? undefined : field(key));
		if (method === 'GET') {
			if (name === 'objects') return ok(this.objects());
			if (name.startsWith('objects/')) {
				const found = this.get(decodeURIComponent(name.slice('objects/'.length)));
				return found ? ok(found) : { status: 404, body: { error: { type: 'invalid_request_error', message: `no object ${name.slice(8)}` } } };
			}
			if (name === 'events') return ok(this.events());
			if (name === 'requests') return ok(this.requests());
			if (name === 'deliveries') return ok(this.deliveries());
			if (name === 'faults') return ok(this.faults());
			if (name === 'info') return ok({ url: this.url, now: this.now(), webhooks: this.endpoints.map((endpoint) => endpoint.url) });
		}
		if (method === 'POST') {
			switch (name) {
				case 'reset':
					this.reset();
					return ok(undefined);
				case 'faults':
					this.setFaults(args as Faults);
					return ok(this.faults());
				case 'deliver':
					return ok(await this.deliver({ ...(args as DeliverOptions), events: undefined }));
				case 'advanceClock':
					return ok({ now: this.advanceClock(args.seconds as number) });
				case 'createCustomer':
					return ok(this.createCustomer(args as unknown as CustomerParams));
				case 'createPrice':
					return ok(this.createPrice(args as unknown as PriceParams));
				case 'checkoutPayment':
					return ok(this.checkoutPayment(args as unknown as CheckoutPaymentParams));
				case 'completeAsyncPayment':
					return ok(this.completeAsyncPayment(field('session')));
				case 'failAsyncPayment':
					return ok(this.failAsyncPayment(field('session')));
				case 'checkoutSubscription':
					return ok(this.checkoutSubscription(args as unknown as CheckoutSubscriptionParams));
				case 'createSubscription':
					return ok(this.createSubscription(args as unknown as SubscriptionParams));
				case 'renewSubscription':
					return ok(
						this.renewSubscription(field('subscription'), { paid: args.paid as boolean | undefined, collect: args.collect as RenewOptions['collect'] }),
					);
				case 'finalizeInvoice':
					return ok(this.finalizeInvoice(field('invoice'), { collect: args.collect as 'paid' | 'failed' | undefined }));
				case 'endTrial':
					return ok(this.endTrial(field('subscription'), args as unknown as EndTrialOptions));
				case 'payInvoice':
					return ok(this.payInvoice(field('invoice')));
				case 'updateSubscription':
					return ok(this.updateSubscription(field('subscription'), args as SubscriptionUpdate));
				case 'updatePrice':
					return ok(this.updatePrice(field('price'), args as PriceUpdate));
				case 'updateProduct':
					return ok(this.updateProduct(field('product'), args as { metadata?: Stripe.MetadataParam; name?: string }));
				case 'setSubscriptionStatus':
					return ok(this.setSubscriptionStatus(field('subscription'), field('status') as Stripe.Subscription.Status));
				case 'pauseSubscription':
					return ok(this.pauseSubscription(field('subscription')));
				case 'resumeSubscription':
					return ok(this.resumeSubscription(field('subscription')));
				case 'cancelSubscription':
					return ok(this.cancelSubscription(field('subscription'), { at_period_end: args.at_period_end as boolean | undefined }));
				case 'capturePayment':
					return ok(this.capturePayment(field('payment_intent')));
				case 'cancelPaymentIntent':
					return ok(this.cancelPaymentIntent(field('payment_intent')));
				case 'refund':
					return ok(this.refund(args as unknown as RefundParams));
				case 'failRefund':
					return ok(this.failRefund(field('refund'), field('outcome') as 'failed' | 'canceled', optional('failure_reason')));
				case 'dispute':
					return ok(this.dispute(args as unknown as DisputeParams));
				case 'updateDispute':
					return ok(this.updateDispute(field('dispute'), field('status') as 'warning_under_review' | 'under_review' | 'needs_response'));
				case 'closeDispute':
					return ok(this.closeDispute(field('dispute'), field('outcome') as DisputeOutcome));
			}
		}
		return { status: 404, body: { error: { type: 'invalid_request_error', message: `no admin route ${method} /__fake/${name}` } } };
	}
}

export async function startStripeFake(options: StripeFakeOptions = {}): Promise<StripeFake> {
	return new StripeFake(options).listen();
}
