import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readAppId } from '../../helpers/input';
import { collectPages } from '../../helpers/pagination';
import { keycrateRequest } from '../../transport/request';
import { appIdField, limitField, pageSizeOption, returnAllField, readPagingRequest } from '../fields';

const properties: INodeProperties[] = [
	appIdField,
	returnAllField,
	limitField,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [pageSizeOption],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['subscription'], operation: ['getMany'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const appId = await readAppId.call(this, itemIndex);
	return await collectPages(readPagingRequest.call(this, itemIndex), async (page, perPage) =>
		await keycrateRequest(this, 'subscriptionGetBulk', { app_id: appId, page, per_page: perPage }, itemIndex),
	);
}
