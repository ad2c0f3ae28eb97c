import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/** The Default App ID as the test sends it ('' when none is set). */
const APP_ID = "String($credentials.appId || '').trim()";

/** A license key that no account has: Keycrate answers LICENSE_NOT_FOUND once it has accepted the API key. */
const NO_SUCH_LICENSE = 'N8N-CREDENTIAL-TEST-0000';

/** A Keycrate error answer `{error, error_code}` with this code fails the test with this message. */
const refusal = (errorCode: string, message: string) => ({
	type: 'responseSuccessBody' as const,
	properties: { key: 'error_code', value: errorCode, message },
});

/**
 * "Test connection" is n8n's declarative credential test (n8n gives a node's test function only the
 * deprecated helpers.request). One call, which every HTTP status reaches the rules with
 * (ignoreHttpStatusErrors), the rules reading Keycrate's error_code:
 *   - with a Default App ID: subscription get-bulk of that app (one tier), so the key and the app are
 *     both checked (ACCESS_DENIED: another account's app; APP_NOT_FOUND; INVALID_INPUT: not a UUID);
 *   - without: license get of a key no one has; LICENSE_NOT_FOUND means Keycrate accepted the API key.
 * What the rules cannot express (each is one key compared with one value): JSON that is not Keycrate's
 * passes, and the messages cannot name the Base URL. n8n's own messages cover a network error.
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

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{ String($credentials.baseUrl).trim() }}',
			url: `={{ ${APP_ID} ? '/subscription/get-bulk' : '/license/get' }}`,
			method: 'POST',
			body: `={{ ${APP_ID} ? { app_id: ${APP_ID}, per_page: 1 } : { license_key: '${NO_SUCH_LICENSE}' } }}`,
			json: true,
			ignoreHttpStatusErrors: true,
		},
		rules: [
			{
				// An answer that is not JSON reaches the rules as a string (an HTML page, a proxy's error page).
				type: 'responseSuccessBody',
				properties: {
					key: 'constructor.name',
					value: 'String',
					message:
						"The Base URL did not answer like the Keycrate API (not JSON). Check the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.",
				},
			},
			refusal('MISSING_AUTH', 'Keycrate received no API key. Enter the API key (it starts with kc_).'),
			refusal('INVALID_API_KEY', 'Keycrate refused the API key (INVALID_API_KEY). Check that it is a current Management API key.'),
			refusal(
				'ACCESS_DENIED',
				"Keycrate accepted the API key but refused the Default App ID: the app belongs to another account [ACCESS_DENIED]. Enter an App ID of this key's account, or leave it empty.",
			),
			refusal('APP_NOT_FOUND', 'Keycrate accepted the API key but has no app with the Default App ID [APP_NOT_FOUND]. Check the App ID, or leave it empty.'),
			refusal(
				'INVALID_INPUT',
				"Keycrate refused the test request [INVALID_INPUT]. Check the Default App ID: it must be a UUID (e.g. 2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11) or empty; and the Base URL: it should be the API's address, e.g. https://api.keycrate.dev.",
			),
			refusal('RATE_LIMITED', 'Keycrate is rate-limiting requests (HTTP 429), so the API key could not be checked. Try again in a minute.'),
			refusal('SERVER_ERROR', 'Keycrate answered with a server error, so the API key could not be checked. Try again later.'),
		],
	};
}
