import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { runBulkKeyOperation } from '../../helpers/batches';
import { readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, licenseKeysField, readBatchSize } from '../fields';

const properties: INodeProperties[] = [
	licenseKeysField,
	{
		displayName: 'HWID Lock',
		name: 'hwidLock',
		type: 'boolean',
		required: true,
		default: true,
		description: 'Whether the licenses should be locked to their hardware IDs',
	},
	batchSizeOption('keys'),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['hwid'], operation: ['toggleLockBulk'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(this,
		'hwidToggleLockBulk',
		keys,
		{ hwid_lock: this.getNodeParameter('hwidLock', itemIndex) as boolean },
		readBatchSize.call(this, itemIndex),
		itemIndex,
	);
}
