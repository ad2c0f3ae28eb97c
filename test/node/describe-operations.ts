import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { INodeProperties } from 'n8n-workflow';
import { parse } from 'yaml';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { ENDPOINTS, type OperationId } from '../../nodes/Keycrate/transport/endpoints';

/** Which contract operation each node operation drives: all 22 endpoints (HWID Set and Clear share /hwid/edit). */
export const NODE_OPERATIONS: Record<string, Record<string, OperationId>> = {
	license: {
		create: 'licenseCreate',
		createBulk: 'licenseCreateBulk',
		extend: 'licenseExtend',
		extendBulk: 'licenseExtendBulk',
		delete: 'licenseDelete',
		deleteBulk: 'licenseDeleteBulk',
		get: 'licenseGet',
		getMany: 'licenseGetBulk',
		updateStatus: 'licenseUpdateStatus',
		updateStatusBulk: 'licenseUpdateStatusBulk',
		updateSubscription: 'licenseUpdateSubscription',
		updateUserCredentials: 'licenseUpdateUserCredentials',
		updateMetadata: 'licenseUpdateMetadata',
	},
	hwid: {
		set: 'hwidEdit',
		clear: 'hwidEdit',
		setLock: 'hwidToggleLock',
		setLockBulk: 'hwidToggleLockBulk',
		setResetAllowed: 'hwidToggleResetAllowed',
		updateResetInterval: 'hwidUpdateResetInterval',
	},
	subscription: {
		create: 'subscriptionCreate',
		update: 'subscriptionEdit',
		delete: 'subscriptionDelete',
		getMany: 'subscriptionGetBulk',
	},
};

export interface OperationParameters {
	endpoint: string;
	/** Top-level parameters the node cannot run without (appId may be left empty for the credential's default; only where it is sent). */
	required: string[];
	/** Everything else, collection members as "collection.member". */
	optional: string[];
	/** Parameter → its type and default, so a workflow can be written without opening the node. */
	parameters: Record<string, { type: string; default: unknown; options?: unknown[] }>;
}

function shownFor(property: INodeProperties, resource: string, operation: string): boolean {
	const show = property.displayOptions?.show;
	return (
		!!show && (show.resource as string[] | undefined)?.includes(resource) === true && (show.operation as string[] | undefined)?.includes(operation) === true
	);
}

interface ContractYaml {
	paths: Record<string, { post: { requestBody: { $ref: string } } }>;
	components: {
		requestBodies: Record<string, { content: { 'application/json': { schema: { $ref: string } } } }>;
		schemas: Record<string, { required?: string[] }>;
	};
}

export function readContract(): ContractYaml {
	return parse(readFileSync(join(__dirname, '../../openapi/keycrate.openapi.yaml'), 'utf8')) as ContractYaml;
}

/** Whether the contract's request for this path requires app_id (else the node's App ID only feeds a dropdown). */
function requiresAppId(contract: ContractYaml, path: string): boolean {
	const bodyName = contract.paths[path].post.requestBody.$ref.split('/').pop()!;
	const schemaName = contract.components.requestBodies[bodyName].content['application/json'].schema.$ref.split('/').pop()!;
	return contract.components.schemas[schemaName].required?.includes('app_id') === true;
}

/** The node's parameters per resource and operation, derived from its description. */
export function describeOperations(): Record<string, Record<string, OperationParameters>> {
	const { properties } = new Keycrate().description;
	const contract = readContract();
	const result: Record<string, Record<string, OperationParameters>> = {};
	for (const [resource, operations] of Object.entries(NODE_OPERATIONS)) {
		result[resource] = {};
		for (const [operation, operationId] of Object.entries(operations)) {
			const entry: OperationParameters = { endpoint: ENDPOINTS[operationId], required: [], optional: [], parameters: {} };
			for (const property of properties.filter((p) => shownFor(p, resource, operation))) {
				const note = (name: string, p: INodeProperties) => {
					entry.parameters[name] = {
						type: p.type,
						default: p.default,
						...(p.options && p.type === 'options' ? { options: p.options.map((o) => ('value' in o ? o.value : o.name)) } : {}),
					};
				};
				if (property.type === 'collection') {
					for (const member of (property.options ?? []) as INodeProperties[]) {
						entry.optional.push(`${property.name}.${member.name}`);
						note(`${property.name}.${member.name}`, member);
					}
				} else {
					const required = property.required === true || (property.name === 'appId' && requiresAppId(contract, entry.endpoint));
					(required ? entry.required : entry.optional).push(property.name);
					note(property.name, property);
				}
			}
			result[resource][operation] = entry;
		}
	}
	return result;
}
