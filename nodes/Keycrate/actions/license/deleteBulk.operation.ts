import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { runBulkKeyOperation } from '../../helpers/batches';
import { readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, licenseKeysField, readBatchSize } from '../fields';

const properties: INodeProperties[] = [licenseKeysField, batchSizeOption('keys')];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['deleteBulk'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(this, 'licenseDeleteBulk', keys, {}, readBatchSize.call(this, itemIndex), itemIndex);
}
