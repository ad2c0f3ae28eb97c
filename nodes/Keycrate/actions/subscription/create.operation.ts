import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, readAppId, readInteger } from '../../helpers/input';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField } from '../fields';
import { levelField, nameField, singleKeyPerHwidField } from './fields';

const properties: INodeProperties[] = [
	appIdField,
	{ ...nameField, required: true },
	{ ...levelField, required: true },
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [singleKeyPerHwidField],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['subscription'], operation: ['create'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const name = String(this.getNodeParameter('name', itemIndex, '') ?? '').trim();
	if (name === '') throw invalidInput(this, itemIndex, 'Name is empty');
	const { singleKeyPerHwid } = this.getNodeParameter('additionalFields', itemIndex, {}) as {
		singleKeyPerHwid?: boolean;
	};
	const reply = await keycrateRequest(
		this,
		'subscriptionCreate',
		{
			app_id: await readAppId.call(this, itemIndex),
			name,
			level: readInteger.call(this, levelField, itemIndex),
			single_key_per_hwid: singleKeyPerHwid ?? false,
		},
		itemIndex,
	);
	return [unwrapOne(reply)];
}
