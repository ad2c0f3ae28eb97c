import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';

interface AdditionalFields {
	password?: string;
	username?: string;
}

const properties: INodeProperties[] = [
	licenseKeyField,
	simplifyField,
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		description: 'Set a username, a password, or both',
		options: [
			{
				displayName: 'Password',
				name: 'password',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				description: 'New password the end user signs in with (Keycrate never returns it)',
			},
			{
				displayName: 'Username',
				name: 'username',
				type: 'string',
				default: '',
				description: 'New username the end user signs in with',
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['updateUserCredentials'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const licenseKey = readLicenseKey.call(this, itemIndex);
	const { username, password } = this.getNodeParameter('additionalFields', itemIndex, {}) as AdditionalFields;
	if (!username && !password) {
		throw invalidInput(this, itemIndex, 'Nothing to update: set Username or Password under Additional Fields');
	}
	const reply = await keycrateRequest(
		this,
		'licenseUpdateUserCredentials',
		{ license_key: licenseKey, ...(username ? { username } : {}), ...(password ? { password } : {}) },
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
