import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { invalidInput, readRequiredSubscriptionId, toInteger } from '../../helpers/input';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField, subscriptionIdField } from '../fields';
import { levelField, nameField, singleKeyPerHwidField } from './fields';

interface UpdateFields {
	level?: number;
	name?: string;
	singleKeyPerHwid?: boolean;
}

const properties: INodeProperties[] = [
	{
		...appIdField,
		description: 'App whose tiers the Subscription list shows; not sent to Keycrate. Leave empty to use the default App ID of the credential.',
	},
	subscriptionIdField('Subscription tier to update'),
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		description: 'What to change; at least one field',
		options: [levelField, nameField, singleKeyPerHwidField],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['subscription'], operation: ['update'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const subscriptionId = readRequiredSubscriptionId.call(this, itemIndex);
	const fields = this.getNodeParameter('updateFields', itemIndex, {}) as UpdateFields;
	const changes: Omit<components['schemas']['SubscriptionEditRequest'], 'subscription_id'> = {};
	if (fields.name !== undefined) {
		if (fields.name.trim() === '') throw invalidInput(this, itemIndex, 'Name is empty');
		changes.name = fields.name.trim();
	}
	if (fields.level !== undefined) changes.level = toInteger.call(this, fields.level, levelField, itemIndex);
	if (fields.singleKeyPerHwid !== undefined) changes.single_key_per_hwid = fields.singleKeyPerHwid;
	if (Object.keys(changes).length === 0) {
		throw invalidInput(this, itemIndex, 'Nothing to update: add Name, Level or Single Key Per HWID under Update Fields');
	}
	const reply = await keycrateRequest(this, 'subscriptionEdit', { subscription_id: subscriptionId, ...changes }, itemIndex);
	return [unwrapOne(reply)];
}
