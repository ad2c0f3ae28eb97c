// The Keycrate calls a sync makes (the port keycrate/client.ts implements; tests may wrap it), and the one reader
// of a root's licenses: a tag search per app, keeping only licenses that name the root.

import type { FoundLicense, KeycrateLicense, LicenseCreateRequest, RootId, SettableStatus } from '../model.js';
import { belongsTo, readLicense, rootTag } from './record.js';

export interface LicenseApi {
	createLicense(body: LicenseCreateRequest): Promise<KeycrateLicense>;
	getLicense(licenseKey: string): Promise<KeycrateLicense | null>;
	extendLicense(licenseKey: string, extendSeconds: number): Promise<KeycrateLicense>;
	updateStatus(licenseKey: string, status: SettableStatus): Promise<KeycrateLicense>;
	updateSubscription(licenseKey: string, subscriptionId: string | null): Promise<KeycrateLicense>;
	updateMetadata(licenseKey: string, metadata: Record<string, unknown>): Promise<KeycrateLicense>;
	deleteLicense(licenseKey: string): Promise<void>;
	findLicensesByTag(tag: string, appId?: string): Promise<unknown[]>;
}

/** A license as read (`found`) and as Keycrate sent it (`raw`). */
export interface RootLicense {
	found: FoundLicense;
	raw: unknown;
}

/**
 * Every license of the root in these apps, each once. Only licenses that name the root: the tag filter of
 * get-bulk is inferred, and an app filter may be ignored too.
 */
export async function readRootLicenses(api: LicenseApi, root: RootId, appIds: Iterable<string>): Promise<RootLicense[]> {
	const byKey = new Map<string, RootLicense>();
	for (const appId of new Set(appIds)) {
		for (const raw of await api.findLicensesByTag(rootTag(root), appId)) {
			const found = belongsTo(raw, root) ? readLicense(raw, appId) : undefined;
			if (found !== undefined && !byKey.has(found.licenseKey)) byKey.set(found.licenseKey, { found, raw });
		}
	}
	return [...byKey.values()];
}
