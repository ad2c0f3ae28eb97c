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
		description: 'Without HWID Lock the current setting is flipped',
		options: [
			{
				displayName: 'HWID Lock',
				name: 'hwidLock',
				type: 'boolean',
				default: true,
				description: 'Whether the license should be locked to its hardware ID (the target value instead of a flip)',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['hwid'], operation: ['toggleLock'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { hwidLock } = this.getNodeParameter('additionalFields', itemIndex, {}) as { hwidLock?: boolean };
	const { data } = await keycrateRequest(this,
		'hwidToggleLock',
		{ license_key: readLicenseKey.call(this, itemIndex), ...(hwidLock === undefined ? {} : { hwid_lock: hwidLock }) },
		itemIndex,
	);
	return [data];
}
