import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey, requireUuid } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, subscriptionIdField } from '../fields';

const properties: INodeProperties[] = [
	licenseKeyField,
	subscriptionIdField(
		'Subscription tier to move the license to, within the same app; leave empty to detach it from any tier. The list shows the tiers of the default App ID of the credential',
		false,
	),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['updateSubscription'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const subscriptionId = String(this.getNodeParameter('subscriptionId', itemIndex, '') ?? '').trim();
	const { data } = await keycrateRequest(this,
		'licenseUpdateSubscription',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			// Empty means "no tier": the contract's null.
			subscription_id:
				subscriptionId === '' ? null : requireUuid.call(this, subscriptionId, 'Subscription', itemIndex),
		},
		itemIndex,
	);
	return [data];
}
