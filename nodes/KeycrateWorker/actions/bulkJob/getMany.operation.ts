import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { returnAllField, simplifyField } from '../../../Keycrate/actions/fields';
import { WORKER_LIMITS } from '../../contract';
import { outputJobs } from '../../helpers/simplify';
import { workerRequest } from '../../transport/request';
import { listLimitField, readListLimit } from '../fields';

const properties: INodeProperties[] = [
	{ ...returnAllField, description: 'Whether to return all the jobs the worker keeps (its newest 100) or only up to a given limit' },
	listLimitField(100), // WORKER_LIMITS.maxJobsPerList
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'State',
				name: 'state',
				type: 'options',
				// The contract's JobState enum; test/node/worker-contract-facts.test.ts compares them.
				options: [
					{ name: 'Active', value: 'active' },
					{ name: 'Canceled', value: 'canceled' },
					{ name: 'Completed', value: 'completed' },
					{ name: 'Delayed', value: 'delayed' },
					{ name: 'Failed', value: 'failed' },
					{ name: 'Waiting', value: 'waiting' },
				],
				default: 'active',
				description: 'Only jobs in this state',
			},
		],
	},
	simplifyField,
];

export const description = updateDisplayOptions({ show: { resource: ['bulkJob'], operation: ['getMany'] } }, properties);

/** The jobs the worker keeps, newest first: one item per job. */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const filters = this.getNodeParameter('filters', itemIndex, {}) as { state?: string };
	const qs: IDataObject = { limit: readListLimit.call(this, itemIndex, WORKER_LIMITS.maxJobsPerList) };
	if (filters.state) qs.state = filters.state;
	const jobs = await workerRequest(this, { method: 'GET', path: '/admin/jobs', qs }, itemIndex);
	return outputJobs.call(this, itemIndex, Array.isArray(jobs) ? jobs : []);
}
