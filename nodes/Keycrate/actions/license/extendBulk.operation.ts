import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { runBulkKeyOperation } from '../../helpers/batches';
import { readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, extendByField, extendUnitField, licenseKeysField, readBatchSize, readExtendSeconds } from '../fields';

const properties: INodeProperties[] = [licenseKeysField, extendByField, extendUnitField, batchSizeOption('keys')];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['extendBulk'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(
		this,
		'licenseExtendBulk',
		keys,
		{ extend_seconds: readExtendSeconds.call(this, itemIndex) },
		readBatchSize.call(this, itemIndex),
		itemIndex,
	);
}
