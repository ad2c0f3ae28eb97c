import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { simplifyField } from '../../../Keycrate/actions/fields';
import { outputJobs } from '../../helpers/simplify';
import { workerRequest } from '../../transport/request';
import { jobIdField, readJobId } from '../fields';

const properties: INodeProperties[] = [jobIdField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['bulkJob'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const jobId = readJobId.call(this, itemIndex);
	const job = await workerRequest(this, { method: 'GET', path: `/admin/jobs/${jobId}`, jobId }, itemIndex);
	return outputJobs.call(this, itemIndex, [job]);
}
