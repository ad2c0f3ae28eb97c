import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as customApiCall from './actions/customApiCall';
import * as hwid from './actions/hwid/Hwid.resource';
import * as license from './actions/license/License.resource';
import { router } from './actions/router';
import { PACKAGE_DESCRIPTION } from './description';
import * as subscription from './actions/subscription/Subscription.resource';
import { keycrateApiTest } from './methods/credentialTest';
import { searchSubscriptions } from './methods/listSearch';

export class Keycrate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate',
		name: 'keycrate',
		icon: { light: 'file:keycrate.svg', dark: 'file:keycrate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: PACKAGE_DESCRIPTION,
		defaults: { name: 'Keycrate' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'keycrateApi', required: true, testedBy: 'keycrateApiTest' }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'HWID', value: 'hwid', description: 'Hardware ID binding of a license' },
					{ name: 'License', value: 'license', description: 'License keys of an app' },
					{ name: 'Subscription', value: 'subscription', description: 'Subscription tiers of an app' },
				],
				default: 'license',
			},
			...license.description,
			...hwid.description,
			...subscription.description,
			...customApiCall.description,
		],
	};

	methods = {
		credentialTest: { keycrateApiTest },
		listSearch: { searchSubscriptions },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
