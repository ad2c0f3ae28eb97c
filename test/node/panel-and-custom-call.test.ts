import type { INodeProperties, INodeTypeDescription } from 'n8n-workflow';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { KeycrateTrigger } from '../../nodes/Keycrate/KeycrateTrigger.node';
import { useEmulator } from './fixtures';

const keycrate = useEmulator();

describe('the node panel entry', () => {
	const action = new Keycrate().description;
	const trigger = new KeycrateTrigger().description;

	/**
	 * n8n's node creator shows an action node and its "<name>Trigger" as one entry and gives that
	 * entry the trigger's description (editor-ui useActionsGeneration: "default to trigger description").
	 */
	function mergedEntry(nodes: INodeTypeDescription[]) {
		const app = nodes.find((node) => !node.group.includes('trigger'))!;
		const triggerNode = nodes.find((node) => node.group.includes('trigger'))!;
		const merges = triggerNode.name.replace('Trigger', '') === app.name;
		return { merges, description: merges ? triggerNode.description : app.description };
	}

	it('merges into one entry that says what the package does: actions and a trigger', () => {
		const entry = mergedEntry([action, trigger]);
		expect(entry.merges).toBe(true);
		expect(entry.description).toBe(action.description);
		expect(entry.description).toMatch(/^Create, extend, pause and delete Keycrate license keys/);
		expect(entry.description).toMatch(/Keycrate Trigger starts workflows on new or expiring licenses/);
		expect(entry.description).not.toMatch(/^Starts a workflow/);
	});

	it('has short action strings and the n8n vocabulary', () => {
		const operations = action.properties.filter((p) => p.name === 'operation');
		const options = operations.flatMap((p) => (p.options ?? []) as Array<{ name: string; action?: string }>);
		for (const option of options) {
			expect(option.action).toBeDefined();
			expect([option.name, option.action!.length <= 45]).toEqual([option.name, true]);
			expect(option.name).not.toMatch(/^(Edit|Toggle)/);
		}
		const names = options.map((o) => o.name);
		expect(names).toEqual(expect.arrayContaining(['Get Many', 'Update', 'Set Lock', 'Set Lock Many', 'Set Reset Allowed', 'Set', 'Clear']));
	});

	it('has e.g. placeholders and says what each setting sets', () => {
		const all: INodeProperties[] = [];
		const visit = (list: INodeProperties[]) => {
			for (const p of list) {
				all.push(p);
				if (p.type === 'collection') visit(p.options as INodeProperties[]);
			}
		};
		visit(action.properties);
		for (const p of all.filter((p) => p.placeholder && p.type === 'string'))
			expect([p.name, p.placeholder]).toEqual([p.name, expect.stringMatching(/^e\.g\. /)]);
		for (const name of ['hwidLock', 'resetAllowed']) {
			for (const p of all.filter((p) => p.name === name && p.required)) {
				expect(p.description).toMatch(/sets the value, does not flip it/);
				expect(p.hint).toMatch(/^Sets the .* to this value\. Running the step again changes nothing\.$/);
			}
		}
		expect(all.find((p) => p.name === 'keyAmount')?.displayName).toBe('Number of Licenses');
		expect(all.find((p) => p.name === 'resetInterval')?.displayName).toBe('Reset Interval (Hours)');
		expect(all.find((p) => p.name === 'extendBy')?.displayName).toBe('Extend By');
	});
});

describe('Custom API Call', () => {
	it('POSTs the path and body through the node transport (credential, errors)', async () => {
		const [created] = await keycrate.runOk({ resource: 'license', operation: 'create', durationUnit: 'days', durationValue: 1 });
		for (const selector of [{ resource: '__CUSTOM_API_CALL__' }, { resource: 'license', operation: '__CUSTOM_API_CALL__' }]) {
			const result = await keycrate.run({ ...selector, customPath: '/license/get', customBody: JSON.stringify({ license_key: created.license_key }) });
			expect(result.error).toBeUndefined();
			expect(result.items[0].json).toMatchObject({ data: { license_key: created.license_key } });
		}
		const missing = await keycrate.run({ resource: '__CUSTOM_API_CALL__', customPath: '/license/get', customBody: '{"license_key":"NOPE-1"}' });
		expect(missing.error?.message).toMatch(/\[LICENSE_NOT_FOUND\]$/);
	});

	it('keeps the write-once rule for create, extend and unknown paths', async () => {
		keycrate.emulator.setFaults([{ endpoint: '/license/create', kind: 'error_500', rate: 1 }]);
		const result = await keycrate.run({
			resource: '__CUSTOM_API_CALL__',
			customPath: '/license/create',
			customBody: JSON.stringify({ app_id: keycrate.emulator.appId, duration_unit: 'days', duration_value: 1 }),
		});
		expect(keycrate.callsTo('/license/create')).toBe(1);
		expect(result.error?.description).toMatch(/^Keycrate may have applied this call/);
	});
});
