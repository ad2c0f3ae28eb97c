import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { LIMITS } from '../../contract';
import { readInteger, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';

const resetIntervalField: INodeProperties = {
	displayName: 'Reset Interval (Hours)',
	name: 'resetInterval',
	type: 'number',
	required: true,
	typeOptions: { minValue: 0, maxValue: LIMITS.maxResetIntervalHours },
	default: 24,
	description: 'Hours that must pass between two HWID resets (0 = no cooldown)',
};

const properties: INodeProperties[] = [licenseKeyField, resetIntervalField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['updateResetInterval'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'hwidUpdateResetInterval',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			reset_interval: readInteger.call(this, resetIntervalField, itemIndex),
		},
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
