import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readRequiredSubscriptionId } from '../../helpers/input';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField, subscriptionIdField } from '../fields';

const properties: INodeProperties[] = [
	{
		...appIdField,
		description: 'App whose tiers the Subscription list shows; not sent to Keycrate. Leave empty to use the default App ID of the credential.',
	},
	subscriptionIdField('Tier to delete. Keycrate deletes every license in the tier with it.'),
];

export const description = updateDisplayOptions({ show: { resource: ['subscription'], operation: ['delete'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'subscriptionDelete',
		{
			subscription_id: readRequiredSubscriptionId.call(this, itemIndex),
		},
		itemIndex,
	);
	return [unwrapOne(reply)];
}
