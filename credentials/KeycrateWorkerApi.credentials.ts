import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The Keycrate Stripe worker's admin API (openapi/worker-admin.openapi.yaml), used by the Keycrate
 * Worker node. Test connection lists one bulk job: n8n's declarative test, with the two refusals
 * the admin API has (401: another token; 404: no ADMIN_TOKEN on the worker, so no admin routes), a
 * worker failing, and an answer that is not the admin API's (not JSON, or JSON without `data`).
 */
export class KeycrateWorkerApi implements ICredentialType {
	name = 'keycrateWorkerApi';

	displayName = 'Keycrate Worker API';

	icon = {
		light: 'file:../nodes/KeycrateWorker/keycrateWorker.svg',
		dark: 'file:../nodes/KeycrateWorker/keycrateWorker.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/keycrate/n8n-nodes-keycrate#keycrate-worker-node';

	properties: INodeProperties[] = [
		{
			displayName: 'Worker URL',
			name: 'workerUrl',
			type: 'string',
			required: true,
			default: 'http://127.0.0.1:3000',
			placeholder: 'e.g. http://127.0.0.1:3000',
			description: "Where the worker's ingest role answers (the same port as its Stripe webhook endpoint)",
		},
		{
			displayName: 'Admin Token',
			name: 'adminToken',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'The value of ADMIN_TOKEN in the worker’s environment, sent as a bearer token',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.adminToken}}' } },
	};

	test: ICredentialTestRequest = {
		// Every answer reaches the rules (ignoreHttpStatusErrors): the admin API answers {data} or {error, message}.
		request: { baseURL: '={{$credentials.workerUrl}}', url: '/admin/jobs', method: 'GET', qs: { limit: 1 }, json: true, ignoreHttpStatusErrors: true },
		rules: [
			{
				// An answer that is not JSON reaches the rules as a string (an HTML page, a proxy's error page).
				type: 'responseSuccessBody',
				properties: {
					key: 'constructor.name',
					value: 'String',
					message:
						"The Worker URL did not answer like the Keycrate worker (not JSON). Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error',
					value: 'unauthorized',
					message: "The Admin Token is not the worker's ADMIN_TOKEN: set it to the value of ADMIN_TOKEN in the worker's environment",
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error',
					value: 'not_found',
					message: 'The worker has no admin API at this URL: set ADMIN_TOKEN on the worker and restart it, or check the Worker URL',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error',
					value: 'internal',
					message: "The worker failed on the request (internal error): check the worker's log and that its Redis is reachable.",
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'data',
					value: undefined,
					message:
						"The Worker URL answered JSON that is not the Keycrate worker's admin API. Check the Worker URL: it is the worker's ingest address, e.g. http://127.0.0.1:3000.",
				},
			},
		],
	};
}
