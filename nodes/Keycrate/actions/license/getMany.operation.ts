import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { readAppId, readOptionalSubscriptionId } from '../../helpers/input';
import { collectPages, licenseKeyOf } from '../../helpers/pagination';
import { outputLicenses } from '../../helpers/simplify';
import { keycrateRequest } from '../../transport/request';
import {
	appIdField,
	licenseStatusFilterField,
	limitField,
	pagingOptionsField,
	returnAllField,
	simplifyField,
	subscriptionIdField,
	tagFilterField,
	readPagingRequest,
} from '../fields';

type GetBulkRequest = components['schemas']['LicenseGetBulkRequest'];

interface Filters {
	status?: GetBulkRequest['status'];
	subscriptionId?: unknown;
	tag?: string;
}

interface Sort {
	field?: GetBulkRequest['sort_field'];
	order?: GetBulkRequest['sort_order'];
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
		options: [licenseStatusFilterField, subscriptionIdField('Only licenses of this subscription tier', false), tagFilterField],
	},
	simplifyField,
	{
		displayName: 'Sort',
		name: 'sort',
		type: 'collection',
		placeholder: 'Add Sort Rule',
		default: {},
		description: 'Order asked of Keycrate; newest created first when not set',
		options: [
			{
				displayName: 'Field',
				name: 'field',
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
				displayName: 'Order',
				name: 'order',
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
	pagingOptionsField,
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const filters = this.getNodeParameter('filters', itemIndex, {}) as Filters;
	const sort = this.getNodeParameter('sort', itemIndex, {}) as Sort;
	const query: Omit<GetBulkRequest, 'page' | 'per_page'> = {
		app_id: await readAppId.call(this, itemIndex),
		sort_field: sort.field ?? 'created_at',
		sort_order: sort.order ?? 'desc',
	};
	if (filters.status) query.status = filters.status;
	const subscriptionId = readOptionalSubscriptionId.call(this, filters, 'Filters', itemIndex);
	if (subscriptionId) query.subscription_id = subscriptionId;
	if (filters.tag?.trim()) query.tag = filters.tag.trim();

	const licenses = await collectPages(
		readPagingRequest.call(this, itemIndex),
		licenseKeyOf,
		async (page, perPage) => await keycrateRequest(this, 'licenseGetBulk', { ...query, page, per_page: perPage }, itemIndex),
	);
	return outputLicenses.call(this, itemIndex, licenses);
}
