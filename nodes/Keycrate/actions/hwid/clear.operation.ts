import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { readLicenseKey } from '../../helpers/input';
import { outputLicenses } from '../../helpers/simplify';
import { unwrapOne } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { licenseKeyField, simplifyField } from '../fields';
import { asResetOption, readAsReset } from './asReset';

const properties: INodeProperties[] = [
	{
		...licenseKeyField,
		description: 'The license whose hardware ID binding is removed',
		hint: "Removes the license's hardware ID binding; the next machine to use the key can bind it",
	},
	simplifyField,
	asResetOption,
];

export const description = updateDisplayOptions({ show: { resource: ['hwid'], operation: ['clear'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const reply = await keycrateRequest(
		this,
		'hwidEdit',
		// The contract's null: no binding.
		{ license_key: readLicenseKey.call(this, itemIndex), hwid: null, as_reset: readAsReset.call(this, itemIndex) },
		itemIndex,
	);
	return outputLicenses.call(this, itemIndex, [unwrapOne(reply)]);
}
