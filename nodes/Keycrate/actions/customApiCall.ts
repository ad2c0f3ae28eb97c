import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { invalidInput } from '../helpers/input';
import { operationOfPath, WRITE_ONCE } from '../transport/endpoints';
import { keycratePost } from '../transport/request';

/** The value n8n gives Resource or Operation when the user picks "Custom API Call". */
export const CUSTOM_API_CALL = '__CUSTOM_API_CALL__';

const fields: INodeProperties[] = [
	{
		displayName: 'Path',
		name: 'customPath',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. /license/get',
		description: 'Keycrate endpoint, after the Base URL of the credential. Every endpoint is a POST with a JSON body; the API key is added for you.',
	},
	{
		displayName: 'Body',
		name: 'customBody',
		type: 'json',
		default: '{}',
		description: 'JSON object sent as the request body',
	},
];

/**
 * n8n adds "Custom API Call" to Resource and Operation of nodes whose credential authenticates;
 * these fields show for either. Its editor keeps a field visible during a custom call when the
 * field holds a value, which a shown field with a default does.
 */
export const description: INodeProperties[] = [
	...fields.map((field) => ({ ...field, displayOptions: { show: { resource: [CUSTOM_API_CALL] } } })),
	...fields.map((field) => ({ ...field, displayOptions: { show: { operation: [CUSTOM_API_CALL] } } })),
];

/**
 * POSTs the body to the path through the node's transport: retries and errors as for the named
 * operations; a path that is not a known endpoint is treated as write-once (never re-sent).
 */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const path = String(this.getNodeParameter('customPath', itemIndex, '') ?? '').trim();
	if (!/^\/[A-Za-z0-9/_.-]+$/.test(path) || path.includes('..')) {
		throw invalidInput(this, itemIndex, `Path must be an endpoint path like /license/get, got "${path.slice(0, 60)}"`);
	}
	const rawBody = this.getNodeParameter('customBody', itemIndex, '{}');
	let body: unknown = rawBody;
	if (typeof rawBody === 'string') {
		try {
			body = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
		} catch (error) {
			throw invalidInput(this, itemIndex, 'Body is not valid JSON', (error as Error).message);
		}
	}
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw invalidInput(this, itemIndex, 'Body must be a JSON object, like {"license_key": "ABCD-1234"}');
	}
	const operation = operationOfPath(path);
	const writeOnce = operation === undefined || WRITE_ONCE.has(operation);
	const reply = await keycratePost(this, path, body, writeOnce, itemIndex);
	return [Array.isArray(reply) ? { data: reply } : (reply as object)];
}
