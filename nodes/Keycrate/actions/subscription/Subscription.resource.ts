import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../types';
import * as create from './create.operation';
import * as deleteSubscription from './delete.operation';
import * as update from './update.operation';
import * as getMany from './getMany.operation';

export const operations: Record<string, OperationModule> = {
	create,
	delete: deleteSubscription,
	getMany,
	update,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['subscription'] } },
		options: [
			{
				name: 'Create',
				value: 'create',
				action: 'Create a subscription',
				description: 'Create a subscription tier under an app',
			},
			{
				name: 'Delete',
				value: 'delete',
				action: 'Delete a subscription',
				description: 'Delete a subscription tier and every license in it',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				action: 'Get many subscriptions',
				description: "List an app's subscription tiers",
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update a subscription',
				description: "Change a tier's name, level or single-key-per-HWID rule",
			},
		],
		default: 'getMany',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
