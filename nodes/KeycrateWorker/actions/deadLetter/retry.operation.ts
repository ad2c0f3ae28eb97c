import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { invalidInput, parseList } from '../../../Keycrate/helpers/input';
import { WORKER_LIMITS } from '../../contract';
import { workerRequest } from '../../transport/request';

const properties: INodeProperties[] = [
	{
		displayName: 'Retry',
		name: 'retry',
		type: 'options',
		options: [
			{ name: 'Chosen Dead Letters', value: 'ids', description: 'The dead letters of the roots or license keys given' },
			{ name: 'All Dead Letters', value: 'all', description: 'Every dead letter the worker holds' },
		],
		default: 'ids',
		description: 'Which dead letters to run again',
	},
	{
		displayName: 'IDs',
		name: 'ids',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		placeholder: 'e.g. sub_1Q2w3E4r5T6y, ABCD-EFGH-IJKL-MNOP',
		description:
			'Roots (a sync: sub_…, pi_…, cs_…) or license keys (a hand-off), as Dead Letter → Get Many gives them in ID; separated by commas or new lines, or an expression returning an array (up to 1,000)',
		displayOptions: { show: { retry: ['ids'] } },
	},
];

export const description = updateDisplayOptions({ show: { resource: ['deadLetter'], operation: ['retry'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const retry = String(this.getNodeParameter('retry', itemIndex, 'ids'));
	let body: { all: true } | { ids: string[] };
	if (retry === 'all') body = { all: true };
	else if (retry === 'ids') {
		const ids = [...new Set(parseList(this.getNodeParameter('ids', itemIndex, '')))];
		if (ids.length === 0)
			throw invalidInput(this, itemIndex, 'IDs is empty', 'Give roots or license keys from Dead Letter → Get Many, or choose Retry → All Dead Letters.');
		if (ids.length > WORKER_LIMITS.maxRetryIds) {
			throw invalidInput(
				this,
				itemIndex,
				`IDs has ${ids.length} entries; one retry takes at most ${WORKER_LIMITS.maxRetryIds}`,
				'Split the list over several items.',
			);
		}
		body = { ids };
	} else throw invalidInput(this, itemIndex, `Retry must be ids or all, got ${JSON.stringify(retry)}`);
	const data = await workerRequest(this, { method: 'POST', path: '/admin/dead-letters/retry', body }, itemIndex);
	return [data as object];
}
