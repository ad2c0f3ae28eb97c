import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { components } from '../../../openapi/keycrate';
import { LICENSE_KEY, LIMITS, UUID_PATTERN } from '../contract';
import { CREDENTIAL_TYPE, type KeycrateCredentials } from '../transport/request';

type Metadata = components['schemas']['Metadata'];

/** Refuses bad input before any request, naming the parameter by its display name. */
export function invalidInput(context: IExecuteFunctions, itemIndex: number, message: string, description?: string): NodeOperationError {
	return new NodeOperationError(context.getNode(), message, { itemIndex, description });
}

/** A value short enough to quote in an error message. */
function quote(value: unknown): string {
	if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
	const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
	return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

export function requireUuid(this: IExecuteFunctions, value: unknown, label: string, itemIndex: number): string {
	const text = typeof value === 'string' ? value.trim() : value;
	if (typeof text !== 'string' || !UUID_PATTERN.test(text)) {
		throw invalidInput(this, itemIndex, `${label} must be a UUID, got ${quote(value)}`);
	}
	return text;
}

export const NO_APP_ID = 'App ID is empty and the Keycrate API credential has no default App ID';

/**
 * Which App ID to use: the node's `appId` parameter, or the credential's default when it is empty;
 * with the name to give it in an error. Undefined when both are empty.
 */
export function pickAppId(nodeValue: unknown, credentials: KeycrateCredentials): { value: unknown; label: string } | undefined {
	if (!(typeof nodeValue === 'string' && nodeValue.trim() === '') && nodeValue !== undefined) {
		return { value: nodeValue, label: 'App ID' };
	}
	const fallback = credentials.appId?.trim();
	return fallback ? { value: fallback, label: 'The default App ID of the credential' } : undefined;
}

/** The `appId` parameter, or the credential's default App ID when the parameter is empty. */
export async function readAppId(this: IExecuteFunctions, itemIndex: number): Promise<string> {
	const credentials = await this.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE);
	const picked = pickAppId(this.getNodeParameter('appId', itemIndex, ''), credentials);
	if (!picked) {
		throw invalidInput(this, itemIndex, NO_APP_ID, 'Set App ID on the node, or a default App ID in the credential.');
	}
	return requireUuid.call(this, picked.value, picked.label, itemIndex);
}

/** An array (from an expression) or a comma/newline separated string, as trimmed non-empty strings. */
export function parseList(value: unknown): string[] {
	const parts = Array.isArray(value) ? value.map((part) => (part === null ? '' : String(part))) : String(value ?? '').split(/[,\n]/);
	return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function checkLicenseKey(this: IExecuteFunctions, key: string, label: string, itemIndex: number): void {
	if (key.length > LICENSE_KEY.maxLength || !LICENSE_KEY.pattern.test(key)) {
		throw invalidInput(
			this,
			itemIndex,
			`${label}: ${quote(key)} is not a license key`,
			`A license key has 1 to ${LICENSE_KEY.maxLength} characters from A-Z, a-z, 0-9, "-" and "_".`,
		);
	}
}

export function readLicenseKey(this: IExecuteFunctions, itemIndex: number): string {
	const key = String(this.getNodeParameter('licenseKey', itemIndex, '') ?? '').trim();
	if (key === '') throw invalidInput(this, itemIndex, 'License Key is empty');
	checkLicenseKey.call(this, key, 'License Key', itemIndex);
	return key;
}

/** The `licenseKeys` list: at least one key, each well-formed; a key listed twice is kept once. */
export function readLicenseKeys(this: IExecuteFunctions, itemIndex: number): string[] {
	const keys = parseList(this.getNodeParameter('licenseKeys', itemIndex, ''));
	if (keys.length === 0) {
		throw invalidInput(
			this,
			itemIndex,
			'License Keys is empty',
			'Give one or more keys separated by commas or new lines, or an expression returning an array.',
		);
	}
	for (const key of keys) checkLicenseKey.call(this, key, 'License Keys', itemIndex);
	return [...new Set(keys)];
}

/** Metadata from a JSON parameter: a JSON object whose text fits Keycrate's limit. */
export function parseMetadata(this: IExecuteFunctions, value: unknown, itemIndex: number): Metadata {
	let parsed: unknown = value;
	if (typeof value === 'string') {
		try {
			parsed = JSON.parse(value);
		} catch (error) {
			throw invalidInput(this, itemIndex, 'Metadata is not valid JSON', (error as Error).message);
		}
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw invalidInput(this, itemIndex, 'Metadata must be a JSON object, like {"plan": "pro"}');
	}
	const length = JSON.stringify(parsed).length;
	if (length > LIMITS.maxMetadataChars) {
		throw invalidInput(this, itemIndex, `Metadata is ${length} characters of JSON; Keycrate allows at most ${LIMITS.maxMetadataChars}`);
	}
	return parsed as Metadata;
}

/**
 * A whole number within the bounds of the number parameter `field` (its typeOptions minValue and
 * maxValue). n8n does not coerce expression results, so "86400" from an expression is accepted too.
 */
export function toInteger(this: IExecuteFunctions, value: unknown, field: INodeProperties, itemIndex: number): number {
	const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	const min = field.typeOptions?.minValue ?? -Infinity;
	const max = field.typeOptions?.maxValue ?? Infinity;
	if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
		const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
		throw invalidInput(this, itemIndex, `${field.displayName} must be a whole number ${range}, got ${quote(value)}`);
	}
	return number;
}

/** The top-level number parameter `field`, checked by toInteger. */
export function readInteger(this: IExecuteFunctions, field: INodeProperties, itemIndex: number): number {
	return toInteger.call(this, this.getNodeParameter(field.name, itemIndex), field, itemIndex);
}

/**
 * The UUID of a Subscription Tier parameter: a resource locator value (From List or By ID), or a
 * plain string from an expression or an older workflow. Empty gives undefined.
 */
export function readSubscriptionId(this: IExecuteFunctions, value: unknown, itemIndex: number): string | undefined {
	const raw = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
	if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return undefined;
	return requireUuid.call(this, raw, 'Subscription Tier', itemIndex);
}

/**
 * A required boolean parameter. An expression may give "true"/"false"; anything else is refused
 * rather than read as false, because these set a value on the license.
 */
export function readBoolean(this: IExecuteFunctions, field: INodeProperties, itemIndex: number): boolean {
	const value = this.getNodeParameter(field.name, itemIndex);
	if (typeof value === 'boolean') return value;
	if (value === 'true' || value === 'false') return value === 'true';
	throw invalidInput(this, itemIndex, `${field.displayName} must be true or false, got ${quote(value)}`);
}

/** The top-level Subscription Tier parameter, which the operation cannot do without. */
export function readRequiredSubscriptionId(this: IExecuteFunctions, itemIndex: number): string {
	const id = readSubscriptionId.call(this, this.getNodeParameter('subscriptionId', itemIndex, ''), itemIndex);
	if (id === undefined) throw invalidInput(this, itemIndex, 'Subscription Tier is empty', 'Choose a tier from the list or give its ID.');
	return id;
}

/**
 * An optional Subscription Tier field of a collection (Additional Fields, Filters): absent gives
 * undefined; added but empty is refused, since dropping it silently would act on every tier.
 */
export function readOptionalSubscriptionId(
	this: IExecuteFunctions,
	fields: { subscriptionId?: unknown },
	collection: string,
	itemIndex: number,
): string | undefined {
	if (!('subscriptionId' in fields) || fields.subscriptionId === undefined) return undefined;
	const id = readSubscriptionId.call(this, fields.subscriptionId, itemIndex);
	if (id === undefined) {
		throw invalidInput(this, itemIndex, `${collection} → Subscription Tier is empty`, 'Choose a tier, or remove the field.');
	}
	return id;
}
