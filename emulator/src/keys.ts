import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MAX_ATTEMPTS_PER_KEY = 50;

/** Every `*` becomes a random A-Z0-9 character; other characters are kept. */
export function keyFromPattern(pattern: string): string {
	let key = '';
	for (const char of pattern) key += char === '*' ? KEY_ALPHABET[randomInt(KEY_ALPHABET.length)] : char;
	return key;
}

/**
 * A key from the pattern that `isTaken` does not know. Returns null when the pattern has no `*` and the key
 * is taken, or when its random part is so small that no free key turned up in a reasonable number of tries.
 */
export function uniqueKeyFromPattern(pattern: string, isTaken: (key: string) => boolean): string | null {
	const attempts = pattern.includes('*') ? MAX_ATTEMPTS_PER_KEY : 1;
	for (let attempt = 0; attempt < attempts; attempt++) {
		const key = keyFromPattern(pattern);
		if (!isTaken(key)) return key;
	}
	return null;
}

export const newAppId = (): string => randomUUID();
export const newApiKey = (): string => `kc_${randomBytes(16).toString('hex')}`;
export const newSubscriptionId = (): string => randomUUID();
