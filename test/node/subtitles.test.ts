import { Expression, Workflow, type INodeParameters, type INodeTypeDescription } from 'n8n-workflow';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { KeycrateTrigger } from '../../nodes/Keycrate/KeycrateTrigger.node';
import { KeycrateWorker } from '../../nodes/KeycrateWorker/KeycrateWorker.node';

/** The canvas subtitle as n8n's editor shows it: the node's `subtitle` expression over its parameters. */
function subtitle(description: INodeTypeDescription, parameters: INodeParameters): unknown {
	const node = { id: '1', name: 'Node', type: description.name, typeVersion: 1, position: [0, 0] as [number, number], parameters };
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: { getByName: () => undefined, getByNameAndVersion: () => undefined, getKnownTypes: () => ({}) } as never,
	});
	return new Expression(workflow).getSimpleParameterValue(node, description.subtitle!, 'internal', {});
}

describe('canvas subtitles read as sentences', () => {
	const node = new Keycrate().description;
	it.each([
		[{ resource: 'license', operation: 'create' }, 'Create a license'],
		[{ resource: 'hwid', operation: 'setLock' }, 'Set the HWID lock of a license'],
		[{ resource: 'subscription', operation: 'getMany' }, 'Get many subscriptions'],
		[{ resource: '__CUSTOM_API_CALL__', operation: '__CUSTOM_API_CALL__' }, 'Custom API call'],
	])('Keycrate %j: %s', (parameters, expected) => expect(subtitle(node, parameters)).toBe(expected));

	it("every operation has one: its action (the subtitle is a literal, n8n's lint asks for that)", () => {
		for (const property of node.properties.filter((p) => p.name === 'operation')) {
			for (const option of property.options ?? []) {
				const parameters = { resource: (property.displayOptions!.show!.resource as string[])[0], operation: (option as { value: string }).value };
				const action = (option as { action?: string }).action ?? 'Custom API call';
				expect([parameters, subtitle(node, parameters)]).toEqual([parameters, action]);
			}
		}
	});

	it('Keycrate Worker: every operation has its action', () => {
		const worker = new KeycrateWorker().description;
		const operations = worker.properties.filter((p) => p.name === 'operation');
		expect(operations.flatMap((p) => p.options ?? [])).toHaveLength(7);
		for (const property of operations) {
			for (const option of property.options ?? []) {
				const parameters = { resource: (property.displayOptions!.show!.resource as string[])[0], operation: (option as { value: string }).value };
				expect([parameters, subtitle(worker, parameters)]).toEqual([parameters, (option as { action: string }).action]);
			}
		}
		expect(subtitle(worker, { resource: 'bulkJob', operation: 'start' })).toBe('Start a bulk job');
	});

	it('Keycrate Trigger', () => {
		const trigger = new KeycrateTrigger().description;
		expect(subtitle(trigger, { event: 'licenseCreated' })).toBe('When a license is created');
		expect(subtitle(trigger, { event: 'licenseExpiring', withinDays: 7 })).toBe('When a license comes within 7 days of expiry');
	});
});
