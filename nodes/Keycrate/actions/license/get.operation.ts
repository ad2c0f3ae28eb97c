import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['get'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { data } = await keycrateRequest(this,
		'licenseGet',
		{ license_key: readLicenseKey.call(this, itemIndex) },
		itemIndex,
	);
	return [data];
}
