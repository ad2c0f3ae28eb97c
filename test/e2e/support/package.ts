/**
 * Reads the node and credential descriptions from the PACKED package, loaded with the n8n runtime's own
 * Node and n8n-workflow: what the installed n8n sees, not what the repo's sources say.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { E2eEnvironment } from './n8n';
import { PACKAGE_NAME } from './community-package';
import type { WorkflowNodeJson } from './workflows';

export interface PackedOperation {
	resource: string;
	operation: string;
	/** The operation's option name and action text, as the editor lists them. */
	name: string;
	action?: string;
}

export interface PackedPackage {
	nodes: Array<{
		name: string;
		displayName: string;
		description: string;
		group: string[];
		version: number | number[];
		usableAsTool: boolean;
		operations: PackedOperation[];
		/** "resource.operation" → parameter name → option names when it is a collection, else null. */
		parameters: Record<string, Record<string, string[] | null>>;
		/** Every parameter name the node declares (for nodes without resources, such as the trigger). */
		propertyNames: string[];
	}>;
	credentials: Array<{ name: string; properties: string[] }>;
}

// Runs in the child: loads each file listed under package.json "n8n" and reports its description.
const DESCRIBE_SCRIPT = `
const path = require('path');
const dir = process.argv[1];
const manifest = require(path.join(dir, 'package.json')).n8n;
const load = (file) => Object.values(require(path.join(dir, file))).map((Type) => new Type());
const nodes = manifest.nodes.flatMap(load).map((node) => {
  const d = node.description;
  const operations = d.properties
    .filter((p) => p.name === 'operation')
    .flatMap((p) => (p.displayOptions.show.resource || []).flatMap((resource) =>
      p.options.map((o) => ({ resource, operation: o.value, name: o.name, action: o.action }))));
  const shownFor = (p, resource, operation) => {
    const show = (p.displayOptions && p.displayOptions.show) || {};
    return (!show.resource || show.resource.includes(resource)) && (!show.operation || show.operation.includes(operation));
  };
  const parameters = {};
  // n8n adds "Custom API Call" (operation __CUSTOM_API_CALL__) to every resource; its fields are the node's.
  const resources = [...new Set(operations.map((o) => o.resource))];
  const custom = resources.map((resource) => ({ resource, operation: '__CUSTOM_API_CALL__' }));
  for (const { resource, operation } of [...operations, ...custom]) {
    const visible = {};
    for (const p of d.properties) {
      if (p.name === 'resource' || p.name === 'operation' || !shownFor(p, resource, operation)) continue;
      visible[p.name] = p.type === 'collection' ? p.options.map((o) => o.name) : null;
    }
    parameters[resource + '.' + operation] = visible;
  }
  const propertyNames = [...new Set(d.properties.map((p) => p.name))];
  // n8n gives every polling node a Poll Times parameter of its own.
  if (d.polling) propertyNames.push('pollTimes');
  return { name: d.name, displayName: d.displayName, description: d.description, group: d.group, version: d.version, usableAsTool: d.usableAsTool === true, operations, parameters, propertyNames };
});
const credentials = manifest.credentials.flatMap(load).map((c) => ({ name: c.name, properties: c.properties.map((p) => p.name) }));
process.stdout.write(JSON.stringify({ nodes, credentials }));
`;

/** Describes the package installed in `packageDir` (a user folder's community-package folder). */
export async function describePackedPackage(e2e: E2eEnvironment, packageDir: string): Promise<PackedPackage> {
	// n8n-workflow is resolved from n8n's node_modules, as n8n itself arranges through NODE_PATH.
	const runtimeNodeModules = dirname(dirname(dirname(e2e.n8nBin)));
	const { stdout } = await promisify(execFile)(e2e.node, ['-e', DESCRIBE_SCRIPT, packageDir], {
		env: { PATH: process.env.PATH, NODE_PATH: runtimeNodeModules },
	});
	return JSON.parse(stdout) as PackedPackage;
}

export function packedManifest(packageDir: string): { dependencies?: Record<string, string>; files?: string[] } {
	return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
}

/**
 * Parameters set on this package's nodes that the packed node does not declare (for the action node: for
 * that resource and operation, options of collections included). n8n would silently ignore them, so a
 * renamed parameter would otherwise go unnoticed.
 */
export function undeclaredParameters(nodes: Array<Pick<WorkflowNodeJson, 'name' | 'type' | 'parameters'>>, packed: PackedPackage): string[] {
	const undeclared: string[] = [];
	for (const node of nodes) {
		const described = packed.nodes.find((candidate) => `${PACKAGE_NAME}.${candidate.name}` === node.type);
		if (!described) continue;
		if (described.operations.length === 0) {
			for (const name of Object.keys(node.parameters)) if (!described.propertyNames.includes(name)) undeclared.push(`${node.name}: ${name}`);
			continue;
		}
		const { resource, operation, ...parameters } = node.parameters;
		const known = described.parameters[`${String(resource)}.${String(operation)}`];
		if (!known) {
			undeclared.push(`${node.name}: operation ${String(resource)}.${String(operation)}`);
			continue;
		}
		for (const [name, value] of Object.entries(parameters)) {
			if (!(name in known)) undeclared.push(`${node.name}: ${name}`);
			const options = known[name];
			if (options && value && typeof value === 'object') {
				for (const option of Object.keys(value)) if (!options.includes(option)) undeclared.push(`${node.name}: ${name}.${option}`);
			}
		}
	}
	return undeclared;
}
