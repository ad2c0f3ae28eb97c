import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { asNodeApiError, batchSizes } from '../../helpers/batches';
import { readAppId, readInteger } from '../../helpers/input';
import type { Item } from '../../helpers/pagination';
import { outputLicenses } from '../../helpers/simplify';
import { readPage } from '../../transport/reply';
import { keycrateRequest } from '../../transport/request';
import { appIdField, batchSizeOption, durationFields, licenseSettingFields, readBatchSize, simplifyField } from '../fields';
import { readDuration, readLicenseSettings, type LicenseSettingFields } from './settings';

const keyAmountField: INodeProperties = {
	displayName: 'Number of Licenses',
	name: 'keyAmount',
	type: 'number',
	required: true,
	typeOptions: { minValue: 1 },
	default: 10,
	description:
		'How many licenses to create with the same settings. Numbers above the batch size are created in several calls; the node outputs one item per license.',
};

const properties: INodeProperties[] = [
	appIdField,
	keyAmountField,
	...durationFields,
	simplifyField,
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		options: licenseSettingFields,
	},
	batchSizeOption('licenses created'),
];

export const description = updateDisplayOptions({ show: { resource: ['license'], operation: ['createBulk'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const keyAmount = readInteger.call(this, keyAmountField, itemIndex);
	const fields = this.getNodeParameter('additionalFields', itemIndex, {}) as LicenseSettingFields;
	const settings = {
		app_id: await readAppId.call(this, itemIndex),
		...readDuration.call(this, itemIndex),
		...readLicenseSettings.call(this, fields, itemIndex),
	};
	const licenses: Item[] = [];
	for (const amount of batchSizes(keyAmount, readBatchSize.call(this, itemIndex))) {
		try {
			const reply = await keycrateRequest(this, 'licenseCreateBulk', { ...settings, key_amount: amount }, itemIndex);
			licenses.push(...readPage(reply).items);
		} catch (error) {
			const apiError = asNodeApiError(this, error);
			const unconfirmed = apiError.context.mayHaveApplied === true ? amount : 0;
			apiError.description = [
				apiError.description,
				`${licenses.length} of ${keyAmount} licenses were created before this call failed.`,
				unconfirmed ? `This call asked for ${unconfirmed} more, which may exist now.` : '',
			]
				.filter(Boolean)
				.join(' ');
			if (!this.continueOnFail()) throw apiError;
			// Keep the licenses that exist; one error item stands for the rest.
			return [
				...outputLicenses.call(this, itemIndex, licenses),
				{
					error: apiError.message,
					error_code: apiError.context.errorCode,
					description: apiError.description,
					licenses_not_created: keyAmount - licenses.length - unconfirmed,
					...(unconfirmed ? { licenses_unconfirmed: unconfirmed } : {}),
				},
			];
		}
	}
	return outputLicenses.call(this, itemIndex, licenses);
}
