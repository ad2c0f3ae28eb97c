import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../types';
import * as create from './create.operation';
import * as createBulk from './createBulk.operation';
import * as deleteLicense from './delete.operation';
import * as deleteBulk from './deleteBulk.operation';
import * as extend from './extend.operation';
import * as extendBulk from './extendBulk.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as updateMetadata from './updateMetadata.operation';
import * as updateStatus from './updateStatus.operation';
import * as updateStatusBulk from './updateStatusBulk.operation';
import * as updateSubscription from './updateSubscription.operation';
import * as updateUserCredentials from './updateUserCredentials.operation';

export const operations: Record<string, OperationModule> = {
	create,
	createBulk,
	delete: deleteLicense,
	deleteBulk,
	extend,
	extendBulk,
	get,
	getMany,
	updateMetadata,
	updateStatus,
	updateStatusBulk,
	updateSubscription,
	updateUserCredentials,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['license'] } },
		options: [
			{ name: 'Create', value: 'create', action: 'Create a license', description: 'Create one license key' },
			{
				name: 'Create Many',
				value: 'createBulk',
				action: 'Create many licenses',
				description: 'Create any number of license keys with the same settings',
			},
			{ name: 'Delete', value: 'delete', action: 'Delete a license', description: 'Delete one license key' },
			{
				name: 'Delete Many',
				value: 'deleteBulk',
				action: 'Delete many licenses',
				description: 'Delete a list of license keys',
			},
			{
				name: 'Extend',
				value: 'extend',
				action: 'Extend a license',
				description: 'Move the expiry of one license later by minutes, hours, days or weeks',
			},
			{
				name: 'Extend Many',
				value: 'extendBulk',
				action: 'Extend many licenses',
				description: 'Move the expiry of a list of licenses later by the same amount',
			},
			{ name: 'Get', value: 'get', action: 'Get a license', description: 'Read one license by its key' },
			{
				name: 'Get Many',
				value: 'getMany',
				action: 'Get many licenses',
				description: "List an app's licenses, filtered and sorted",
			},
			{
				name: 'Update Metadata',
				value: 'updateMetadata',
				action: 'Update license metadata',
				description: "Replace a license's JSON metadata",
			},
			{
				name: 'Update Status',
				value: 'updateStatus',
				action: 'Update license status',
				description: 'Pause or activate one license',
			},
			{
				name: 'Update Status Many',
				value: 'updateStatusBulk',
				action: 'Update status of many licenses',
				description: 'Pause or activate a list of licenses',
			},
			{
				name: 'Update Subscription',
				value: 'updateSubscription',
				action: 'Update license subscription tier',
				description: 'Move a license to a subscription tier, or detach it from its tier',
			},
			{
				name: 'Update User Credentials',
				value: 'updateUserCredentials',
				action: 'Update license user credentials',
				description: 'Set the username and/or password bound to a license',
			},
		],
		default: 'get',
	},
	...Object.values(operations).flatMap((operation) => operation.description),
];
