import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { invalidInput, toInteger } from '../../Keycrate/helpers/input';
import { JOB_ID_PATTERN } from '../contract';

/** Parameters shared by several operations of the Keycrate Worker node. */

export const jobIdField: INodeProperties = {
	displayName: 'Job ID',
	name: 'jobId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. bulk_01HZX3',
	description: 'The ID of the bulk job, as Start or Get Many gave it (it starts with bulk_)',
};

export function readJobId(this: IExecuteFunctions, itemIndex: number): string {
	const id = String(this.getNodeParameter('jobId', itemIndex, '') ?? '').trim();
	if (!JOB_ID_PATTERN.test(id)) {
		throw invalidInput(
			this,
			itemIndex,
			`Job ID must look like bulk_…, got ${JSON.stringify(id.slice(0, 60))}`,
			'Use the id that Bulk Job → Start or Get Many output.',
		);
	}
	return id;
}

/** Limit of a list whose endpoint takes at most `max` and has no further pages. */
export function listLimitField(max: number): INodeProperties {
	return {
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: max },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	};
}

/** How many to ask for: Return All asks for the most the endpoint gives in one answer. */
export function readListLimit(this: IExecuteFunctions, itemIndex: number, max: number): number {
	if (this.getNodeParameter('returnAll', itemIndex, false) as boolean) return max;
	return toInteger.call(this, this.getNodeParameter('limit', itemIndex, 50), listLimitField(max), itemIndex);
}
