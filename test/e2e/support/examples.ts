/**
 * The example workflows in examples/*.json, as a user imports them, and what it takes to run one with
 * `n8n execute` against the emulator: its credentials pointed at the emulator (and at the SMTP sink for
 * Send Email), and a start `n8n execute` can run from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KEYCRATE_TRIGGER_NODE_TYPE, KEYCRATE_SYNC_TRIGGER_NODE_TYPE, KEYCRATE_WORKER_NODE_TYPE, type CredentialRef, type WorkflowNodeJson } from './workflows';

/** examples/ of this repository (KEYCRATE_E2E_EXAMPLES_DIR points elsewhere, to try a workflow out). */
export const EXAMPLES_DIR = process.env.KEYCRATE_E2E_EXAMPLES_DIR ?? resolve(__dirname, '../../../examples');

export interface ExampleWorkflow {
	id?: string;
	name: string;
	nodes: WorkflowNodeJson[];
	connections: Record<string, Record<string, Array<Array<{ node: string; type: string; index: number }> | null>>>;
	[field: string]: unknown;
}

/** examples/*.json, sorted. */
export function exampleFiles(): string[] {
	try {
		return readdirSync(EXAMPLES_DIR)
			.filter((file) => file.endsWith('.json'))
			.sort();
	} catch {
		return [];
	}
}

export function readExample(file: string): ExampleWorkflow {
	const workflow = JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as ExampleWorkflow;
	if (typeof workflow.name !== 'string' || !Array.isArray(workflow.nodes) || typeof workflow.connections !== 'object') {
		throw new Error(`examples/${file} is not an n8n workflow (needs name, nodes, connections)`);
	}
	return workflow;
}

const STICKY_NOTE = 'n8n-nodes-base.stickyNote';
const MANUAL_TRIGGER = 'n8n-nodes-base.manualTrigger';
/** Starts `n8n execute` can run from; a Schedule Trigger (one item, nothing a workflow reads) is swapped for a Manual Trigger. */
const EXECUTABLE_STARTS = new Set([MANUAL_TRIGGER, 'n8n-nodes-base.scheduleTrigger']);
/** Starts that need an active workflow in a running n8n: a webhook, or a polling trigger (polled once at activation). */
const ACTIVATED_STARTS = new Set(['n8n-nodes-base.webhook', KEYCRATE_TRIGGER_NODE_TYPE, KEYCRATE_SYNC_TRIGGER_NODE_TYPE]);

/** Nodes nothing connects into (sticky notes aside): where the workflow starts. */
export function startNodes(workflow: ExampleWorkflow): WorkflowNodeJson[] {
	const targets = new Set(
		Object.values(workflow.connections).flatMap((outputs) =>
			Object.values(outputs).flatMap((branches) => branches.flatMap((branch) => (branch ?? []).map((connection) => connection.node))),
		),
	);
	return workflow.nodes.filter((node) => node.type !== STICKY_NOTE && !targets.has(node.name));
}

export function needsStripe(workflow: ExampleWorkflow): boolean {
	return workflow.nodes.some((node) => /stripe/i.test(node.type) || Object.keys(node.credentials ?? {}).some((type) => /stripe/i.test(type)));
}

/** n8n type → the type versions this n8n's bundled node packages declare. */
export type KnownNodeTypes = Map<string, Set<number>>;

/** Reads n8n-nodes-base's and the LangChain package's type lists from the runtime (what `n8n execute` loads). */
export function bundledNodeTypes(n8nBin: string): KnownNodeTypes {
	const nodeModules = dirname(dirname(dirname(n8nBin)));
	const known: KnownNodeTypes = new Map();
	for (const packageName of ['n8n-nodes-base', '@n8n/n8n-nodes-langchain']) {
		let types: Array<{ name: string; version: number | number[] }>;
		try {
			types = JSON.parse(readFileSync(join(nodeModules, packageName, 'dist', 'types', 'nodes.json'), 'utf8'));
		} catch {
			continue;
		}
		for (const { name, version } of types) {
			const type = `${packageName}.${name}`;
			const versions = known.get(type) ?? new Set<number>();
			for (const value of Array.isArray(version) ? version : [version]) versions.add(value);
			known.set(type, versions);
		}
	}
	return known;
}

/** "node: type@version" for every node whose type or version the known types lack. */
export function unknownNodeTypes(workflow: ExampleWorkflow, known: KnownNodeTypes): string[] {
	return workflow.nodes.filter((node) => !known.get(node.type)?.has(node.typeVersion)).map((node) => `${node.name}: ${node.type}@${node.typeVersion}`);
}

export interface ExampleSetup {
	/** Node type → the credentials its nodes get (an example leaves them to the user). */
	credentialsByNodeType: Record<string, Record<string, CredentialRef>>;
	/** `REPLACE_WITH_…` placeholder → the value a user would put there. */
	placeholders: Record<string, string>;
	/** The tier an empty subscription-tier locator or tier ID gets (a user picks one from the list or pastes its UUID). */
	subscriptionId: string;
	/** The app an empty App ID of a Keycrate Worker node gets (it has no credential default; the Keycrate node's stays empty). */
	appId: string;
}

export type RunMode = 'execute' | 'activate';
export type RunPlan = { runnable: true; mode: RunMode; workflow: ExampleWorkflow } | { runnable: false; reason: string };

/** Copies `value`, replacing placeholders and empty tier locators; records unknown placeholders. */
function fillIn(value: unknown, key: string, setup: ExampleSetup, unknown: Set<string>): unknown {
	if (value === '' && key === 'subscriptionId') return setup.subscriptionId;
	if (value === '' && key === 'appId' && setup.appId) return setup.appId;
	if (typeof value === 'string') {
		return value.replace(/REPLACE_WITH_[A-Z0-9_]+/g, (placeholder) => {
			if (placeholder in setup.placeholders) return setup.placeholders[placeholder];
			unknown.add(placeholder);
			return placeholder;
		});
	}
	if (Array.isArray(value)) return value.map((entry) => fillIn(entry, key, setup, unknown));
	if (value && typeof value === 'object') {
		const record = value as Record<string, unknown>;
		if (record.__rl === true && record.value === '' && key === 'subscriptionId') return { __rl: true, mode: 'id', value: setup.subscriptionId };
		return Object.fromEntries(Object.entries(record).map(([name, entry]) => [name, fillIn(entry, name, setup, unknown)]));
	}
	return value;
}

/**
 * The example as a user makes it run after importing it (credentials chosen, placeholders and the tier
 * filled in), with the id it is imported under, and how it runs: `execute` (Manual or Schedule Trigger,
 * the latter swapped for a Manual Trigger) or `activate` (a webhook or polling trigger in `n8n start`).
 * Not runnable: it needs Stripe, or something the suite has no stand-in for.
 */
export function runPlan(workflow: ExampleWorkflow, id: string, setup: ExampleSetup): RunPlan {
	if (needsStripe(workflow)) return { runnable: false, reason: 'needs Stripe' };
	const starts = startNodes(workflow);
	const mode: RunMode = starts.every((node) => EXECUTABLE_STARTS.has(node.type)) ? 'execute' : 'activate';
	const unrunnable = starts.find((node) => !EXECUTABLE_STARTS.has(node.type) && !ACTIVATED_STARTS.has(node.type));
	if (unrunnable) return { runnable: false, reason: `starts at ${unrunnable.type} ("${unrunnable.name}"), which the suite cannot trigger` };
	const foreign = workflow.nodes.flatMap((node) => Object.keys(node.credentials ?? {}).filter((type) => !setup.credentialsByNodeType[node.type]?.[type]));
	if (foreign.length > 0) return { runnable: false, reason: `needs credentials the suite has no stand-in for: ${[...new Set(foreign)].join(', ')}` };
	const unknown = new Set<string>();
	const nodes = workflow.nodes.map((node) => {
		const nodeSetup = node.type === KEYCRATE_WORKER_NODE_TYPE ? setup : { ...setup, appId: '' };
		const copy: WorkflowNodeJson = { ...node, parameters: fillIn(node.parameters, '', nodeSetup, unknown) as Record<string, unknown> };
		const credentials = setup.credentialsByNodeType[node.type];
		if (credentials) copy.credentials = credentials;
		if (mode === 'execute' && starts.includes(node)) Object.assign(copy, { type: MANUAL_TRIGGER, typeVersion: 1, parameters: {} });
		return copy;
	});
	if (unknown.size > 0) return { runnable: false, reason: `placeholders the suite cannot fill: ${[...unknown].join(', ')}` };
	return { runnable: true, mode, workflow: { ...workflow, id, nodes } };
}
