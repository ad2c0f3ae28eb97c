import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { LIMITS } from '../../contract';
import { parseMetadata, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';

const properties: INodeProperties[] = [
	licenseKeyField,
	{
		displayName: 'Metadata',
		name: 'metadata',
		type: 'json',
		required: true,
		default: '{}',
		description: `JSON object that replaces the license's metadata, at most ${LIMITS.maxMetadataChars} characters of JSON`,
	},
	simplifyField,
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['updateMetadata'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const licenseKey = readLicenseKey.call(this, itemIndex);
	const metadata = parseMetadata.call(this, this.getNodeParameter('metadata', itemIndex), itemIndex);
	const reply = await keycrateRequest(this, 'licenseUpdateMetadata', { license_key: licenseKey, metadata }, itemIndex);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
