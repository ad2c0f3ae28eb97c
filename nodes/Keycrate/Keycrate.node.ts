import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as customApiCall from './actions/customApiCall';
import * as hwid from './actions/hwid/Hwid.resource';
import * as license from './actions/license/License.resource';
import { router } from './actions/router';
import { PACKAGE_DESCRIPTION } from './description';
import * as subscription from './actions/subscription/Subscription.resource';
import { searchSubscriptions } from './methods/listSearch';

export class Keycrate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate',
		name: 'keycrate',
		icon: { light: 'file:keycrate.svg', dark: 'file:keycrate.dark.svg' },
		group: ['transform'],
		version: 1,
		// A sentence on the canvas: the operation's action ("Create a license"), or "Custom API call"
		// (n8n's lint wants a literal here; test/node/subtitles.test.ts checks it against every operation).
		subtitle:
			'={{ ({"license.create":"Create a license","license.createBulk":"Create many licenses","license.delete":"Delete a license","license.deleteBulk":"Delete many licenses","license.extend":"Extend a license","license.extendBulk":"Extend many licenses","license.get":"Get a license","license.getMany":"Get many licenses","license.updateMetadata":"Update license metadata","license.updateStatus":"Update license status","license.updateStatusBulk":"Update status of many licenses","license.updateSubscription":"Update license subscription tier","license.updateUserCredentials":"Update license user credentials","hwid.clear":"Clear the HWID of a license","hwid.set":"Set the HWID of a license","hwid.setLock":"Set the HWID lock of a license","hwid.setLockBulk":"Set the HWID lock of many licenses","hwid.setResetAllowed":"Set whether a license allows HWID resets","hwid.updateResetInterval":"Update the HWID reset interval","subscription.create":"Create a subscription","subscription.delete":"Delete a subscription","subscription.getMany":"Get many subscriptions","subscription.update":"Update a subscription"})[$parameter["resource"] + "." + $parameter["operation"]] ?? ([$parameter["resource"], $parameter["operation"]].includes("__CUSTOM_API_CALL__") ? "Custom API call" : "") }}',
		description: PACKAGE_DESCRIPTION,
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
			...customApiCall.description,
		],
	};

	methods = {
		listSearch: { searchSubscriptions },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
