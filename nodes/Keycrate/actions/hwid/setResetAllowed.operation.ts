import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readBoolean, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';
import { resetAllowedField } from './settings';

const properties: INodeProperties[] = [licenseKeyField, resetAllowedField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['setResetAllowed'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'hwidToggleResetAllowed',
		// Always the target value: without it Keycrate would flip the setting.
		{
			license_key: readLicenseKey.call(this, itemIndex),
			reset_allowed: readBoolean.call(this, resetAllowedField, itemIndex),
		},
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
