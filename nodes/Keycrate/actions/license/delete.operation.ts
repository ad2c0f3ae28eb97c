import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['delete'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { data } = await keycrateRequest(this,
		'licenseDelete',
		{ license_key: readLicenseKey.call(this, itemIndex) },
		itemIndex,
	);
	return [data];
}
