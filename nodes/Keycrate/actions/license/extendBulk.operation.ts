import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { runBulkKeyOperation } from '../../helpers/batches';
import { readBatchSize, readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, extendSecondsField, licenseKeysField } from '../fields';

const properties: INodeProperties[] = [licenseKeysField, extendSecondsField, batchSizeOption('keys')];

export const description = updateDisplayOptions(
	{ show: { resource: ['license'], operation: ['extendBulk'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(this,
		'licenseExtendBulk',
		keys,
		{ extend_seconds: this.getNodeParameter('extendSeconds', itemIndex) as number },
		readBatchSize.call(this, itemIndex),
		itemIndex,
	);
}
