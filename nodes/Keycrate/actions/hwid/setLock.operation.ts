import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readBoolean, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';
import { hwidLockField } from './settings';

const properties: INodeProperties[] = [licenseKeyField, hwidLockField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['setLock'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'hwidToggleLock',
		// Always the target value: without it Keycrate would flip the lock, and a re-run would undo it.
		{ license_key: readLicenseKey.call(this, itemIndex), hwid_lock: readBoolean.call(this, hwidLockField, itemIndex) },
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
