import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { requireUuid } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { appIdField, subscriptionIdField } from '../fields';

const properties: INodeProperties[] = [
	{
		...appIdField,
		description:
			'App whose tiers the Subscription list shows; not sent to Keycrate. Leave empty to use the default App ID of the credential.',
	},
	subscriptionIdField('Subscription tier to delete. Deleting a tier also deletes every license in it'),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['subscription'], operation: ['delete'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { data } = await keycrateRequest(this,
		'subscriptionDelete',
		{
			subscription_id: requireUuid.call(
				this,
				this.getNodeParameter('subscriptionId', itemIndex),
				'Subscription',
				itemIndex,
			),
		},
		itemIndex,
	);
	return [data];
}
