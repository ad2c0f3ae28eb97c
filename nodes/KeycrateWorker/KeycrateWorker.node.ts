import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as bulkJob from './actions/bulkJob/BulkJob.resource';
import * as deadLetter from './actions/deadLetter/DeadLetter.resource';
import { router } from './actions/router';
import * as sync from './actions/sync/Sync.resource';

export class KeycrateWorker implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate Worker',
		name: 'keycrateWorker',
		icon: { light: 'file:keycrateWorker.svg', dark: 'file:keycrateWorker.dark.svg' },
		group: ['transform'],
		version: 1,
		// A sentence on the canvas: the operation's action (test/node/subtitles.test.ts checks it against every operation).
		subtitle:
			'={{ ({"bulkJob.start":"Start a bulk job","bulkJob.get":"Get a bulk job","bulkJob.getMany":"Get many bulk jobs","bulkJob.cancel":"Cancel a bulk job","sync.resyncRoot":"Resync a root","deadLetter.getMany":"Get many dead letters","deadLetter.retry":"Retry dead letters"})[$parameter["resource"] + "." + $parameter["operation"]] ?? "" }}',
		description:
			"Start, follow and cancel the Keycrate Stripe worker's queued bulk jobs (create, extend, pause, activate, retier, lock, delete, export licenses), resync a Stripe root and retry dead letters",
		defaults: { name: 'Keycrate Worker' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'keycrateWorkerApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Bulk Job', value: 'bulkJob', description: 'Queued jobs over many licenses' },
					{ name: 'Dead Letter', value: 'deadLetter', description: 'Syncs and hand-offs that failed for good' },
					{ name: 'Sync', value: 'sync', description: 'Syncs of Stripe roots into licenses' },
				],
				default: 'bulkJob',
			},
			...bulkJob.description,
			...sync.description,
			...deadLetter.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
