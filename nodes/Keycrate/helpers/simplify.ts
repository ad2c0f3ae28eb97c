import type { IExecuteFunctions } from 'n8n-workflow';

import type { Item } from './pagination';

/**
 * The fields of a license that most workflows use (the full object has about 18). Simplify keeps
 * these, in this order, and only those the reply has.
 */
export const SIMPLE_LICENSE_FIELDS = ['license_key', 'status', 'expires_at', 'subscription_id', 'tags', 'hwid', 'hwid_lock', 'username', 'created_at'] as const;

export function simplifyLicense(license: Item): Item {
	const simple: Item = {};
	for (const field of SIMPLE_LICENSE_FIELDS) if (field in license) simple[field] = license[field];
	return simple;
}

/** The licenses as the operation outputs them: simplified unless Simplify is off. */
export function outputLicenses(this: IExecuteFunctions, itemIndex: number, licenses: Item[]): Item[] {
	const simplify = this.getNodeParameter('simplify', itemIndex, true) as boolean;
	return simplify ? licenses.map(simplifyLicense) : licenses;
}
