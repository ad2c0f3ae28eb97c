import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const properties: INodeProperties[] = [
	licenseKeyField,
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		description: 'Without Reset Allowed the current setting is flipped',
		options: [
			{
				displayName: 'Reset Allowed',
				name: 'resetAllowed',
				type: 'boolean',
				default: true,
				description: 'Whether the end user may reset the HWID binding (the target value instead of a flip)',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['hwid'], operation: ['toggleResetAllowed'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { resetAllowed } = this.getNodeParameter('additionalFields', itemIndex, {}) as {
		resetAllowed?: boolean;
	};
	const { data } = await keycrateRequest(this,
		'hwidToggleResetAllowed',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			...(resetAllowed === undefined ? {} : { reset_allowed: resetAllowed }),
		},
		itemIndex,
	);
	return [data];
}
