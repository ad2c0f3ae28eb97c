import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, parseList, parseMetadata, readBoolean, readLicenseKeys, requireUuid, toInteger } from '../../../Keycrate/helpers/input';
import { durationFields, licenseKeysField, licenseStatusFilterField, simplifyField, tagFilterField } from '../../../Keycrate/actions/fields';
import { JOB_KINDS, KEY_PATTERN, WORKER_LIMITS, type JobKind } from '../../contract';
import { outputJobs } from '../../helpers/simplify';
import { workerRequest } from '../../transport/request';

/** The kinds that act on a selection of existing licenses (every kind but create). */
const SELECTION_KINDS: JobKind[] = JOB_KINDS.filter((kind) => kind !== 'create');

const tierIdField = (description: string, required: boolean): INodeProperties => ({
	displayName: 'Subscription Tier ID',
	name: 'subscriptionId',
	type: 'string',
	required,
	default: '',
	placeholder: 'e.g. 7b1e6f0a-3c2d-4e5f-8a9b-0c1d2e3f4a5b',
	description,
});

const countField: INodeProperties = {
	displayName: 'Number of Licenses',
	name: 'count',
	type: 'number',
	required: true,
	typeOptions: { minValue: 1, maxValue: 1000000 }, // WORKER_LIMITS.maxCount; a literal for n8n's lint
	default: 100,
	description: 'How many licenses the job creates (up to 1,000,000), in chunks of the API batch size',
	displayOptions: { show: { kind: ['create'] } },
};

const durationValueField: INodeProperties = {
	displayName: 'Duration Value',
	name: 'durationValue',
	type: 'number',
	required: true,
	typeOptions: { minValue: 1, maxValue: 100000 }, // WORKER_LIMITS.maxDurationValue
	default: 30,
	description: 'How many duration units: the length of a new license, or how much later an extended one expires',
	displayOptions: { show: { kind: ['create', 'extend'] }, hide: { durationUnit: ['lifetime'] } },
};

const hwidLockField: INodeProperties = {
	displayName: 'HWID Lock',
	name: 'hwidLock',
	type: 'boolean',
	default: false,
	description: 'Whether the licenses are locked to the first hardware ID that uses them',
};

const UNITS = [
	{ name: 'Days', value: 'days' },
	{ name: 'Hours', value: 'hours' },
	{ name: 'Minutes', value: 'minutes' },
	{ name: 'Months', value: 'months' },
	{ name: 'Years', value: 'years' },
];

const properties: INodeProperties[] = [
	{
		displayName: 'Kind',
		name: 'kind',
		type: 'options',
		noDataExpression: true,
		// The contract's JobKind enum; test/node/worker-contract-facts.test.ts compares them.
		options: [
			{ name: 'Activate', value: 'activate', description: 'Set the selected licenses active' },
			{ name: 'Create', value: 'create', description: 'Create a number of licenses with the same settings' },
			{ name: 'Delete', value: 'delete', description: 'Delete the selected licenses' },
			{ name: 'Export', value: 'export', description: 'Write the selected licenses to a CSV or JSON-lines file on the worker' },
			{ name: 'Extend', value: 'extend', description: 'Move the expiry of the selected licenses later' },
			{ name: 'Lock', value: 'lock', description: 'Set the HWID lock of the selected licenses' },
			{ name: 'Pause', value: 'pause', description: 'Pause the selected licenses' },
			{ name: 'Retier', value: 'retier', description: 'Move the selected licenses to a subscription tier' },
		],
		default: 'extend',
		description: 'What the job does',
	},
	{
		displayName: 'App ID',
		name: 'appId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11',
		description: 'UUID of the Keycrate app whose licenses the job creates or acts on',
	},
	countField,
	// The Keycrate node's Duration Unit (the same DurationUnit enum), for the new licenses.
	{ ...durationFields[0], displayOptions: { show: { kind: ['create'] } } },
	{
		displayName: 'Duration Unit',
		name: 'durationUnit',
		type: 'options',
		options: UNITS,
		default: 'days',
		description: 'Unit of the extension, counted from each license’s current expiry. Lifetime licenses are unchanged.',
		displayOptions: { show: { kind: ['extend'] } },
	},
	durationValueField,
	{
		displayName: 'Select By',
		name: 'selectBy',
		type: 'options',
		options: [
			{ name: 'Filter', value: 'filter', description: 'Licenses of the app with a tier, status and/or tag, as they are when the job starts' },
			{ name: 'License Keys', value: 'licenseKeys', description: 'A list of keys' },
			{ name: 'Every License of the App', value: 'all', description: 'Every license of the App ID' },
		],
		default: 'filter',
		description: 'Which licenses the job acts on. A filter is resolved into a fixed list when the job starts.',
		displayOptions: { show: { kind: SELECTION_KINDS } },
	},
	{
		...licenseKeysField,
		description: 'The keys to act on, separated by commas or new lines, or an expression returning an array (up to 1,000,000)',
		displayOptions: { show: { kind: SELECTION_KINDS, selectBy: ['licenseKeys'] } },
	},
	{
		displayName: 'Filter',
		name: 'filter',
		type: 'collection',
		placeholder: 'Add Condition',
		default: {},
		description: 'At least one condition; licenses must meet all of them',
		displayOptions: { show: { kind: SELECTION_KINDS, selectBy: ['filter'] } },
		options: [licenseStatusFilterField, tierIdField('Only licenses of this subscription tier (its UUID)', false), tagFilterField],
	},
	{
		...tierIdField('The subscription tier (its UUID) the licenses move to', true),
		displayOptions: { show: { kind: ['retier'] } },
	},
	{
		...hwidLockField,
		required: true,
		description: 'Whether the licenses are locked to a hardware ID: on locks, off unlocks',
		displayOptions: { show: { kind: ['lock'] } },
	},
	{
		displayName: 'Format',
		name: 'format',
		type: 'options',
		options: [
			{ name: 'CSV', value: 'csv' },
			{ name: 'JSON Lines', value: 'jsonl' },
		],
		default: 'csv',
		description: 'Format of the export file the worker writes',
		displayOptions: { show: { kind: ['export'] } },
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: { kind: ['create'] } },
		options: [
			hwidLockField,
			{
				displayName: 'Key Pattern',
				name: 'keyPattern',
				type: 'string',
				default: '',
				placeholder: 'e.g. PRO-****-****',
				description: 'Pattern of the generated keys: each * becomes a random character from A-Z and 0-9, other characters are kept',
			},
			{
				displayName: 'Metadata',
				name: 'metadata',
				type: 'json',
				default: '{}',
				description: 'Free JSON object stored on every created license, at most 2,000 characters of JSON',
			},
			tierIdField('Subscription tier (its UUID) the new licenses belong to', false),
			{
				displayName: 'Tags',
				name: 'tags',
				type: 'string',
				default: '',
				placeholder: 'e.g. launch, trial',
				description: 'Labels for the new licenses (up to 18), separated by commas or new lines, or an expression returning an array',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				description: 'Whether to only ask how many licenses the job would select and how many Keycrate calls it would make, without starting it',
			},
			{
				displayName: 'Notify URL',
				name: 'notifyUrl',
				type: 'string',
				default: '',
				placeholder: 'e.g. https://n8n.example.com/webhook/keycrate-bulk-job',
				description:
					"When the job ends the worker POSTs its result here, signed like the license hand-off (the worker needs LICENSE_WEBHOOK_SECRET). Use a Keycrate Sync Trigger's production URL (Events: Bulk Job Completed) to continue a workflow.",
			},
		],
	},
	simplifyField,
];

export const description = updateDisplayOptions({ show: { resource: ['bulkJob'], operation: ['start'] } }, properties);

interface Filter {
	status?: string;
	subscriptionId?: string;
	tag?: string;
}

interface CreateFields {
	hwidLock?: boolean;
	keyPattern?: string;
	metadata?: unknown;
	subscriptionId?: string;
	tags?: unknown;
}

function readDuration(this: IExecuteFunctions, kind: JobKind, itemIndex: number): IDataObject {
	const unit = String(this.getNodeParameter('durationUnit', itemIndex, 'days'));
	const allowed = kind === 'create' ? ['lifetime', ...UNITS.map((u) => u.value)] : UNITS.map((u) => u.value);
	if (!allowed.includes(unit)) {
		throw invalidInput(this, itemIndex, `Duration Unit must be one of ${allowed.join(', ')} for ${kind}, got ${JSON.stringify(unit)}`);
	}
	if (unit === 'lifetime') return { duration_unit: unit };
	return { duration_unit: unit, duration_value: toInteger.call(this, this.getNodeParameter('durationValue', itemIndex), durationValueField, itemIndex) };
}

function readCreateFields(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const fields = this.getNodeParameter('additionalFields', itemIndex, {}) as CreateFields;
	const body: IDataObject = { count: toInteger.call(this, this.getNodeParameter('count', itemIndex), countField, itemIndex) };
	if (fields.subscriptionId !== undefined) {
		body.subscription_id = requireUuid.call(this, fields.subscriptionId, 'Additional Fields → Subscription Tier ID', itemIndex);
	}
	if (fields.tags !== undefined) {
		const tags = [...new Set(parseList(fields.tags))];
		const long = tags.find((tag) => tag.length > 64);
		if (long) throw invalidInput(this, itemIndex, `Additional Fields → Tags: "${long.slice(0, 60)}…" is longer than 64 characters`);
		if (tags.length > WORKER_LIMITS.maxTags) {
			throw invalidInput(this, itemIndex, `Additional Fields → Tags has ${tags.length} tags; a license carries at most ${WORKER_LIMITS.maxTags}`);
		}
		if (tags.length > 0) body.tags = tags;
	}
	if (fields.hwidLock !== undefined) body.hwid_lock = fields.hwidLock;
	const keyPattern = fields.keyPattern?.trim();
	if (keyPattern) {
		if (!KEY_PATTERN.test(keyPattern)) {
			throw invalidInput(
				this,
				itemIndex,
				`Additional Fields → Key Pattern must be 1 to 64 characters from A-Z, a-z, 0-9, "_", "-" and "*", got ${JSON.stringify(keyPattern.slice(0, 60))}`,
			);
		}
		body.key_pattern = keyPattern;
	}
	if (fields.metadata !== undefined) body.metadata = parseMetadata.call(this, fields.metadata, itemIndex);
	return body;
}

function readSelection(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const selectBy = String(this.getNodeParameter('selectBy', itemIndex, 'filter'));
	if (selectBy === 'all') return {};
	if (selectBy === 'licenseKeys') {
		const keys = readLicenseKeys.call(this, itemIndex);
		if (keys.length > WORKER_LIMITS.maxLicenseKeys) {
			throw invalidInput(this, itemIndex, `License Keys has ${keys.length} keys; a job takes at most ${WORKER_LIMITS.maxLicenseKeys}`);
		}
		return { license_keys: keys };
	}
	if (selectBy !== 'filter') throw invalidInput(this, itemIndex, `Select By must be filter, licenseKeys or all, got ${JSON.stringify(selectBy)}`);
	const conditions = this.getNodeParameter('filter', itemIndex, {}) as Filter;
	const filter: IDataObject = {};
	if (conditions.subscriptionId !== undefined) {
		filter.subscription_id = requireUuid.call(this, conditions.subscriptionId, 'Filter → Subscription Tier ID', itemIndex);
	}
	if (conditions.status !== undefined) filter.status = conditions.status;
	const tag = conditions.tag?.trim();
	if (tag) filter.tag = tag;
	if (Object.keys(filter).length === 0) {
		throw invalidInput(
			this,
			itemIndex,
			'Filter has no condition',
			'Add a Subscription Tier ID, Status or Tag to the filter, or choose Select By → Every License of the App to act on all of them.',
		);
	}
	return { filter };
}

function readNotifyUrl(this: IExecuteFunctions, value: unknown, itemIndex: number): string | undefined {
	const text = String(value ?? '').trim();
	if (text === '') return undefined;
	if (!/^https?:\/\/[^\s/?#]+[^\s]*$/i.test(text)) {
		throw invalidInput(
			this,
			itemIndex,
			`Options → Notify URL must be an http(s) URL, got ${JSON.stringify(text.slice(0, 60))}`,
			"Use the Webhook node's production URL.",
		);
	}
	return text;
}

/** The job request for the chosen kind: only the fields that kind takes (BulkJobRequest). */
export function readJobRequest(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const kind = this.getNodeParameter('kind', itemIndex) as JobKind;
	if (!JOB_KINDS.includes(kind)) throw invalidInput(this, itemIndex, `Kind must be one of ${JOB_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
	const body: IDataObject = { kind, app_id: requireUuid.call(this, this.getNodeParameter('appId', itemIndex, ''), 'App ID', itemIndex) };
	if (kind === 'create') Object.assign(body, readCreateFields.call(this, itemIndex), readDuration.call(this, kind, itemIndex));
	else Object.assign(body, readSelection.call(this, itemIndex));
	if (kind === 'extend') Object.assign(body, readDuration.call(this, kind, itemIndex));
	if (kind === 'retier') {
		body.subscription_id = requireUuid.call(this, this.getNodeParameter('subscriptionId', itemIndex, ''), 'Subscription Tier ID', itemIndex);
	}
	if (kind === 'lock') body.hwid_lock = readBoolean.call(this, hwidLockField, itemIndex);
	if (kind === 'export') body.format = this.getNodeParameter('format', itemIndex, 'csv') as string;
	const options = this.getNodeParameter('options', itemIndex, {}) as { dryRun?: boolean; notifyUrl?: string };
	const notifyUrl = readNotifyUrl.call(this, options.notifyUrl, itemIndex);
	if (notifyUrl) body.notify_url = notifyUrl;
	if (options.dryRun === true) body.dry_run = true;
	return body;
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const body = readJobRequest.call(this, itemIndex);
	const data = await workerRequest(this, { method: 'POST', path: '/admin/jobs', body, startsWork: body.dry_run !== true }, itemIndex);
	// A dry run answers what it would do ({kind, selected, calls}), not a job.
	if (body.dry_run === true) return [{ dry_run: true, ...(data as object) }];
	return outputJobs.call(this, itemIndex, [data]);
}
