import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPerItem } from '../../Keycrate/actions/perItem';
import type { OperationModule } from '../../Keycrate/actions/types';
import * as bulkJob from './bulkJob/BulkJob.resource';
import * as deadLetter from './deadLetter/DeadLetter.resource';
import * as sync from './sync/Sync.resource';

const resources: Record<string, Record<string, OperationModule>> = {
	bulkJob: bulkJob.operations,
	sync: sync.operations,
	deadLetter: deadLetter.operations,
};

/** Runs the chosen operation once per input item, as the Keycrate node does. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operationName = this.getNodeParameter('operation', 0, '') as string;
	const operation = resources[resource]?.[operationName];
	if (!operation) throw new NodeOperationError(this.getNode(), `The operation "${operationName}" is not known for "${resource}"`);
	return await runPerItem.call(this, operation);
}
