import type { IAuthenticateGeneric, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Tested by the Keycrate nodes (testedBy: keycrateApiTest in nodes/Keycrate/methods/credentialTest.ts):
 * a declarative `test` cannot tell a Keycrate answer from an HTML page, a 5xx or a 429, and n8n
 * uses a declarative test in preference to the nodes' one.
 */
export class KeycrateApi implements ICredentialType {
	name = 'keycrateApi';

	displayName = 'Keycrate API';

	icon = {
		light: 'file:../nodes/Keycrate/keycrate.svg',
		dark: 'file:../nodes/Keycrate/keycrate.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/keycrate/n8n-nodes-keycrate#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'e.g. kc_live_...',
			description: 'A Keycrate Management API key; it starts with kc_',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: 'https://api.keycrate.dev',
			placeholder: 'e.g. https://api.keycrate.dev',
			description: 'Where the Keycrate Management API answers',
		},
		{
			displayName: 'Default App ID',
			name: 'appId',
			type: 'string',
			default: '',
			placeholder: 'e.g. 2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11',
			description: 'UUID of the app that Keycrate nodes use when their App ID is empty',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'x-api-key': '={{$credentials.apiKey}}' } },
	};
}
