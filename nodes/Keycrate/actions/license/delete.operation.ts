import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['delete'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(this, 'licenseDelete', { license_key: readLicenseKey.call(this, itemIndex) }, itemIndex);
	return [unwrapOne(reply)];
}
