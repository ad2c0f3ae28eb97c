/** Stripe-looking identifiers and keys: a prefix and random base-62 characters. */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomChars(length: number): string {
	const bytes = randomBytes(length * 2);
	let out = '';
	// 248 = 4 × 62: rejecting larger bytes keeps every character equally likely.
	for (let i = 0; i < bytes.length && out.length < length; i++) if (bytes[i] < 248) out += ALPHABET[bytes[i] % 62];
	while (out.length < length) out += ALPHABET[randomBytes(1)[0] % 62];
	return out;
}

/** The id prefixes Stripe uses for the objects the fake stores. */
export const ID_PREFIX = {
	customer: 'cus_',
	product: 'prod_',
	price: 'price_',
	'checkout.session': 'cs_test_',
	line_item: 'li_',
	payment_intent: 'pi_',
	payment_method: 'pm_',
	charge: 'ch_',
	refund: 're_',
	dispute: 'dp_',
	subscription: 'sub_',
	subscription_item: 'si_',
	invoice: 'in_',
	invoice_line_item: 'il_',
	invoice_payment: 'inpay_',
	event: 'evt_',
	request: 'req_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function newId(kind: IdKind): string {
	return ID_PREFIX[kind] + randomChars(kind === 'checkout.session' ? 58 : 24);
}

export function newApiKey(): string {
	return `sk_test_${randomChars(32)}`;
}

export function newWebhookSecret(): string {
	return `whsec_${randomChars(32)}`;
}

/** `sk_test_****abcd`: how Stripe names a key in an error without revealing it. */
export function redactKey(key: string): string {
	const prefix = /^(sk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
	return `${prefix}****${key.slice(-4)}`;
}
