import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as hwid from './actions/hwid/Hwid.resource';
import * as license from './actions/license/License.resource';
import { router } from './actions/router';
import * as subscription from './actions/subscription/Subscription.resource';
import { getSubscriptions } from './methods/loadOptions';

export class Keycrate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate',
		name: 'keycrate',
		icon: { light: 'file:keycrate.svg', dark: 'file:keycrate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Manage Keycrate software licenses: create, extend, pause and delete license keys, bind them to hardware IDs (HWID) and organise them in subscription tiers',
		defaults: { name: 'Keycrate' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'keycrateApi', required: true }],
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
		],
	};

	methods = { loadOptions: { getSubscriptions } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
