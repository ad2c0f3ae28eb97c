import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../../../Keycrate/actions/types';
import * as getMany from './getMany.operation';
import * as retry from './retry.operation';

export const operations: Record<string, OperationModule> = { getMany, retry };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['deadLetter'] } },
		options: [
			{ name: 'Get Many', value: 'getMany', action: 'Get many dead letters', description: 'List the syncs and hand-offs that failed for good' },
			{ name: 'Retry', value: 'retry', action: 'Retry dead letters', description: 'Run chosen dead letters, or all of them, again' },
		],
		default: 'getMany',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
