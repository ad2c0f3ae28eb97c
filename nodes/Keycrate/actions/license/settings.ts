import type { IExecuteFunctions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { parseList, parseMetadata, readInteger, readOptionalSubscriptionId } from '../../helpers/input';
import { durationValueField } from '../fields';

type Schemas = components['schemas'];

/** additionalFields shared by Create and Create Many */
export interface LicenseSettingFields {
	hwidLock?: boolean;
	keyPattern?: string;
	metadata?: unknown;
	subscriptionId?: unknown;
	tags?: unknown;
}

type LicenseSettings = Pick<Schemas['LicenseCreateBulkRequest'], 'subscription_id' | 'key_pattern' | 'hwid_lock' | 'tags' | 'metadata'>;

export function readDuration(this: IExecuteFunctions, itemIndex: number): Pick<Schemas['LicenseCreateRequest'], 'duration_unit' | 'duration_value'> {
	const unit = this.getNodeParameter('durationUnit', itemIndex) as Schemas['DurationUnit'];
	if (unit === 'lifetime') return { duration_unit: unit };
	return { duration_unit: unit, duration_value: readInteger.call(this, durationValueField, itemIndex) };
}

export function readLicenseSettings(this: IExecuteFunctions, fields: LicenseSettingFields, itemIndex: number): LicenseSettings {
	const settings: LicenseSettings = { hwid_lock: fields.hwidLock ?? false };
	const subscriptionId = readOptionalSubscriptionId.call(this, fields, 'Additional Fields', itemIndex);
	if (subscriptionId) settings.subscription_id = subscriptionId;
	if (fields.keyPattern) settings.key_pattern = fields.keyPattern.trim();
	if (fields.tags !== undefined) {
		const tags = parseList(fields.tags);
		if (tags.length > 0) settings.tags = tags;
	}
	if (fields.metadata !== undefined) settings.metadata = parseMetadata.call(this, fields.metadata, itemIndex);
	return settings;
}
