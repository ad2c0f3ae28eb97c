import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';
import { asResetOption, readAsReset } from './asReset';

const properties: INodeProperties[] = [
	licenseKeyField,
	{
		displayName: 'HWID',
		name: 'hwid',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 4C4C4544-0042-3510-8052-B4C04F564433',
		description: 'Hardware ID the license is bound to from now on (replaces any current one). To unbind, use Clear.',
	},
	simplifyField,
	asResetOption,
];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['set'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const licenseKey = readLicenseKey.call(this, itemIndex);
	const hwid = String(this.getNodeParameter('hwid', itemIndex, '') ?? '').trim();
	// An expression that resolves to '' must not unbind silently: clearing is its own operation.
	if (hwid === '') throw invalidInput(this, itemIndex, 'HWID is empty', 'Give the hardware ID to bind, or use the Clear operation to unbind.');
	const reply = await keycrateRequest(this, 'hwidEdit', { license_key: licenseKey, hwid, as_reset: readAsReset.call(this, itemIndex) }, itemIndex);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
