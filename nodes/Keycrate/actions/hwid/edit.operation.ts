import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const properties: INodeProperties[] = [
	licenseKeyField,
	{
		displayName: 'HWID',
		name: 'hwid',
		type: 'string',
		default: '',
		description: 'Hardware ID to bind the license to. Leave empty to clear the binding.',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{
				displayName: 'As Reset',
				name: 'asReset',
				type: 'boolean',
				default: false,
				description:
					'Whether to treat the change as an end-user HWID reset, subject to the license\'s reset-allowed setting and reset interval',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['hwid'], operation: ['edit'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const hwid = String(this.getNodeParameter('hwid', itemIndex, '') ?? '').trim();
	const { asReset } = this.getNodeParameter('additionalFields', itemIndex, {}) as { asReset?: boolean };
	const { data } = await keycrateRequest(this,
		'hwidEdit',
		// Empty means "no binding": the contract's null.
		{ license_key: readLicenseKey.call(this, itemIndex), hwid: hwid === '' ? null : hwid, as_reset: asReset ?? false },
		itemIndex,
	);
	return [data];
}
