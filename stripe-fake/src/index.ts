/**
 * `startStripeFake`: a stateful fake of the Stripe API (version 2026-02-25.clover) on a real HTTP port, for the
 * sync worker's tests, the demo and the benchmark: the objects a sync job reads, with expand, lists and
 * Stripe's errors; a world-building API that records the events Stripe would send; signed webhook delivery.
 */
export { startStripeFake, StripeFake, type StripeFakeOptions } from './fake';
export { USER_AGENT, seededRandom, type DeliverOptions, type DeliveryRecord, type DeliveryResult, type WebhookEndpoint } from './delivery';
export { FakeUsageError } from './errors';
export type { Faults, InjectedFaults } from './faults';
export { newApiKey, newWebhookSecret } from './ids';
export { LEGACY_API_VERSION } from './legacy';
export { addInterval, checkMetadata } from './scenarios';
export type {
	CaptureResult,
	CheckoutPaymentParams,
	CheckoutPaymentResult,
	CheckoutSubscriptionParams,
	CheckoutSubscriptionResult,
	Collect,
	CustomerParams,
	DisputeOutcome,
	DisputeParams,
	EndTrialOptions,
	EndTrialResult,
	LineInput,
	PaymentResult,
	PriceParams,
	PriceUpdate,
	RefundParams,
	RenewOptions,
	SubscriptionItemUpdate,
	SubscriptionParams,
	SubscriptionResult,
	SubscriptionUpdate,
	TrialSettings,
} from './scenarios';
export { isLoopbackAddress, ADMIN_PREFIX } from './server';
export { signatureHeader } from './signature';
export { API_VERSION, type Kind, type Kinds, type StoredObject } from './store';
