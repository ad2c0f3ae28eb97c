import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { extendByField, extendUnitField, licenseKeyField, readExtendSeconds, simplifyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField, extendByField, extendUnitField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['extend'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'licenseExtend',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			extend_seconds: readExtendSeconds.call(this, itemIndex),
		},
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
