import type { IDataObject, INodeExecutionData, INodeType, INodeTypeDescription, IPollFunctions } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { appIdField } from './actions/fields';
import { PACKAGE_DESCRIPTION } from './description';
import { UUID_PATTERN } from './contract';
import { NO_APP_ID, pickAppId } from './helpers/input';
import { CREDENTIAL_TYPE, type KeycrateCredentials } from './transport/request';
import { pollExpiringLicenses, pollNewLicenses } from './trigger/poll';

export class KeycrateTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate Trigger',
		name: 'keycrateTrigger',
		icon: { light: 'file:keycrate.svg', dark: 'file:keycrate.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle:
			'={{ $parameter["event"] === "licenseExpiring" ? "When a license comes within " + $parameter["withinDays"] + " days of expiry" : "When a license is created" }}',
		description: PACKAGE_DESCRIPTION,
		eventTriggerDescription: 'Waiting for Keycrate licenses to be created or to come close to expiry',
		defaults: { name: 'Keycrate Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'keycrateApi', required: true }],
		properties: [
			{
				displayName: 'Event',
				name: 'event',
				type: 'options',
				required: true,
				options: [
					{
						name: 'License Created',
						value: 'licenseCreated',
						description: 'A license was created since the last poll',
					},
					{
						name: 'License Expiring Soon',
						value: 'licenseExpiring',
						description: 'An active license expires within the given number of days (reported once per expiry)',
					},
				],
				default: 'licenseCreated',
			},
			appIdField,
			{
				displayName: 'Within Days',
				name: 'withinDays',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 365 },
				default: 7,
				description: 'How close the expiry must be for the license to be reported',
				displayOptions: { show: { event: ['licenseExpiring'] } },
			},
		],
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const appId = await resolveAppId(this);
		const state = this.getWorkflowStaticData('node');
		const licenses =
			this.getNodeParameter('event') === 'licenseExpiring'
				? await pollExpiringLicenses(this, appId, this.getNodeParameter('withinDays') as number, state, Date.now())
				: await pollNewLicenses(this, appId, state);
		return licenses.length > 0 ? [this.helpers.returnJsonArray(licenses as IDataObject[])] : null;
	}
}

async function resolveAppId(context: IPollFunctions): Promise<string> {
	const credentials = await context.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE);
	const picked = pickAppId(context.getNodeParameter('appId', ''), credentials);
	if (!picked) throw new NodeOperationError(context.getNode(), NO_APP_ID);
	const appId = String(picked.value).trim();
	if (!UUID_PATTERN.test(appId)) {
		throw new NodeOperationError(context.getNode(), `${picked.label} must be a UUID, got "${appId}"`);
	}
	return appId;
}
