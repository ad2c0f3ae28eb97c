import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readAppId } from '../../helpers/input';
import { collectPages, subscriptionIdOf } from '../../helpers/pagination';
import { keycrateRequest } from '../../transport/request';
import { appIdField, limitField, pagingOptionsField, returnAllField, readPagingRequest } from '../fields';

const properties: INodeProperties[] = [appIdField, returnAllField, limitField, pagingOptionsField];

export const description = updateDisplayOptions({ show: { resource: ['subscription'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const appId = await readAppId.call(this, itemIndex);
	return await collectPages(
		readPagingRequest.call(this, itemIndex),
		subscriptionIdOf,
		async (page, perPage) => await keycrateRequest(this, 'subscriptionGetBulk', { app_id: appId, page, per_page: perPage }, itemIndex),
	);
}
