import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput } from '../../../Keycrate/helpers/input';
import { ROOT_PATTERN } from '../../contract';
import { workerRequest } from '../../transport/request';

const properties: INodeProperties[] = [
	{
		displayName: 'Root',
		name: 'root',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. sub_1Q2w3E4r5T6y',
		description:
			'The Stripe subscription (sub_…), payment intent (pi_…) or checkout session (cs_…) whose licenses the worker syncs again from Stripe’s current state',
	},
];

export const description = updateDisplayOptions({ show: { resource: ['sync'], operation: ['resyncRoot'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const root = String(this.getNodeParameter('root', itemIndex, '') ?? '').trim();
	if (!ROOT_PATTERN.test(root)) {
		throw invalidInput(this, itemIndex, `Root must be a Stripe ID starting with sub_, pi_ or cs_, got ${JSON.stringify(root.slice(0, 60))}`);
	}
	const data = await workerRequest(this, { method: 'POST', path: `/admin/roots/${root}/resync` }, itemIndex);
	return [data as object];
}
