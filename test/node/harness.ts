/**
 * Runs the Keycrate node in-process through n8n-core's own execution path: a Workflow with the
 * node, executed by WorkflowExecute, with a credentials helper that hands out the credential and
 * applies its declarative `authenticate` the way n8n's CLI does (expressions resolved by the
 * workflow). Also: the node's list search through n8n's LoadOptionsContext, and the credentials'
 * declarative tests the way n8n's credentials tester runs them.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// n8n-core's InstanceSettings reads and writes its settings under the user folder: keep it private.
process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'kc-n8n-'));
process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS ??= 'false';

import { Container } from '@n8n/di';
import {
	CredentialTestContext,
	ExecuteContext,
	ExecutionLifecycleHooks,
	ExternalSecretsProxy,
	HookContext,
	LoadOptionsContext,
	PollContext,
	RoutingNode,
	WebhookContext,
	WorkflowExecute,
} from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialType,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeParameters,
	INodeCredentialTestResult,
	INodeListSearchResult,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IRun,
	IRunExecutionData,
	IVersionedNodeType,
	IWorkflowExecuteAdditionalData,
	ExecutionError,
} from 'n8n-workflow';
import { ICredentialsHelper, createDeferredPromise, createRunExecutionData, isExpression, Workflow } from 'n8n-workflow';

import { ScheduledTaskManager } from 'n8n-core/dist/execution-engine/scheduled-task-manager';
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import { TriggersAndPollers } from 'n8n-core/dist/execution-engine/triggers-and-pollers';

// n8n's credentials tester reads the response-body rules with lodash's get (lodash comes with n8n-core).
const lodashGet = createRequire(__filename)('lodash/get') as (object: unknown, path: string) => unknown;

import { KeycrateApi } from '../../credentials/KeycrateApi.credentials';
import { KeycrateWorkerApi } from '../../credentials/KeycrateWorkerApi.credentials';
import { KeycrateSyncTriggerApi } from '../../credentials/KeycrateSyncTriggerApi.credentials';
import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { KeycrateTrigger } from '../../nodes/Keycrate/KeycrateTrigger.node';
import { KeycrateWorker } from '../../nodes/KeycrateWorker/KeycrateWorker.node';
import { KeycrateSyncTrigger } from '../../nodes/KeycrateSyncTrigger/KeycrateSyncTrigger.node';

export const NODE_TYPE = 'n8n-nodes-keycrate.keycrate';
export const TRIGGER_TYPE = 'n8n-nodes-keycrate.keycrateTrigger';
export const WORKER_NODE_TYPE = 'n8n-nodes-keycrate.keycrateWorker';
export const CREDENTIAL_TYPE = 'keycrateApi';
export const WORKER_CREDENTIAL_TYPE = 'keycrateWorkerApi';
export const SYNC_TRIGGER_TYPE = 'n8n-nodes-keycrate.keycrateSyncTrigger';
export const SYNC_TRIGGER_CREDENTIAL_TYPE = 'keycrateSyncTriggerApi';

export interface KeycrateCredentialData extends ICredentialDataDecryptedObject {
	apiKey: string;
	baseUrl: string;
	appId: string;
}

export interface WorkerCredentialData extends ICredentialDataDecryptedObject {
	workerUrl: string;
	adminToken: string;
}

const CREDENTIAL_TYPES: Record<string, ICredentialType> = {
	[CREDENTIAL_TYPE]: new KeycrateApi(),
	[WORKER_CREDENTIAL_TYPE]: new KeycrateWorkerApi(),
	[SYNC_TRIGGER_CREDENTIAL_TYPE]: new KeycrateSyncTriggerApi(),
};

/** Each node type of the package: its node name in test workflows and the credential it uses. */
const NODE_SETUP: Record<string, { name: string; credential: string }> = {
	[NODE_TYPE]: { name: 'Keycrate', credential: CREDENTIAL_TYPE },
	[WORKER_NODE_TYPE]: { name: 'Keycrate Worker', credential: WORKER_CREDENTIAL_TYPE },
};

/**
 * Executing a node makes n8n-core's DI container create services with interval timers (SSH client
 * cleanup, cron logging) that would keep Jest alive after the tests: stop them when a file is done.
 */
export function stopN8nServices(): void {
	Container.get(SSHClientsManager).onShutdown();
	Container.get(ScheduledTaskManager).deregisterAllCrons();
}
// Outside Jest (the paging benchmark) the caller stops them.
if (typeof afterAll === 'function') afterAll(stopN8nServices);

class KeycrateNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType> = {
		[NODE_TYPE]: new Keycrate(),
		[TRIGGER_TYPE]: new KeycrateTrigger(),
		[WORKER_NODE_TYPE]: new KeycrateWorker(),
		[SYNC_TRIGGER_TYPE]: new KeycrateSyncTrigger(),
	};

	getByName(type: string): INodeType | IVersionedNodeType {
		return this.getByNameAndVersion(type);
	}

	getByNameAndVersion(type: string): INodeType {
		const nodeType = this.types[type];
		if (!nodeType) throw new Error(`Unknown node type ${type}`);
		return nodeType;
	}

	getKnownTypes() {
		return {};
	}
}

/** A request as it left the node, after authentication (the contract tests validate these). */
export interface SentRequest {
	method: string;
	path: string;
	body: unknown;
	headers: Record<string, unknown>;
	qs?: unknown;
}

/** Hands out one credential and authenticates requests as n8n's CLI CredentialsHelper does. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(
		private readonly data: ICredentialDataDecryptedObject,
		private readonly sent: SentRequest[],
	) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const type = CREDENTIAL_TYPES[typeName];
		if (!type) throw new Error(`Unknown credential type ${typeName}`);
		const { authenticate } = type;
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions as IHttpRequestOptions);
		}
		if (authenticate?.type === 'generic') {
			const resolve = (value: string) =>
				isExpression(value)
					? String(
							workflow.expression.getSimpleParameterValue(node, value, 'internal', {
								$credentials: credentials,
							}) ?? '',
						)
					: value;
			for (const [target, entries] of Object.entries(authenticate.properties)) {
				const options = requestOptions as unknown as Record<string, Record<string, unknown>>;
				options[target] ??= {};
				for (const [key, value] of Object.entries(entries as Record<string, string>)) {
					options[target][resolve(key)] = resolve(value);
				}
			}
		}
		const options = requestOptions as IHttpRequestOptions;
		this.sent.push({
			method: options.method ?? 'GET',
			path: new URL(options.url, options.baseURL).pathname,
			body: options.body,
			headers: { ...options.headers },
			qs: options.qs,
		});
		return options;
	}

	async preAuthentication() {
		return undefined;
	}

	async runPreAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used by the Keycrate node');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		if (!CREDENTIAL_TYPES[type]) throw new Error(`Unknown credential type ${type}`);
		return { ...this.data };
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties(type: string) {
		return CREDENTIAL_TYPES[type].properties;
	}

	isCredentialUsableByNode() {
		return true;
	}
}

function additionalDataFor(credentials: ICredentialDataDecryptedObject, sent: SentRequest[], hooks?: ExecutionLifecycleHooks): IWorkflowExecuteAdditionalData {
	const notUsed = async () => {
		throw new Error('not used by the Keycrate node');
	};
	return {
		credentialsHelper: new TestCredentialsHelper(credentials, sent),
		hooks,
		externalSecretsProxy: new ExternalSecretsProxy(),
		executeWorkflow: notUsed,
		getRunExecutionData: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost/rest',
		instanceBaseUrl: 'http://localhost/',
		formWaitingBaseUrl: 'http://localhost/form-waiting',
		webhookBaseUrl: 'http://localhost/webhook',
		webhookWaitingBaseUrl: 'http://localhost/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost/webhook-test',
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: notUsed,
	} as IWorkflowExecuteAdditionalData;
}

function keycrateNode(parameters: INodeParameters, continueOnFail: boolean, type = NODE_TYPE): INode {
	const { name, credential } = NODE_SETUP[type];
	return {
		id: 'b1f0c6a2-7a53-4a0e-9a55-5f1f4c2b9e10',
		name,
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { [credential]: { id: '1', name: 'Keycrate account' } },
		...(continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
	};
}

function workflowWith(node: INode): Workflow {
	return new Workflow({
		id: 'keycrate-test',
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: new KeycrateNodeTypes(),
	});
}

export interface RunOptions {
	credentials: KeycrateCredentialData;
	parameters: INodeParameters;
	/** Input items; one empty item by default. */
	input?: INodeExecutionData[];
	continueOnFail?: boolean;
}

export interface RunResult {
	/** The node's output (first output, first run). */
	items: INodeExecutionData[];
	/** Set when the node failed (and did not continue). */
	error?: ExecutionError;
	/** Every request the node sent, in order (retries included). */
	requests: SentRequest[];
	run: IRun;
}

/** Executes the Keycrate node once, as n8n does when a workflow reaches it. */
export async function runKeycrate(options: RunOptions): Promise<RunResult> {
	return await runNode(NODE_TYPE, options);
}

/** Executes the Keycrate Worker node once, as n8n does when a workflow reaches it. */
export async function runKeycrateWorker(options: Omit<RunOptions, 'credentials'> & { credentials: WorkerCredentialData }): Promise<RunResult> {
	return await runNode(WORKER_NODE_TYPE, options);
}

async function runNode(
	type: string,
	{ credentials, parameters, input, continueOnFail = false }: Omit<RunOptions, 'credentials'> & { credentials: ICredentialDataDecryptedObject },
): Promise<RunResult> {
	const node = keycrateNode(parameters, continueOnFail, type);
	const workflow = workflowWith(node);
	const hooks = new ExecutionLifecycleHooks('manual', 'keycrate-test-execution', {
		id: workflow.id,
		name: 'Keycrate test',
		active: false,
		isArchived: false,
		createdAt: new Date(),
		updatedAt: new Date(),
		nodes: [node],
		connections: {},
		settings: {},
	} as never);
	const finished = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => finished.resolve(run));

	const runExecutionData: IRunExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node, data: { main: [input ?? [{ json: {} }]] }, source: null }],
		},
	});
	const requests: SentRequest[] = [];
	const execution = new WorkflowExecute(additionalDataFor(credentials, requests, hooks), 'manual', runExecutionData);
	await execution.processRunExecutionData(workflow);
	const run = await finished.promise;

	const task = run.data.resultData.runData[node.name]?.[0];
	return {
		items: task?.data?.main?.[0] ?? [],
		error: run.data.resultData.error ?? task?.error,
		requests,
		run,
	};
}

/** Calls the node's resource-locator search as n8n's editor does (LoadOptionsContext). */
export async function searchList(
	method: 'searchSubscriptions',
	credentials: KeycrateCredentialData,
	parameters: INodeParameters,
	filter?: string,
): Promise<INodeListSearchResult> {
	const node = keycrateNode(parameters, false);
	const context = new LoadOptionsContext(workflowWith(node), node, additionalDataFor(credentials, []), '');
	return await new Keycrate().methods.listSearch[method].call(context, filter);
}

export type CredentialTestResult = INodeCredentialTestResult;

/** "Test connection" for the Keycrate API credential: its declarative test, as n8n runs it. */
export async function testCredential(credentials: KeycrateCredentialData): Promise<CredentialTestResult> {
	return await testDeclarativeCredential(CREDENTIAL_TYPE, credentials);
}

export interface Poller {
	/** One poll, as n8n's ActiveWorkflows runs it (TriggersAndPollers.runPoll with a PollContext). */
	poll(): Promise<INodeExecutionData[][] | null>;
	/** The node's static data, kept between polls as n8n keeps it for an active workflow. */
	staticData(): unknown;
}

/** An activated workflow holding a Keycrate Trigger; each poll sees the static data of the previous ones. */
export function createPoller(credentials: KeycrateCredentialData, parameters: INodeParameters, mode: 'trigger' | 'manual' = 'trigger'): Poller {
	const node: INode = {
		id: 'c2a0d7b3-8b64-4b1f-8b66-6a2a5d3cae21',
		name: 'Keycrate Trigger',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { [CREDENTIAL_TYPE]: { id: '1', name: 'Keycrate account' } },
	};
	const workflow = new Workflow({
		id: 'keycrate-trigger-test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: new KeycrateNodeTypes(),
		staticData: {},
	});
	return {
		poll: async () =>
			await Container.get(TriggersAndPollers).runPoll(workflow, node, new PollContext(workflow, node, additionalDataFor(credentials, []), mode, 'activate')),
		staticData: () => workflow.staticData,
	};
}

/**
 * Runs "Test connection" for a credential with a declarative `test`, as n8n's CredentialsTester
 * does (packages/cli credentials-tester.service.ts): the request through n8n-core's RoutingNode on
 * a temporary node, its `responseCode` rules for a refusal, any other non-2xx as an error, then its
 * `responseSuccessBody` rules on the answer.
 */
export async function testDeclarativeCredential(type: string, data: ICredentialDataDecryptedObject): Promise<CredentialTestResult> {
	const { test } = CREDENTIAL_TYPES[type];
	if (!test) throw new Error(`${type} has no declarative test`);
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: 'temp',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { [type]: { id: '1', name: 'test' } },
	};
	const nodeType: INodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp',
			group: [],
			version: 1,
			description: '',
			defaults: {},
			inputs: [],
			outputs: [],
			credentials: [{ name: type, required: true }],
			properties: [{ displayName: 'Temp', name: 'temp', type: 'string', routing: { request: test.request }, default: '' }],
		},
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) },
	});
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(data, []),
		'internal',
		createRunExecutionData({}),
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	let response: INodeExecutionData[][] | null | undefined;
	try {
		response = await new RoutingNode(context, nodeType, { id: '1', name: 'test', type, data }).runNode();
	} catch (error) {
		const failure = error as { message: string; httpCode?: string; cause?: { response?: { status: number; statusText?: string }; code?: string } };
		// n8n reads the axios error from `cause`. Under Jest the axios error comes from another realm
		// (not instanceof the sandbox's Error), so NodeApiError keeps no cause: fall back to its httpCode.
		const fromCode = /^\d{3}$/.test(failure.httpCode ?? '') ? { status: Number(failure.httpCode) } : undefined;
		const response = failure.cause?.response ?? fromCode;
		const networkCode = failure.cause?.code ?? (/^E[A-Z_]+$/.test(failure.httpCode ?? '') ? failure.httpCode : undefined);
		if (response) {
			const { status } = response;
			for (const rule of test.rules ?? []) {
				if (rule.type === 'responseCode' && rule.properties.value === status) return { status: 'Error', message: rule.properties.message };
			}
			if (status < 199 || status > 299) return { status: 'Error', message: failure.cause?.response?.statusText || `Received HTTP status code: ${status}` };
		} else if (networkCode) return { status: 'Error', message: networkCode };
		return { status: 'Error', message: String(failure.message) };
	}
	// A 2xx (or any answer, with ignoreHttpStatusErrors): the responseSuccessBody rules, in order, on the
	// first item's json, read with lodash's get as n8n does.
	for (const rule of test.rules ?? []) {
		if (rule.type === 'responseSuccessBody' && lodashGet(response![0][0].json, rule.properties.key) === rule.properties.value) {
			return { status: 'Error', message: rule.properties.message };
		}
	}
	return { status: 'OK', message: 'Connection successful!' };
}

/** What n8n answered a delivery with, and what the workflow would start with. */
export interface SyncTriggerResult {
	/** Set when the node answered itself (a refusal): status and JSON body. */
	response?: { status: number; body: unknown };
	/** n8n's own answer when the node did not (IWebhookResponseData.webhookResponse). */
	webhookResponse?: unknown;
	items?: INodeExecutionData[];
}

export interface SyncTrigger {
	/** One POST to the node's webhook, as n8n's WebhookService.runWebhook calls it (a WebhookContext). */
	deliver(request: { headers: Record<string, string | undefined>; rawBody?: Buffer }): Promise<SyncTriggerResult>;
	staticData(): Record<string, unknown>;
	/** Activation: the node's webhookMethods.default.create, as n8n runs it when a workflow is activated. */
	activate(): Promise<boolean>;
}

/** An active workflow holding a Keycrate Sync Trigger with this secret; static data is kept between deliveries. */
export function createSyncTrigger(signingSecret: string, parameters: INodeParameters): SyncTrigger {
	const node: INode = {
		id: 'd3b1e8c4-9c75-4c2a-9c77-7b3b6e4dbf32',
		name: 'Keycrate Sync Trigger',
		type: SYNC_TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		webhookId: 'c6a6a8e2-1f4e-4d55-8f0a-2b9f3f4f8a10',
		credentials: { [SYNC_TRIGGER_CREDENTIAL_TYPE]: { id: '1', name: 'Keycrate Sync Trigger account' } },
	};
	const workflow = new Workflow({
		id: 'keycrate-sync-trigger-test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: new KeycrateNodeTypes(),
		staticData: {},
	});
	const nodeType = new KeycrateSyncTrigger();
	const webhookDescription = nodeType.description.webhooks![0];
	const credentials = { signingSecret };
	const webhookDataFor = (additionalData: IWorkflowExecuteAdditionalData) => ({
		httpMethod: 'POST' as const,
		node: node.name,
		path: String(webhookDescription.path),
		webhookDescription,
		workflowId: String(workflow.id),
		workflowExecuteAdditionalData: additionalData,
	});
	return {
		async deliver(request) {
			let response: SyncTriggerResult['response'];
			const httpResponse = {
				status(status: number) {
					return { json: (body: unknown) => void (response = { status, body }) };
				},
			};
			const body = request.rawBody === undefined ? undefined : (JSON.parse(request.rawBody.toString('utf8') || 'null') as unknown);
			const additionalData = {
				...additionalDataFor(credentials, []),
				// What the node reads of express's request and response.
				httpRequest: { headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])), body, rawBody: request.rawBody },
				httpResponse,
			} as unknown as IWorkflowExecuteAdditionalData;
			const context = new WebhookContext(workflow, node, additionalData, 'webhook', webhookDataFor(additionalData), [], null);
			const result = await nodeType.webhook.call(context);
			return { response, webhookResponse: result.webhookResponse, items: result.workflowData?.[0] };
		},
		staticData: () => workflow.staticData,
		async activate() {
			const additionalData = additionalDataFor(credentials, []);
			const context = new HookContext(workflow, node, additionalData, 'trigger', 'activate', webhookDataFor(additionalData));
			return (await nodeType.webhookMethods.default.checkExists.call(context)) || (await nodeType.webhookMethods.default.create.call(context));
		},
	};
}

/** The node's credential test (its testedBy function), as n8n's CredentialsTester runs it. */
export async function testSyncTriggerCredential(signingSecret: string): Promise<CredentialTestResult> {
	return await new KeycrateSyncTrigger().methods.credentialTest.keycrateSyncTriggerApiTest.call(
		new CredentialTestContext() as unknown as ICredentialTestFunctions,
		{
			id: '1',
			name: 'Keycrate Sync Trigger account',
			type: SYNC_TRIGGER_CREDENTIAL_TYPE,
			data: { signingSecret },
		},
	);
}
