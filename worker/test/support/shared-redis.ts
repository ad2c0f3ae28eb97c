// The shared Redis the tests run against (REDIS_URL, else 127.0.0.1:6379): each test works under its own
// unique queue prefix and deletes only that (deletePrefix in src/redis-private.ts). A test that must stop
// Redis uses startPrivateRedis from there instead.

import { randomBytes } from 'node:crypto';

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label = 'kc-test'): string {
	return `{${label}-${randomBytes(5).toString('hex')}}`;
}
