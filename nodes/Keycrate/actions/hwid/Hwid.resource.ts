import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../types';
import * as clear from './clear.operation';
import * as set from './set.operation';
import * as setLock from './setLock.operation';
import * as setLockBulk from './setLockBulk.operation';
import * as setResetAllowed from './setResetAllowed.operation';
import * as updateResetInterval from './updateResetInterval.operation';

export const operations: Record<string, OperationModule> = {
	clear,
	set,
	setLock,
	setLockBulk,
	setResetAllowed,
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
				name: 'Clear',
				value: 'clear',
				action: 'Clear the HWID of a license',
				description: 'Unbind a license from its hardware ID',
			},
			{
				name: 'Set',
				value: 'set',
				action: 'Set the HWID of a license',
				description: 'Bind a license to a hardware ID',
			},
			{
				name: 'Set Lock',
				value: 'setLock',
				action: 'Set the HWID lock of a license',
				description: 'Lock or unlock a license to its hardware ID (sets the value, does not flip it)',
			},
			{
				name: 'Set Lock Many',
				value: 'setLockBulk',
				action: 'Set the HWID lock of many licenses',
				description: 'Lock or unlock a list of licenses to their hardware IDs',
			},
			{
				name: 'Set Reset Allowed',
				value: 'setResetAllowed',
				action: 'Set whether a license allows HWID resets',
				description: 'Allow or forbid end-user HWID resets (sets the value, does not flip it)',
			},
			{
				name: 'Update Reset Interval',
				value: 'updateResetInterval',
				action: 'Update the HWID reset interval',
				description: 'Set the hours that must pass between two HWID resets',
			},
		],
		default: 'set',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
