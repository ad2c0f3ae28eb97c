/**
 * Workflow JSON as n8n 1.123 and 2.35 import it: a Manual Trigger followed by a chain of Keycrate nodes.
 * Parameters are exactly what a user's saved workflow holds, so a renamed parameter breaks these tests.
 */
import { PACKAGE_NAME } from './community-package';

/** A community package's nodes are typed `<package name>.<node name>`, as in a user's saved workflows. */
export const KEYCRATE_NODE_TYPE = `${PACKAGE_NAME}.keycrate`;
export const KEYCRATE_TRIGGER_NODE_TYPE = `${PACKAGE_NAME}.keycrateTrigger`;
export const KEYCRATE_CREDENTIAL_TYPE = 'keycrateApi';
/** The second node, for the Keycrate Stripe worker's admin API (bulk jobs, resync, dead letters). */
export const KEYCRATE_WORKER_NODE_TYPE = `${PACKAGE_NAME}.keycrateWorker`;
export const KEYCRATE_WORKER_CREDENTIAL_TYPE = 'keycrateWorkerApi';
export const KEYCRATE_SYNC_TRIGGER_NODE_TYPE = `${PACKAGE_NAME}.keycrateSyncTrigger`;
export const KEYCRATE_SYNC_TRIGGER_CREDENTIAL_TYPE = 'keycrateSyncTriggerApi';
/** The Resource/Operation value of "Custom API Call", which n8n adds to nodes whose credential authenticates. */
export const CUSTOM_API_CALL = '__CUSTOM_API_CALL__';

export interface CredentialRef {
	id: string;
	name: string;
}

export interface WorkflowNodeJson {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, CredentialRef>;
	executeOnce?: boolean;
	/** A Webhook node's id in n8n's webhook registry. */
	webhookId?: string;
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
}

export interface WorkflowJson {
	id: string;
	name: string;
	active: false;
	nodes: WorkflowNodeJson[];
	connections: Record<string, { main: Array<Array<{ node: string; type: 'main'; index: number }>> }>;
	settings: Record<string, unknown>;
}

export interface KeycrateStep {
	name: string;
	resource: 'license' | 'hwid' | 'subscription';
	operation: string;
	parameters?: Record<string, unknown>;
	/**
	 * Run once with the first incoming item. Set on steps that follow a node emitting many items
	 * (bulk results, pages) and that should act once, e.g. a bulk call over all of them.
	 */
	executeOnce?: boolean;
	/** n8n's "On Error: Continue": the error becomes an output item. */
	continueOnFail?: boolean;
	credential?: CredentialRef;
}

export interface ChainOptions {
	id: string;
	name: string;
	credential: CredentialRef;
	nodeTypeVersion: number;
	steps: KeycrateStep[];
}

const TRIGGER_NAME = 'Start';

/** Manual Trigger → steps[0] → steps[1] → … */
export function keycrateChain({ id, name, credential, nodeTypeVersion, steps }: ChainOptions): WorkflowJson {
	if (!/^[A-Za-z0-9]{16}$/.test(id)) throw new Error(`workflow id "${id}" must be 16 letters or digits, as n8n generates them`);
	const nodes: WorkflowNodeJson[] = [
		{ id: `${id}-0`, name: TRIGGER_NAME, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
	];
	steps.forEach((step, index) => {
		nodes.push({
			id: `${id}-${index + 1}`,
			name: step.name,
			type: KEYCRATE_NODE_TYPE,
			typeVersion: nodeTypeVersion,
			position: [220 * (index + 1), 0],
			parameters: { resource: step.resource, operation: step.operation, ...step.parameters },
			credentials: { [KEYCRATE_CREDENTIAL_TYPE]: step.credential ?? credential },
			...(step.executeOnce ? { executeOnce: true } : {}),
			...(step.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		});
	});
	const connections: WorkflowJson['connections'] = {};
	for (let index = 1; index < nodes.length; index++) {
		connections[nodes[index - 1].name] = { main: [[{ node: nodes[index].name, type: 'main', index: 0 }]] };
	}
	return { id, name, active: false, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** `={{ … }}`: an n8n expression parameter. */
export const expr = (code: string): string => `={{ ${code} }}`;
