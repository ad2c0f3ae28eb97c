import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { readAppId, requireUuid } from '../../helpers/input';
import { collectPages } from '../../helpers/pagination';
import { keycrateRequest } from '../../transport/request';
import { appIdField, limitField, pageSizeOption, returnAllField, subscriptionIdField, readPagingRequest } from '../fields';

type GetBulkRequest = components['schemas']['LicenseGetBulkRequest'];

interface Filters {
	status?: GetBulkRequest['status'];
	subscriptionId?: string;
	tag?: string;
}

interface Options {
	sortField?: GetBulkRequest['sort_field'];
	sortOrder?: GetBulkRequest['sort_order'];
}

const properties: INodeProperties[] = [
	appIdField,
	returnAllField,
	limitField,
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
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
			},
			subscriptionIdField('Only licenses of this subscription tier', false),
			{
				displayName: 'Tag',
				name: 'tag',
				type: 'string',
				default: '',
				description: 'Only licenses carrying this tag',
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
			pageSizeOption,
			{
				displayName: 'Sort Field',
				name: 'sortField',
				type: 'options',
				options: [
					{ name: 'Created At', value: 'created_at' },
					{ name: 'Expires At', value: 'expires_at' },
					{ name: 'License Key', value: 'license_key' },
					{ name: 'Updated At', value: 'updated_at' },
				],
				default: 'created_at',
				description: 'Field to sort the licenses by',
			},
			{
				displayName: 'Sort Order',
				name: 'sortOrder',
				type: 'options',
				options: [
					{ name: 'Ascending', value: 'asc' },
					{ name: 'Descending', value: 'desc' },
				],
				default: 'desc',
				description: 'Order of the licenses',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['getMany'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const filters = this.getNodeParameter('filters', itemIndex, {}) as Filters;
	const options = this.getNodeParameter('options', itemIndex, {}) as Options;
	const query: Omit<GetBulkRequest, 'page' | 'per_page'> = {
		app_id: await readAppId.call(this, itemIndex),
		sort_field: options.sortField ?? 'created_at',
		sort_order: options.sortOrder ?? 'desc',
	};
	if (filters.status) query.status = filters.status;
	if (filters.subscriptionId) {
		query.subscription_id = requireUuid.call(this, filters.subscriptionId, 'Subscription', itemIndex);
	}
	if (filters.tag?.trim()) query.tag = filters.tag.trim();

	return await collectPages(readPagingRequest.call(this, itemIndex), async (page, perPage) =>
		await keycrateRequest(this, 'licenseGetBulk', { ...query, page, per_page: perPage }, itemIndex),
	);
}
