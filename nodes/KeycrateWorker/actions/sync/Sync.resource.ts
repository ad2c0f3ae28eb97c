import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../../../Keycrate/actions/types';
import * as resyncRoot from './resyncRoot.operation';

export const operations: Record<string, OperationModule> = { resyncRoot };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['sync'] } },
		options: [
			{
				name: 'Resync Root',
				value: 'resyncRoot',
				action: 'Resync a root',
				description: "Queue a sync of one Stripe subscription, payment or checkout from Stripe's current state",
			},
		],
		default: 'resyncRoot',
	},
	...resyncRoot.description,
];
