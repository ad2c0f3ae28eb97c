import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readAppId } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField, durationFields, licenseSetting, simplifyField } from '../fields';
import { readDuration, readLicenseSettings, type LicenseSettingFields } from './settings';

interface AdditionalFields extends LicenseSettingFields {
	hwid?: string;
	password?: string;
	username?: string;
}

const properties: INodeProperties[] = [
	appIdField,
	...durationFields,
	simplifyField,
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: [
			{
				displayName: 'HWID',
				name: 'hwid',
				type: 'string',
				default: '',
				description: 'Hardware ID to bind the license to right away',
			},
			licenseSetting.hwidLock,
			licenseSetting.keyPattern,
			licenseSetting.metadata,
			{
				displayName: 'Password',
				name: 'password',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				description: 'Password the end user signs in with (Keycrate never returns it)',
			},
			licenseSetting.subscriptionId,
			licenseSetting.tags,
			{
				displayName: 'Username',
				name: 'username',
				type: 'string',
				default: '',
				description: 'Username the end user signs in with',
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['create'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const fields = this.getNodeParameter('additionalFields', itemIndex, {}) as AdditionalFields;
	const reply = await keycrateRequest(
		this,
		'licenseCreate',
		{
			app_id: await readAppId.call(this, itemIndex),
			...readDuration.call(this, itemIndex),
			...readLicenseSettings.call(this, fields, itemIndex),
			...(fields.hwid ? { hwid: fields.hwid } : {}),
			...(fields.username ? { username: fields.username } : {}),
			...(fields.password ? { password: fields.password } : {}),
		},
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
