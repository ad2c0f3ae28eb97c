/** The 22 endpoints. Each gets a request the contract already accepted and returns its 200 body, or throws ApiError. */
import { limits, schemaDefault, type ContractPath, type RequestOf, type Schemas, type SuccessOf } from './contract';
import { ApiError, invalidInput } from './errors';
import { uniqueKeyFromPattern, newSubscriptionId } from './keys';
import type { AppRecord, LicenseRecord, Store, SubscriptionRecord } from './store';
import { expiryFor, LATEST_REPRESENTABLE_MS } from './time';

const MS_PER_HOUR = 3_600_000;

/** What one API key may touch. Lookups are O(1); "not found" is answered before "not yours". */
export class Access {
	constructor(
		readonly store: Store,
		readonly apiKey: string,
	) {}

	app(appId: string): AppRecord {
		const app = this.store.apps.get(appId);
		if (!app) throw new ApiError('APP_NOT_FOUND', `app ${appId} does not exist`);
		if (app.api_key !== this.apiKey) throw new ApiError('ACCESS_DENIED', `app ${appId} belongs to another API key`);
		return app;
	}

	license(licenseKey: string): LicenseRecord {
		const license = this.store.licenses.get(licenseKey);
		if (!license) throw new ApiError('LICENSE_NOT_FOUND', `license ${licenseKey} does not exist`);
		if (this.store.apps.get(license.app_id)?.api_key !== this.apiKey) {
			throw new ApiError('ACCESS_DENIED', `license ${licenseKey} belongs to an app of another API key`);
		}
		return license;
	}

	subscription(subscriptionId: string): SubscriptionRecord {
		const subscription = this.store.subscriptions.get(subscriptionId);
		if (!subscription) throw new ApiError('SUBSCRIPTION_NOT_FOUND', `subscription ${subscriptionId} does not exist`);
		if (this.store.apps.get(subscription.app_id)?.api_key !== this.apiKey) {
			throw new ApiError('ACCESS_DENIED', `subscription ${subscriptionId} belongs to an app of another API key`);
		}
		return subscription;
	}

	/** A tier that a license of `appId` may join. */
	subscriptionOfApp(subscriptionId: string, appId: string): SubscriptionRecord {
		const subscription = this.subscription(subscriptionId);
		if (subscription.app_id !== appId) throw invalidInput('subscription_id', `belongs to another app than ${appId}`);
		return subscription;
	}
}

function refuseHwidConflict(store: Store, subscriptionId: string | null, hwid: string | null, licenseKey: string | null): void {
	if (subscriptionId === null || hwid === null) return;
	const subscription = store.subscriptions.get(subscriptionId);
	if (!subscription?.single_key_per_hwid) return;
	const holder = store.hwidHolderOtherThan(subscriptionId, hwid, licenseKey);
	if (holder !== undefined) {
		throw invalidInput('hwid', `is already bound to license ${holder} of subscription ${subscriptionId}, which allows a single key per HWID`);
	}
}

type CreateFields = RequestOf<'/license/create'> | RequestOf<'/license/create-bulk'>;

function createLicenses(access: Access, request: CreateFields, count: number, single?: RequestOf<'/license/create'>): LicenseRecord[] {
	const { store } = access;
	const app = access.app(request.app_id);
	const subscriptionId = request.subscription_id ?? null;
	if (subscriptionId !== null) access.subscriptionOfApp(subscriptionId, app.app_id);
	const nowMs = store.now();
	const unit = request.duration_unit;
	const expiresAtMs = expiryFor(nowMs, unit, request.duration_value);
	const hwid = single?.hwid ?? null;
	refuseHwidConflict(store, subscriptionId, hwid, null);

	const pattern = request.key_pattern ?? schemaDefault<string>('KeyPattern');
	const batch = new Set<string>();
	const isTaken = (key: string): boolean => store.licenses.has(key) || batch.has(key);
	for (let index = 0; index < count; index++) {
		const key = uniqueKeyFromPattern(pattern, isTaken);
		if (key === null) {
			throw invalidInput(
				'key_pattern',
				pattern.includes('*')
					? `has too few * characters to make ${count} unused keys`
					: `gives the key ${pattern}, which already exists (add * for random characters)`,
			);
		}
		batch.add(key);
	}
	return [...batch].map((license_key) => {
		const license: LicenseRecord = {
			license_key,
			app_id: app.app_id,
			subscription_id: subscriptionId,
			storedStatus: 'active',
			duration_unit: unit,
			duration_value: unit === 'lifetime' ? null : (request.duration_value as number),
			expiresAtMs,
			createdAtMs: nowMs,
			updatedAtMs: nowMs,
			metadata: request.metadata ?? {},
			tags: request.tags ?? [],
			hwid,
			hwid_lock: request.hwid_lock ?? false,
			hwid_reset_allowed: true,
			hwid_reset_interval: 0,
			hwidLastResetAtMs: null,
			username: single?.username ?? null,
			hasPassword: single?.password !== undefined,
		};
		store.addLicense(license);
		return license;
	});
}

function extend(store: Store, license: LicenseRecord, extendSeconds: number): void {
	if (license.expiresAtMs === null) return; // lifetime stays lifetime
	const expiresAtMs = license.expiresAtMs + extendSeconds * 1000;
	if (expiresAtMs > LATEST_REPRESENTABLE_MS) throw invalidInput('extend_seconds', 'puts the expiry after the year 9999');
	license.expiresAtMs = expiresAtMs;
	license.updatedAtMs = store.now();
}

function touch(store: Store, license: LicenseRecord): void {
	license.updatedAtMs = store.now();
}

/** One result per key in request order; a key that fails (unknown, not ours, refused) fails alone. */
function forEachKey(access: Access, keys: string[], apply: (license: LicenseRecord) => void, withLicense: boolean): Schemas['BulkResultResponse'] {
	let succeeded = 0;
	const results = keys.map((license_key): Schemas['BulkItemResult'] => {
		try {
			const license = access.license(license_key);
			apply(license);
			succeeded++;
			return withLicense ? { license_key, success: true, license: access.store.licenseView(license) } : { license_key, success: true };
		} catch (error) {
			if (!(error instanceof ApiError)) throw error;
			return { license_key, success: false, error: error.message, error_code: error.code };
		}
	});
	return { results, succeeded, failed: keys.length - succeeded };
}

function paginate<T>(items: T[], page: number | undefined, perPage: number | undefined): { data: T[]; pagination: Schemas['Pagination'] } {
	const current = page ?? 1;
	const size = perPage ?? limits.default_per_page;
	const total = items.length;
	const start = (current - 1) * size;
	return {
		data: items.slice(start, start + size),
		pagination: { page: current, per_page: size, total, total_pages: Math.ceil(total / size), has_more: start + size < total },
	};
}

type SortField = NonNullable<RequestOf<'/license/get-bulk'>['sort_field']>;
const SORT_VALUE: Record<SortField, (license: LicenseRecord) => number | string> = {
	created_at: (license) => license.createdAtMs,
	updated_at: (license) => license.updatedAtMs,
	expires_at: (license) => license.expiresAtMs ?? Number.POSITIVE_INFINITY, // lifetime sorts as the latest expiry
	license_key: (license) => license.license_key,
};
const compareValues = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);

/** All of an app's licenses in one order, cached until the next write so that paging through a large app stays cheap. */
function sortedLicenses(store: Store, app: AppRecord, field: SortField, order: 'asc' | 'desc'): LicenseRecord[] {
	const cacheKey = `${app.app_id}|${field}|${order}`;
	const cached = store.sortedCache.get(cacheKey);
	if (cached?.version === store.version) return cached.licenses;
	const valueOf = SORT_VALUE[field];
	const direction = order === 'asc' ? 1 : -1;
	const licenses = [...app.licenseKeys].map((key) => store.licenses.get(key) as LicenseRecord);
	// license_key breaks ties, in the same direction, so that paging never repeats or skips a license.
	licenses.sort((a, b) => direction * (compareValues(valueOf(a), valueOf(b)) || compareValues(a.license_key, b.license_key)));
	store.sortedCache.set(cacheKey, { version: store.version, licenses });
	return licenses;
}

function setHwidLock(store: Store, license: LicenseRecord, value: boolean): void {
	license.hwid_lock = value;
	touch(store, license);
}

type Handler<P extends ContractPath> = (access: Access, request: RequestOf<P>) => SuccessOf<P>;
export type Handlers = { [P in ContractPath]: Handler<P> };

const READ_ONLY = new Set<ContractPath>(['/license/get', '/license/get-bulk', '/subscription/get-bulk']);

/** Runs one endpoint; any call that may write invalidates the read caches first (even if it then fails half-way). */
export function handle(path: ContractPath, access: Access, request: unknown): unknown {
	if (!READ_ONLY.has(path)) access.store.version++;
	return (handlers[path] as (access: Access, request: unknown) => unknown)(access, request);
}

export const handlers: Handlers = {
	'/license/create': (access, request) => {
		const [license] = createLicenses(access, request, 1, request);
		return { data: access.store.licenseView(license) };
	},

	'/license/create-bulk': (access, request) => {
		const created = createLicenses(access, request, request.key_amount);
		const nowMs = access.store.now();
		return { data: created.map((license) => access.store.licenseView(license, nowMs)) };
	},

	'/license/extend': (access, request) => {
		const license = access.license(request.license_key);
		extend(access.store, license, request.extend_seconds);
		return { data: access.store.licenseView(license) };
	},

	'/license/extend-bulk': (access, request) =>
		forEachKey(access, request.license_keys, (license) => extend(access.store, license, request.extend_seconds), true),

	'/license/delete': (access, request) => {
		access.store.removeLicense(access.license(request.license_key));
		return { data: { license_key: request.license_key, deleted: true } };
	},

	'/license/delete-bulk': (access, request) => forEachKey(access, request.license_keys, (license) => access.store.removeLicense(license), false),

	'/license/get': (access, request) => ({ data: access.store.licenseView(access.license(request.license_key)) }),

	'/license/get-bulk': (access, request) => {
		const { store } = access;
		const app = access.app(request.app_id);
		if (request.subscription_id !== undefined) access.subscriptionOfApp(request.subscription_id, app.app_id);
		const nowMs = store.now();
		const matches = sortedLicenses(store, app, request.sort_field ?? 'created_at', request.sort_order ?? 'desc').filter(
			(license) =>
				(request.subscription_id === undefined || license.subscription_id === request.subscription_id) &&
				(request.tag === undefined || license.tags.includes(request.tag)) &&
				(request.status === undefined || store.statusOf(license, nowMs) === request.status),
		);
		const page = paginate(matches, request.page, request.per_page);
		return { data: page.data.map((license) => store.licenseView(license, nowMs)), pagination: page.pagination };
	},

	'/license/update-status': (access, request) => {
		const license = access.license(request.license_key);
		license.storedStatus = request.status;
		touch(access.store, license);
		return { data: access.store.licenseView(license) };
	},

	'/license/update-status-bulk': (access, request) =>
		forEachKey(
			access,
			request.license_keys,
			(license) => {
				license.storedStatus = request.status;
				touch(access.store, license);
			},
			true,
		),

	'/license/update-subscription': (access, request) => {
		const { store } = access;
		const license = access.license(request.license_key);
		const target = request.subscription_id;
		if (target !== null) access.subscriptionOfApp(target, license.app_id);
		refuseHwidConflict(store, target, license.hwid, license.license_key);
		store.setSubscription(license, target);
		touch(store, license);
		return { data: store.licenseView(license) };
	},

	'/license/update-user-credentials': (access, request) => {
		const license = access.license(request.license_key);
		if (request.username !== undefined) license.username = request.username;
		if (request.password !== undefined) license.hasPassword = true; // the password is never stored or returned
		touch(access.store, license);
		return { data: access.store.licenseView(license) };
	},

	'/license/update-metadata': (access, request) => {
		const license = access.license(request.license_key);
		license.metadata = request.metadata;
		touch(access.store, license);
		return { data: access.store.licenseView(license) };
	},

	'/hwid/edit': (access, request) => {
		const { store } = access;
		const license = access.license(request.license_key);
		const hwid = request.hwid;
		if (hwid === license.hwid) return { data: store.licenseView(license) };
		const nowMs = store.now();
		const isReset = request.as_reset === true && license.hwid !== null;
		if (isReset) {
			if (!license.hwid_reset_allowed) throw new ApiError('ACCESS_DENIED', `HWID resets are not allowed for license ${license.license_key}`);
			const nextResetMs = license.hwidLastResetAtMs === null ? nowMs : license.hwidLastResetAtMs + license.hwid_reset_interval * MS_PER_HOUR;
			if (nextResetMs > nowMs) {
				throw new ApiError(
					'ACCESS_DENIED',
					`HWID reset refused: the next reset of license ${license.license_key} is allowed at ${new Date(nextResetMs).toISOString()}`,
				);
			}
		}
		refuseHwidConflict(store, license.subscription_id, hwid, license.license_key);
		store.setHwid(license, hwid);
		if (isReset) license.hwidLastResetAtMs = nowMs;
		license.updatedAtMs = nowMs;
		return { data: store.licenseView(license, nowMs) };
	},

	'/hwid/toggle-lock': (access, request) => {
		const license = access.license(request.license_key);
		setHwidLock(access.store, license, request.hwid_lock ?? !license.hwid_lock);
		return { data: access.store.licenseView(license) };
	},

	'/hwid/toggle-lock-bulk': (access, request) =>
		forEachKey(access, request.license_keys, (license) => setHwidLock(access.store, license, request.hwid_lock), true),

	'/hwid/toggle-reset-allowed': (access, request) => {
		const license = access.license(request.license_key);
		license.hwid_reset_allowed = request.reset_allowed ?? !license.hwid_reset_allowed;
		touch(access.store, license);
		return { data: access.store.licenseView(license) };
	},

	'/hwid/update-reset-interval': (access, request) => {
		const license = access.license(request.license_key);
		license.hwid_reset_interval = request.reset_interval;
		touch(access.store, license);
		return { data: access.store.licenseView(license) };
	},

	'/subscription/create': (access, request) => {
		const app = access.app(request.app_id);
		const subscription: SubscriptionRecord = {
			subscription_id: newSubscriptionId(),
			app_id: app.app_id,
			name: request.name,
			level: request.level,
			single_key_per_hwid: request.single_key_per_hwid ?? false,
			createdAtMs: access.store.now(),
			licenseKeys: new Set(),
			hwidHolders: new Map(),
		};
		access.store.addSubscription(subscription);
		return { data: access.store.subscriptionView(subscription) };
	},

	'/subscription/edit': (access, request) => {
		const subscription = access.subscription(request.subscription_id);
		if (request.single_key_per_hwid === true && !subscription.single_key_per_hwid) {
			for (const [hwid, holders] of subscription.hwidHolders) {
				if (holders.size > 1)
					throw invalidInput('single_key_per_hwid', `cannot be turned on: ${holders.size} licenses of this subscription share the HWID ${hwid}`);
			}
		}
		if (request.name !== undefined) subscription.name = request.name;
		if (request.level !== undefined) subscription.level = request.level;
		if (request.single_key_per_hwid !== undefined) subscription.single_key_per_hwid = request.single_key_per_hwid;
		return { data: access.store.subscriptionView(subscription) };
	},

	'/subscription/delete': (access, request) => {
		const subscription = access.subscription(request.subscription_id);
		const deleted_license_count = access.store.removeSubscription(subscription);
		return { data: { subscription_id: subscription.subscription_id, deleted: true, deleted_license_count } };
	},

	'/subscription/get-bulk': (access, request) => {
		const { store } = access;
		const app = access.app(request.app_id);
		const all = [...app.subscriptionIds].map((id) => store.subscriptions.get(id) as SubscriptionRecord);
		const page = paginate(all, request.page, request.per_page);
		return { data: page.data.map((subscription) => store.subscriptionView(subscription)), pagination: page.pagination };
	},
};
