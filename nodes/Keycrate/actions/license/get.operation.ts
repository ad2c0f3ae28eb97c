import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';

const properties: INodeProperties[] = [licenseKeyField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(this, 'licenseGet', { license_key: readLicenseKey.call(this, itemIndex) }, itemIndex);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
