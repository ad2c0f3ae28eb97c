import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { LIMITS } from '../../contract';
import { readInteger, readLicenseKey } from '../../helpers/input';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField } from '../fields';

const resetIntervalField: INodeProperties = {
	displayName: 'Reset Interval',
	name: 'resetInterval',
	type: 'number',
	required: true,
	typeOptions: { minValue: 0, maxValue: LIMITS.maxResetIntervalHours },
	default: 24,
	description: 'Hours that must pass between two HWID resets (0 = no cooldown)',
};

const properties: INodeProperties[] = [licenseKeyField, resetIntervalField];

export const description = updateDisplayOptions(
	{ show: { resource: ['hwid'], operation: ['updateResetInterval'] } },
	properties,
);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const { data } = await keycrateRequest(this,
		'hwidUpdateResetInterval',
		{
			license_key: readLicenseKey.call(this, itemIndex),
			reset_interval: readInteger.call(this, resetIntervalField, itemIndex),
		},
		itemIndex,
	);
	return [data];
}
