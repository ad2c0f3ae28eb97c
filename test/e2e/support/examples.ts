/**
 * The example workflows in examples/*.json, as a user imports them, and what it takes to run one with
 * `n8n execute` against the emulator: its credentials pointed at the emulator (and at the SMTP sink for
 * Send Email), and a start `n8n execute` can run from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CredentialRef, WorkflowNodeJson } from './workflows';

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
/** Starts that emit one item and nothing a workflow reads: a Manual Trigger stands in for them under `n8n execute`. */
const REPLACEABLE_STARTS = new Set([MANUAL_TRIGGER, 'n8n-nodes-base.scheduleTrigger']);

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
  return workflow.nodes
    .filter((node) => !known.get(node.type)?.has(node.typeVersion))
    .map((node) => `${node.name}: ${node.type}@${node.typeVersion}`);
}

export interface RunCredentials {
  /** Credential type → the credential that replaces whatever the example names. */
  [credentialType: string]: CredentialRef;
}

export type RunPlan = { runnable: true; workflow: ExampleWorkflow } | { runnable: false; reason: string };

/**
 * The example as `n8n execute` can run it, or why it cannot: it must need no Stripe, use only credentials
 * we can give it, and start from a Manual Trigger (a Schedule Trigger is swapped for one, under its name).
 */
export function runnableCopy(workflow: ExampleWorkflow, id: string, credentials: RunCredentials): RunPlan {
  if (needsStripe(workflow)) return { runnable: false, reason: 'needs Stripe' };
  const starts = startNodes(workflow);
  const unrunnableStart = starts.find((node) => !REPLACEABLE_STARTS.has(node.type));
  if (unrunnableStart) {
    return { runnable: false, reason: `starts at ${unrunnableStart.type} ("${unrunnableStart.name}"); n8n execute starts only from a Manual Trigger` };
  }
  const missing = [...new Set(workflow.nodes.flatMap((node) => Object.keys(node.credentials ?? {})))].filter((type) => !(type in credentials));
  if (missing.length > 0) return { runnable: false, reason: `needs credentials the suite has no stand-in for: ${missing.join(', ')}` };
  const nodes = workflow.nodes.map((node) => {
    const copy: WorkflowNodeJson = { ...node };
    if (starts.includes(node)) Object.assign(copy, { type: MANUAL_TRIGGER, typeVersion: 1, parameters: {} });
    if (node.credentials) {
      copy.credentials = Object.fromEntries(Object.keys(node.credentials).map((type) => [type, credentials[type]]));
    }
    return copy;
  });
  return { runnable: true, workflow: { ...workflow, id, nodes } };
}
