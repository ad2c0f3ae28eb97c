import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readInteger, readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { extendSecondsField, licenseKeyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField, extendSecondsField];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['extend'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { data } = await keycrateRequest(this,
		'licenseExtend',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			extend_seconds: readInteger.call(this, extendSecondsField, itemIndex),
		},
		itemIndex,
	);
	return [data];
}
