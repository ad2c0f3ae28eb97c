/** The emulator's in-memory state, with the indexes that keep every lookup O(1). */
import type { Schemas } from './contract';
import { isoOrNull } from './time';

export interface AppCredentials {
	app_id: string;
	api_key: string;
}

export interface AppRecord extends AppCredentials {
	licenseKeys: Set<string>;
	subscriptionIds: Set<string>;
}

export interface LicenseRecord {
	license_key: string;
	app_id: string;
	subscription_id: string | null;
	/** What was set; `expired` is derived when read. */
	storedStatus: Schemas['SettableStatus'];
	duration_unit: Schemas['DurationUnit'];
	duration_value: number | null;
	expiresAtMs: number | null;
	createdAtMs: number;
	updatedAtMs: number;
	metadata: Schemas['Metadata'];
	tags: Schemas['Tags'];
	hwid: string | null;
	hwid_lock: boolean;
	hwid_reset_allowed: boolean;
	hwid_reset_interval: number;
	hwidLastResetAtMs: number | null;
	username: string | null;
	hasPassword: boolean;
}

export interface SubscriptionRecord {
	subscription_id: string;
	app_id: string;
	name: string;
	level: number;
	single_key_per_hwid: boolean;
	createdAtMs: number;
	licenseKeys: Set<string>;
	/** hwid → keys of this tier's licenses bound to it (single_key_per_hwid checks). */
	hwidHolders: Map<string, Set<string>>;
}

export interface AppState {
	app_id: string;
	licenses: Schemas['License'][];
	subscriptions: Schemas['Subscription'][];
}

export class Store {
	readonly apps = new Map<string, AppRecord>();
	/** api_key → the apps it owns (one key may own several apps). */
	readonly appsByApiKey = new Map<string, Set<string>>();
	readonly licenses = new Map<string, LicenseRecord>();
	readonly subscriptions = new Map<string, SubscriptionRecord>();
	clockOffsetMs = 0;
	/** Bumped by every call that may change data; read caches (get-bulk's sorted lists) check it. */
	version = 0;
	readonly sortedCache = new Map<string, { version: number; licenses: LicenseRecord[] }>();

	constructor(apps: AppCredentials[]) {
		for (const app of apps) this.addApp(app);
	}

	now(): number {
		return Date.now() + this.clockOffsetMs;
	}

	addApp({ app_id, api_key }: AppCredentials): void {
		this.apps.set(app_id, { app_id, api_key, licenseKeys: new Set(), subscriptionIds: new Set() });
		let owned = this.appsByApiKey.get(api_key);
		if (!owned) this.appsByApiKey.set(api_key, (owned = new Set()));
		owned.add(app_id);
	}

	addLicense(license: LicenseRecord): void {
		this.licenses.set(license.license_key, license);
		this.apps.get(license.app_id)?.licenseKeys.add(license.license_key);
		this.indexInSubscription(license);
	}

	removeLicense(license: LicenseRecord): void {
		this.unindexFromSubscription(license);
		this.apps.get(license.app_id)?.licenseKeys.delete(license.license_key);
		this.licenses.delete(license.license_key);
	}

	setHwid(license: LicenseRecord, hwid: string | null): void {
		this.unindexFromSubscription(license);
		license.hwid = hwid;
		this.indexInSubscription(license);
	}

	setSubscription(license: LicenseRecord, subscriptionId: string | null): void {
		this.unindexFromSubscription(license);
		license.subscription_id = subscriptionId;
		this.indexInSubscription(license);
	}

	addSubscription(subscription: SubscriptionRecord): void {
		this.subscriptions.set(subscription.subscription_id, subscription);
		this.apps.get(subscription.app_id)?.subscriptionIds.add(subscription.subscription_id);
	}

	/** Deletes the tier and every license under it; returns how many licenses went. */
	removeSubscription(subscription: SubscriptionRecord): number {
		const keys = [...subscription.licenseKeys];
		for (const key of keys) {
			const license = this.licenses.get(key);
			if (license) this.removeLicense(license);
		}
		this.apps.get(subscription.app_id)?.subscriptionIds.delete(subscription.subscription_id);
		this.subscriptions.delete(subscription.subscription_id);
		return keys.length;
	}

	/** Another license of the tier that already holds this hwid, if any. */
	hwidHolderOtherThan(subscriptionId: string, hwid: string, licenseKey: string | null): string | undefined {
		const holders = this.subscriptions.get(subscriptionId)?.hwidHolders.get(hwid);
		if (!holders) return undefined;
		for (const key of holders) if (key !== licenseKey) return key;
		return undefined;
	}

	/** `expired` is derived: stored active and past expires_at. */
	statusOf(license: LicenseRecord, nowMs: number): Schemas['LicenseStatus'] {
		return license.storedStatus === 'active' && license.expiresAtMs !== null && license.expiresAtMs < nowMs ? 'expired' : license.storedStatus;
	}

	licenseView(license: LicenseRecord, nowMs = this.now()): Schemas['License'] {
		return {
			license_key: license.license_key,
			app_id: license.app_id,
			subscription_id: license.subscription_id,
			status: this.statusOf(license, nowMs),
			duration_unit: license.duration_unit,
			duration_value: license.duration_value,
			expires_at: isoOrNull(license.expiresAtMs),
			created_at: new Date(license.createdAtMs).toISOString(),
			updated_at: new Date(license.updatedAtMs).toISOString(),
			metadata: license.metadata,
			tags: license.tags,
			hwid: license.hwid,
			hwid_lock: license.hwid_lock,
			hwid_reset_allowed: license.hwid_reset_allowed,
			hwid_reset_interval: license.hwid_reset_interval,
			hwid_last_reset_at: isoOrNull(license.hwidLastResetAtMs),
			username: license.username,
			has_password: license.hasPassword,
		};
	}

	subscriptionView(subscription: SubscriptionRecord): Schemas['Subscription'] {
		return {
			subscription_id: subscription.subscription_id,
			app_id: subscription.app_id,
			name: subscription.name,
			level: subscription.level,
			single_key_per_hwid: subscription.single_key_per_hwid,
			license_count: subscription.licenseKeys.size,
			created_at: new Date(subscription.createdAtMs).toISOString(),
		};
	}

	/** A deep copy of every app's data, as `GET /__emulator/state` shows it. */
	snapshot(): { apps: AppState[] } {
		const nowMs = this.now();
		const apps = [...this.apps.values()].map((app) => ({
			app_id: app.app_id,
			licenses: [...app.licenseKeys].map((key) => this.licenseView(this.licenses.get(key) as LicenseRecord, nowMs)),
			subscriptions: [...app.subscriptionIds].map((id) => this.subscriptionView(this.subscriptions.get(id) as SubscriptionRecord)),
		}));
		return JSON.parse(JSON.stringify({ apps })) as { apps: AppState[] };
	}

	private indexInSubscription(license: LicenseRecord): void {
		const subscription = license.subscription_id ? this.subscriptions.get(license.subscription_id) : undefined;
		if (!subscription) return;
		subscription.licenseKeys.add(license.license_key);
		if (license.hwid === null) return;
		let holders = subscription.hwidHolders.get(license.hwid);
		if (!holders) subscription.hwidHolders.set(license.hwid, (holders = new Set()));
		holders.add(license.license_key);
	}

	private unindexFromSubscription(license: LicenseRecord): void {
		const subscription = license.subscription_id ? this.subscriptions.get(license.subscription_id) : undefined;
		if (!subscription) return;
		subscription.licenseKeys.delete(license.license_key);
		if (license.hwid === null) return;
		const holders = subscription.hwidHolders.get(license.hwid);
		holders?.delete(license.license_key);
		if (holders?.size === 0) subscription.hwidHolders.delete(license.hwid);
	}
}
