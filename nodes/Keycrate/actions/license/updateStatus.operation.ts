import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField, statusField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField, statusField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['updateStatus'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'licenseUpdateStatus',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			status: this.getNodeParameter('status', itemIndex) as components['schemas']['SettableStatus'],
		},
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
