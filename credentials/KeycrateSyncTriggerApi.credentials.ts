import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The secret the Keycrate worker signs its hand-offs and bulk-job notifications with (its
 * LICENSE_WEBHOOK_SECRET, Standard Webhooks `whsec_<base64>`). Used by the Keycrate Sync Trigger
 * to verify what arrives; nothing is sent with it, so there is no connection to test.
 */
export class KeycrateSyncTriggerApi implements ICredentialType {
	name = 'keycrateSyncTriggerApi';

	displayName = 'Keycrate Sync Trigger API';

	icon = {
		light: 'file:../nodes/KeycrateSyncTrigger/keycrateSyncTrigger.svg',
		dark: 'file:../nodes/KeycrateSyncTrigger/keycrateSyncTrigger.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/keycrate/n8n-nodes-keycrate#keycrate-sync-trigger';

	properties: INodeProperties[] = [
		{
			displayName: 'Signing Secret',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'e.g. whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
			description: "The worker's LICENSE_WEBHOOK_SECRET: a Standard Webhooks secret, whsec_ followed by base64",
		},
	];
}
