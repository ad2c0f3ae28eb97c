import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { OperationModule } from './types';

/**
 * Runs one operation once per input item (also the Keycrate Worker node's loop). Every output
 * item is paired with its input; with Continue On Fail a failed input yields one error item.
 */
export async function runPerItem(this: IExecuteFunctions, operation: OperationModule): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const output: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const results = await operation.execute.call(this, itemIndex);
			for (const json of results) output.push({ json: json as IDataObject, pairedItem: { item: itemIndex } });
		} catch (error) {
			const nodeError =
				error instanceof NodeApiError || error instanceof NodeOperationError ? error : new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			if (!this.continueOnFail()) throw nodeError;
			const errorCode = nodeError.context.errorCode as string | undefined;
			output.push({
				json: {
					error: nodeError.message,
					...(errorCode ? { error_code: errorCode } : {}),
					...(nodeError.description ? { description: nodeError.description } : {}),
				},
				pairedItem: { item: itemIndex },
			});
		}
	}
	return [output];
}
