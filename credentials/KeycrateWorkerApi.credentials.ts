import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The Keycrate Stripe worker's admin API (openapi/worker-admin.openapi.yaml), used by the Keycrate
 * Worker node. Test connection lists one bulk job: n8n's declarative test, with the two refusals
 * the admin API has (401: another token; 404: no ADMIN_TOKEN on the worker, so no admin routes).
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
		request: { baseURL: '={{$credentials.workerUrl}}', url: '/admin/jobs', method: 'GET', qs: { limit: 1 } },
		rules: [
			{
				type: 'responseCode',
				properties: { value: 401, message: "The Admin Token is not the worker's ADMIN_TOKEN: set it to the value of ADMIN_TOKEN in the worker's environment" },
			},
			{
				type: 'responseCode',
				properties: { value: 404, message: 'The worker has no admin API at this URL: set ADMIN_TOKEN on the worker and restart it, or check the Worker URL' },
			},
		],
	};
}
