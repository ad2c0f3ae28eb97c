import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { simplifyField } from '../../../Keycrate/actions/fields';
import { outputJobs } from '../../helpers/simplify';
import { workerRequest } from '../../transport/request';
import { jobIdField, readJobId } from '../fields';

const properties: INodeProperties[] = [jobIdField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['bulkJob'], operation: ['cancel'] } }, properties);

/** The job as it is now: canceled, or still active until the chunk it is on ends. */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const jobId = readJobId.call(this, itemIndex);
	const job = await workerRequest(this, { method: 'POST', path: `/admin/jobs/${jobId}/cancel`, jobId }, itemIndex);
	return outputJobs.call(this, itemIndex, [job]);
}
