import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import * as customApiCall from './customApiCall';
import * as hwid from './hwid/Hwid.resource';
import * as license from './license/License.resource';
import { runPerItem } from './perItem';
import * as subscription from './subscription/Subscription.resource';
import type { OperationModule } from './types';

const resources: Record<string, Record<string, OperationModule>> = {
	license: license.operations,
	hwid: hwid.operations,
	subscription: subscription.operations,
};

/** Operations of earlier versions (they flipped settings or hid a clear), and what replaces them. */
const RENAMED: Record<string, string> = {
	'hwid.edit': 'HWID → Set (bind) or Clear (unbind)',
	'hwid.toggleLock': 'HWID → Set Lock, with the value the lock should have',
	'hwid.toggleLockBulk': 'HWID → Set Lock Many, with the value the lock should have',
	'hwid.toggleResetAllowed': 'HWID → Set Reset Allowed, with the value the setting should have',
	'subscription.edit': 'Subscription → Update',
};

/**
 * Runs the chosen operation once per input item. Every output item is paired with its input;
 * with Continue On Fail a failed input yields one error item instead of stopping the node.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operationName = this.getNodeParameter('operation', 0, '') as string;
	const isCustomCall = resource === customApiCall.CUSTOM_API_CALL || operationName === customApiCall.CUSTOM_API_CALL;
	const operation: OperationModule | undefined = isCustomCall ? customApiCall : resources[resource]?.[operationName];
	if (!operation) {
		const renamed = RENAMED[`${resource}.${operationName}`];
		throw new NodeOperationError(this.getNode(), `The operation "${operationName}" is not known for "${resource}"`, {
			description: renamed ? `It was replaced: choose ${renamed}.` : undefined,
		});
	}

	return await runPerItem.call(this, operation);
}
