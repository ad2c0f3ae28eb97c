import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { LIMITS, UUID_PATTERN } from '../contract';
import { invalidInput, toInteger } from '../helpers/input';
import type { PagingRequest } from '../helpers/pagination';

/** Parameters shared by several operations; each operation file places them under its own displayOptions. */

export const appIdField: INodeProperties = {
	displayName: 'App ID',
	name: 'appId',
	type: 'string',
	default: '',
	placeholder: 'e.g. 2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11',
	description: 'UUID of the Keycrate app. Leave empty to use the default App ID of the Keycrate API credential.',
};

export const licenseKeyField: INodeProperties = {
	displayName: 'License Key',
	name: 'licenseKey',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. ABCD-EFGH-IJKL-MNOP',
	description: 'The license key to act on',
};

export const licenseKeysField: INodeProperties = {
	displayName: 'License Keys',
	name: 'licenseKeys',
	type: 'string',
	typeOptions: { rows: 4 },
	required: true,
	default: '',
	placeholder: 'e.g. ABCD-EFGH-IJKL-MNOP, QRST-UVWX-YZ01-2345',
	description:
		'The license keys to act on, separated by commas or new lines, or an expression returning an array. Any number of keys: lists longer than the batch size are sent in several calls, and the node outputs one item per key.',
};

/**
 * A subscription tier: From List (the tiers of the App ID, searchable) or By ID. The list needs
 * the App ID parameter, so every operation that shows this field shows App ID too.
 * `hint` says what the tier is for in this operation.
 */
export function subscriptionIdField(hint: string, required = true): INodeProperties {
	return {
		displayName: 'Subscription Tier',
		name: 'subscriptionId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required,
		description: hint,
		typeOptions: { loadOptionsDependsOn: ['appId'] },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a tier...',
				typeOptions: { searchListMethod: 'searchSubscriptions', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 7b1e6f0a-3c2d-4e5f-8a9b-0c1d2e3f4a5b',
				validation: [
					{
						type: 'regex',
						properties: { regex: UUID_PATTERN.source, errorMessage: 'A subscription ID is a UUID' },
					},
				],
			},
		],
	};
}

export const durationValueField: INodeProperties = {
	displayName: 'Duration Value',
	name: 'durationValue',
	type: 'number',
	required: true,
	typeOptions: { minValue: 1, maxValue: 100000 },
	default: 30,
	description: 'How many duration units the license lasts',
	displayOptions: { hide: { durationUnit: ['lifetime'] } },
};

export const durationFields: INodeProperties[] = [
	{
		displayName: 'Duration Unit',
		name: 'durationUnit',
		type: 'options',
		required: true,
		// The contract's DurationUnit enum; test/node/contract-facts.test.ts compares them.
		options: [
			{ name: 'Days', value: 'days' },
			{ name: 'Hours', value: 'hours' },
			{ name: 'Lifetime (Never Expires)', value: 'lifetime' },
			{ name: 'Minutes', value: 'minutes' },
			{ name: 'Months', value: 'months' },
			{ name: 'Years', value: 'years' },
		],
		default: 'days',
		description: 'Unit of the license duration, counted from creation',
	},
	durationValueField,
];

/** Optional license settings shared by Create and Create Many, in additionalFields. */
export const licenseSetting: Record<'hwidLock' | 'keyPattern' | 'metadata' | 'subscriptionId' | 'tags', INodeProperties> = {
	hwidLock: {
		displayName: 'HWID Lock',
		name: 'hwidLock',
		type: 'boolean',
		default: false,
		description: 'Whether the license is locked to the first hardware ID that uses it',
	},
	keyPattern: {
		displayName: 'Key Pattern',
		name: 'keyPattern',
		type: 'string',
		default: '',
		placeholder: 'e.g. PRO-****-****',
		description:
			"Pattern of the generated key: each * becomes a random character from A-Z and 0-9, other characters are kept. Keycrate's default is ****-****-****-****.",
	},
	metadata: {
		displayName: 'Metadata',
		name: 'metadata',
		type: 'json',
		default: '{}',
		description: `Free JSON object stored with the license, at most ${LIMITS.maxMetadataChars} characters of JSON`,
	},
	subscriptionId: subscriptionIdField('Subscription tier the license belongs to', false),
	tags: {
		displayName: 'Tags',
		name: 'tags',
		type: 'string',
		default: '',
		placeholder: 'e.g. stripe, pro',
		description: 'Labels for the license, separated by commas or new lines, or an expression returning an array',
	},
};

/** The same settings in n8n's alphabetical order. */
export const licenseSettingFields: INodeProperties[] = Object.values(licenseSetting);

const batchSizeField: INodeProperties = {
	displayName: 'Batch Size',
	name: 'batchSize',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: LIMITS.maxBatch },
	default: 1000, // LIMITS.maxBatch; a literal for n8n's lint, checked by a test
	description: 'Most items per API call',
};

export function batchSizeOption(what: string): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				...batchSizeField,
				description: `Most ${what} per API call; larger lists are split into several calls. Lower it if your Keycrate plan allows less than ${LIMITS.maxBatch}.`,
			},
		],
	};
}

/** Options → Batch Size of a bulk operation. */
export function readBatchSize(this: IExecuteFunctions, itemIndex: number): number {
	const value = this.getNodeParameter('options.batchSize', itemIndex, LIMITS.maxBatch);
	return toInteger.call(this, value, batchSizeField, itemIndex);
}

export const returnAllField: INodeProperties = {
	displayName: 'Return All',
	name: 'returnAll',
	type: 'boolean',
	default: false,
	description: 'Whether to return all results or only up to a given limit',
};

export const limitField: INodeProperties = {
	displayName: 'Limit',
	name: 'limit',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: 50,
	description: 'Max number of results to return',
	displayOptions: { show: { returnAll: [false] } },
};

export const pageSizeOption: INodeProperties = {
	displayName: 'Page Size',
	name: 'pageSize',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: LIMITS.maxPerPage },
	default: 100, // LIMITS.maxPerPage; a literal for n8n's lint, checked by a test
	description: 'Results fetched per API call while paging',
};

const SECONDS_PER: Record<string, number> = { minutes: 60, hours: 3600, days: 86400, weeks: 604800 };

export const extendByField: INodeProperties = {
	displayName: 'Extend By',
	name: 'extendBy',
	type: 'number',
	required: true,
	typeOptions: { minValue: 1 },
	default: 30,
	description: 'How much later the license expires, counted from its current expiry (not from now). Lifetime licenses are unchanged.',
};

export const extendUnitField: INodeProperties = {
	displayName: 'Unit',
	name: 'extendUnit',
	type: 'options',
	options: [
		{ name: 'Days', value: 'days' },
		{ name: 'Hours', value: 'hours' },
		{ name: 'Minutes', value: 'minutes' },
		{ name: 'Weeks', value: 'weeks' },
	],
	default: 'days',
	description: 'Unit of Extend By. Months and years vary in length; use days (e.g. 30 or 365).',
};

/** The most seconds one extension may add (components.schemas.ExtendSeconds.maximum). */
export const MAX_EXTEND_SECONDS = 3153600000;

/** Extend By × Unit in seconds, checked against the contract's bound. */
export function readExtendSeconds(this: IExecuteFunctions, itemIndex: number): number {
	const unit = String(this.getNodeParameter('extendUnit', itemIndex, 'days'));
	const perUnit = SECONDS_PER[unit];
	if (perUnit === undefined) {
		throw invalidInput(this, itemIndex, `Unit must be one of ${Object.keys(SECONDS_PER).join(', ')}, got "${unit}"`);
	}
	const by = toInteger.call(
		this,
		this.getNodeParameter('extendBy', itemIndex),
		{ ...extendByField, typeOptions: { minValue: 1, maxValue: Math.floor(MAX_EXTEND_SECONDS / perUnit) } },
		itemIndex,
	);
	return by * perUnit;
}

export const simplifyField: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: true,
	description: 'Whether to return a simplified version of the response instead of the raw data',
};

/** Filters → Status of a license list. */
export const licenseStatusFilterField: INodeProperties = {
	displayName: 'Status',
	name: 'status',
	type: 'options',
	options: [
		{ name: 'Active', value: 'active' },
		{ name: 'Expired', value: 'expired' },
		{ name: 'Paused', value: 'paused' },
	],
	default: 'active',
	description: 'Only licenses with this status (expired: active but past its expiry)',
};

/** Filters → Tag of a license list. */
export const tagFilterField: INodeProperties = {
	displayName: 'Tag',
	name: 'tag',
	type: 'string',
	default: '',
	description: 'Only licenses carrying this tag',
};

export const statusField: INodeProperties = {
	displayName: 'Status',
	name: 'status',
	type: 'options',
	required: true,
	options: [
		{ name: 'Active', value: 'active' },
		{ name: 'Paused', value: 'paused' },
	],
	default: 'paused',
	description: 'Paused licenses stop validating until they are made active again',
};

/** Options → Page Size of a Get Many operation. */
export const pagingOptionsField: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [pageSizeOption],
};

/** Return All, Limit and Options → Page Size of a Get Many operation. */
export function readPagingRequest(this: IExecuteFunctions, itemIndex: number): PagingRequest {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const pageSize = toInteger.call(this, this.getNodeParameter('options.pageSize', itemIndex, LIMITS.maxPerPage), pageSizeOption, itemIndex);
	if (returnAll) return { returnAll, limit: Infinity, pageSize };
	const limit = toInteger.call(this, this.getNodeParameter('limit', itemIndex, 50), limitField, itemIndex);
	return { returnAll, limit, pageSize };
}
