import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, readLicenseKey, readSubscriptionId } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField, licenseKeyField, simplifyField, subscriptionIdField } from '../fields';

const properties: INodeProperties[] = [
	licenseKeyField,
	{
		displayName: 'Change',
		name: 'subscriptionAction',
		type: 'options',
		required: true,
		options: [
			{ name: 'Move to Tier', value: 'move', description: 'Put the license in the chosen subscription tier' },
			{ name: 'Detach From Tier', value: 'detach', description: 'Take the license out of any subscription tier' },
		],
		default: 'move',
		description: "What to do with the license's subscription tier",
	},
	{
		...appIdField,
		description: 'App whose tiers the Subscription Tier list shows; not sent to Keycrate. Leave empty to use the default App ID of the credential.',
		displayOptions: { show: { subscriptionAction: ['move'] } },
	},
	{
		...subscriptionIdField("Tier to move the license to, within the license's app"),
		displayOptions: { show: { subscriptionAction: ['move'] } },
	},
	simplifyField,
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['updateSubscription'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const licenseKey = readLicenseKey.call(this, itemIndex);
	const action = this.getNodeParameter('subscriptionAction', itemIndex) as string;
	let subscriptionId: string | null;
	if (action === 'detach') subscriptionId = null;
	else if (action === 'move') {
		subscriptionId = readSubscriptionId.call(this, this.getNodeParameter('subscriptionId', itemIndex, ''), itemIndex) ?? null;
		if (subscriptionId === null) {
			throw invalidInput(this, itemIndex, 'Subscription Tier is empty', 'Choose a tier, or set Change to "Detach From Tier".');
		}
	} else {
		throw invalidInput(this, itemIndex, `Change must be "move" or "detach", got "${action}"`);
	}
	const reply = await keycrateRequest(this, 'licenseUpdateSubscription', { license_key: licenseKey, subscription_id: subscriptionId }, itemIndex);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
