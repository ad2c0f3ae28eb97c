import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { runBulkKeyOperation } from '../../helpers/batches';
import { readBoolean, readLicenseKeys } from '../../helpers/input';
import { batchSizeOption, licenseKeysField, readBatchSize } from '../fields';
import { hwidLockField } from './settings';

const properties: INodeProperties[] = [
	licenseKeysField,
	{ ...hwidLockField, description: 'Whether the licenses are locked to their hardware IDs after this step (sets the value, does not flip it)' },
	batchSizeOption('keys'),
];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['setLockBulk'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keys = readLicenseKeys.call(this, itemIndex);
	return await runBulkKeyOperation(
		this,
		'hwidToggleLockBulk',
		keys,
		{ hwid_lock: readBoolean.call(this, hwidLockField, itemIndex) },
		readBatchSize.call(this, itemIndex),
		itemIndex,
	);
}
