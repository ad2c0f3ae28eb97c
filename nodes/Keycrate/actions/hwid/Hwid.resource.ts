import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../types';
import * as edit from './edit.operation';
import * as toggleLock from './toggleLock.operation';
import * as toggleLockBulk from './toggleLockBulk.operation';
import * as toggleResetAllowed from './toggleResetAllowed.operation';
import * as updateResetInterval from './updateResetInterval.operation';

export const operations: Record<string, OperationModule> = {
	edit,
	toggleLock,
	toggleLockBulk,
	toggleResetAllowed,
	updateResetInterval,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['hwid'] } },
		options: [
			{
				name: 'Edit',
				value: 'edit',
				action: 'Edit the HWID of a license',
				description: 'Bind a license to a hardware ID, or clear the binding',
			},
			{
				name: 'Toggle Lock',
				value: 'toggleLock',
				action: 'Toggle the HWID lock of a license',
				description: 'Turn HWID locking on or off for one license',
			},
			{
				name: 'Toggle Lock Many',
				value: 'toggleLockBulk',
				action: 'Toggle the HWID lock of many licenses',
				description: 'Turn HWID locking on or off for a list of licenses',
			},
			{
				name: 'Toggle Reset Allowed',
				value: 'toggleResetAllowed',
				action: 'Toggle whether a license allows HWID resets',
				description: 'Allow or forbid end-user HWID resets for one license',
			},
			{
				name: 'Update Reset Interval',
				value: 'updateResetInterval',
				action: 'Update the HWID reset interval of a license',
				description: 'Set the minimum time between two HWID resets',
			},
		],
		default: 'edit',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
