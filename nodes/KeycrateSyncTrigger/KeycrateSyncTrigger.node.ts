import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	IHookFunctions,
	INodeCredentialTestResult,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { EVENTS, rememberDelivery, secretKey, toItem, verifyDelivery, type Seen } from './verify';

const CREDENTIAL_TYPE = 'keycrateSyncTriggerApi';

/**
 * Starts a workflow when the Keycrate Stripe sync worker posts to it: a license created by a purchase
 * (license.created, the worker's LICENSE_WEBHOOK_URL) or a bulk job's end (bulk_job.completed, the
 * job's notify_url). Verifies the Standard Webhooks signature over the raw body, refuses stale
 * timestamps, and runs each webhook-id once (the worker retries a hand-off under the same id).
 */
export class KeycrateSyncTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Keycrate Sync Trigger',
		name: 'keycrateSyncTrigger',
		icon: { light: 'file:keycrateSyncTrigger.svg', dark: 'file:keycrateSyncTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ ($parameter["events"] || []).join(", ") }}',
		description: 'Starts the workflow when the Keycrate Stripe sync worker hands off a new license or a bulk job ends, signature verified',
		eventTriggerDescription: 'Waiting for the Keycrate worker to post a license or a bulk job result',
		activationMessage: "Set this node's Production URL as the worker's LICENSE_WEBHOOK_URL (or a bulk job's Notify URL).",
		defaults: { name: 'Keycrate Sync Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'keycrateSyncTriggerApi', required: true, testedBy: 'keycrateSyncTriggerApiTest' }],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				// A path the user chooses, as n8n's Webhook node does: the worker's LICENSE_WEBHOOK_URL stays readable.
				path: '={{$parameter["path"]}}',
				isFullPath: true,
			},
		],
		properties: [
			{
				displayName: 'Path',
				name: 'path',
				type: 'string',
				required: true,
				default: 'keycrate-sync',
				placeholder: 'e.g. keycrate-handoff',
				description:
					"The webhook's path: the Production URL is your n8n's /webhook/ followed by this path. Set it as the worker's LICENSE_WEBHOOK_URL, or as a bulk job's Notify URL.",
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				options: [
					{
						name: 'Bulk Job Completed',
						value: 'bulk_job.completed',
						description: "A bulk job started with this node's URL as Notify URL ended: counts, failures, export path",
					},
					{
						name: 'License Created',
						value: 'license.created',
						description: 'A purchase created a license: the key, the buyer’s email and the Stripe IDs',
					},
				],
				default: ['license.created'],
				description: 'Which deliveries start the workflow; others are acknowledged and dropped',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Tolerance (Seconds)',
						name: 'toleranceSeconds',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 3600 },
						default: 300,
						description: 'How far webhook-timestamp may be from this server’s clock; older (or future) deliveries are refused as replays',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: {
			/** Nothing to call: the secret only verifies what arrives. The test checks its format. */
			async keycrateSyncTriggerApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
				const secret = secretKey(String(credential.data?.signingSecret ?? ''));
				return 'problem' in secret
					? { status: 'Error', message: secret.problem }
					: { status: 'OK', message: 'The Signing Secret is a valid Standard Webhooks secret' };
			},
		},
	};

	/**
	 * The worker has no API to register a URL with: it is pointed at this node by its LICENSE_WEBHOOK_URL
	 * (or a job's notify_url). So activation registers nothing; it only refuses a malformed secret, so the
	 * mistake shows when the workflow is activated rather than as 500s to the worker.
	 */
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				await signingKey(this);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const refuse = (status: number, error: string): IWebhookResponseData => {
			this.getResponseObject().status(status).json({ error });
			return { noWebhookResponse: true };
		};

		// A malformed secret is the owner's mistake, not the sender's: an error execution says what to fix (n8n answers 500).
		const key = await signingKey(this);

		const options = this.getNodeParameter('options', {}) as { toleranceSeconds?: number };
		const now = Date.now();
		const verdict = verifyDelivery({
			headers: this.getHeaderData(),
			rawBody: (request as { rawBody?: Buffer }).rawBody,
			key,
			toleranceSeconds: options.toleranceSeconds ?? 300,
			now,
		});
		if (!verdict.ok) return refuse(verdict.status, verdict.error);

		const parsed = toItem(verdict.body);
		if ('problem' in parsed) return refuse(400, parsed.problem);

		const events = this.getNodeParameter('events', []) as string[];
		if (!events.includes(parsed.event)) {
			const known = EVENTS.includes(parsed.event as (typeof EVENTS)[number]);
			return { webhookResponse: { received: true, ignored: known ? `${parsed.event} is not among the node's Events` : `unknown event ${parsed.event}` } };
		}

		// Each webhook-id once: the worker retries under the same id, and a captured delivery replayed
		// within the tolerance must not run again. Answered 200 so the sender stops retrying.
		const state = this.getWorkflowStaticData('node');
		const remembered = rememberDelivery((state.seen as Seen | undefined) ?? {}, verdict.id, Math.floor(now / 1000));
		state.seen = remembered.seen;
		if (remembered.duplicate) return { webhookResponse: { received: true, duplicate: verdict.id } };

		return { workflowData: [this.helpers.returnJsonArray([parsed.item as IDataObject])] };
	}
}

/** The HMAC key of the credential's secret; a secret that is not whsec_<base64> is an error naming the fix. */
async function signingKey(context: IWebhookFunctions | IHookFunctions): Promise<Buffer> {
	const credentials = await context.getCredentials<{ signingSecret?: string }>(CREDENTIAL_TYPE);
	const secret = secretKey(String(credentials.signingSecret ?? ''));
	if ('problem' in secret) throw new NodeOperationError(context.getNode(), secret.problem);
	return secret.key;
}
