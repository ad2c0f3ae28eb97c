import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../../../Keycrate/actions/types';
import * as cancel from './cancel.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as start from './start.operation';

export const operations: Record<string, OperationModule> = { start, get, getMany, cancel };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['bulkJob'] } },
		options: [
			{ name: 'Cancel', value: 'cancel', action: 'Cancel a bulk job', description: 'Stop a job after the chunk it is on; its result says what was done' },
			{ name: 'Get', value: 'get', action: 'Get a bulk job', description: "Read a job's progress and, once it ended, its result" },
			{ name: 'Get Many', value: 'getMany', action: 'Get many bulk jobs', description: 'List the jobs the worker keeps, newest first' },
			{
				name: 'Start',
				value: 'start',
				action: 'Start a bulk job',
				description: 'Queue a create, extend, pause, activate, retier, lock, delete or export of many licenses',
			},
		],
		default: 'start',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
