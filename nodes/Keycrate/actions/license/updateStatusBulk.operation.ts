import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { components } from '../../../../openapi/keycrate';
import { runBulkKeyOperation } from '../../helpers/batches';
import { readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, licenseKeysField, statusField, readBatchSize } from '../fields';

const properties: INodeProperties[] = [licenseKeysField, statusField, batchSizeOption('keys')];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['updateStatusBulk'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(
		this,
		'licenseUpdateStatusBulk',
		keys,
		{ status: this.getNodeParameter('status', itemIndex) as components['schemas']['SettableStatus'] },
		readBatchSize.call(this, itemIndex),
		itemIndex,
	);
}
