import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** The nil UUID: any well-formed App ID lets Keycrate check the key when no default App ID is set. */
const PROBE_APP_ID = '00000000-0000-0000-0000-000000000000';

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
			placeholder: 'kc_...',
			description: 'A Keycrate Management API key; it starts with kc_',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: 'https://api.keycrate.dev',
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

	/**
	 * Lists one subscription tier. A wrong key answers 401 whatever the app; a right key answers
	 * 200, or 404 when the App ID does not exist. HTTP errors are read as data so that the rules
	 * can tell these apart (n8n would otherwise fail the test on any non-2xx).
	 */
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/subscription/get-bulk',
			method: 'POST',
			body: { app_id: `={{$credentials.appId ? $credentials.appId.trim() : "${PROBE_APP_ID}"}}`, per_page: 1 },
			json: true,
			ignoreHttpStatusErrors: true,
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: { key: 'error_code', value: 'INVALID_API_KEY', message: 'Keycrate does not know this API key' },
			},
			{
				type: 'responseSuccessBody',
				properties: { key: 'error_code', value: 'MISSING_AUTH', message: 'The API key is empty' },
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error_code',
					value: 'ACCESS_DENIED',
					message: 'The API key is valid but may not access the Default App ID',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error_code',
					value: 'INVALID_INPUT',
					message: 'The Default App ID must be a UUID',
				},
			},
		],
	};
}
