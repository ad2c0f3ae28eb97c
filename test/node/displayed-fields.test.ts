import type { INodeParameters, INodeProperties } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { commonPollingParameters } from 'n8n-core/dist/nodes-loader/constants';

import { KeycrateTrigger } from '../../nodes/Keycrate/KeycrateTrigger.node';
import { hwidLockField } from '../../nodes/Keycrate/actions/hwid/settings';
import { KeycrateWorker } from '../../nodes/KeycrateWorker/KeycrateWorker.node';
import { describeOperations } from './describe-operations';
import { useEmulator } from './fixtures';
import { runKeycrateWorker } from './harness';
import { startWorkerStub, type WorkerStub } from './worker-stub';

/**
 * "Optional fields that do nothing for an operation are not shown" (n8n's UX guideline): every field the
 * node shows for an operation (n8n's displayOptions, as describe-operations.ts reads them) is either sent
 * in that operation's request, set to a sample value, or is one of the few that act in the node itself.
 */
const keycrate = useEmulator();

const SUBSCRIPTION_ID = '7d5b3c1e-2a4f-4b6d-9e8f-0a1b2c3d4e5f';

/** A value for each parameter other than its default, so that a field which is sent shows in the body. */
const SAMPLES: Record<string, unknown> = {
	appId: '',
	licenseKey: 'KC-SAMPLE-1',
	licenseKeys: 'KC-SAMPLE-1, KC-SAMPLE-2',
	keyAmount: 2,
	durationUnit: 'hours',
	durationValue: 5,
	extendBy: 3,
	extendUnit: 'weeks',
	status: 'paused',
	metadata: '{"plan":"pro"}',
	hwid: 'HW-SAMPLE',
	hwidLock: true,
	resetAllowed: false,
	resetInterval: 48,
	subscriptionAction: 'move',
	subscriptionId: { mode: 'id', value: SUBSCRIPTION_ID },
	name: 'Pro',
	level: 3,
	simplify: false,
	returnAll: false,
	limit: 7,
	'additionalFields.hwid': 'HW-SAMPLE',
	'additionalFields.hwidLock': true,
	'additionalFields.keyPattern': 'KC-****-****',
	'additionalFields.metadata': '{"plan":"pro"}',
	'additionalFields.password': 'sample-password',
	'additionalFields.username': 'sample-user',
	'additionalFields.subscriptionId': { mode: 'id', value: SUBSCRIPTION_ID },
	'additionalFields.tags': 'vip, beta',
	'additionalFields.asReset': true,
	'additionalFields.singleKeyPerHwid': true,
	'updateFields.name': 'Pro',
	'updateFields.level': 3,
	'updateFields.singleKeyPerHwid': true,
	'filters.status': 'paused',
	'filters.subscriptionId': { mode: 'id', value: SUBSCRIPTION_ID },
	'filters.tag': 'vip',
	'sort.field': 'expires_at',
	'sort.order': 'asc',
	'options.batchSize': 50,
	'options.pageSize': 25,
};

/** The request body field a parameter is sent as, where its name does not say it (camelCase → snake_case otherwise). */
const BODY_FIELD: Record<string, string> = {
	// Extend By and its Unit are sent together, in seconds.
	extendBy: 'extend_seconds',
	extendUnit: 'extend_seconds',
	limit: 'per_page',
	'options.pageSize': 'per_page',
	'sort.field': 'sort_field',
	'sort.order': 'sort_order',
	// Move to Tier sends the tier, Detach From Tier sends null.
	subscriptionAction: 'subscription_id',
};

/** The fields that act in the node, not in the request, and what they do. */
const IN_THE_NODE: Record<string, string> = {
	simplify: 'shapes the output items',
	returnAll: 'pages until the end',
	'options.batchSize': 'splits the license keys into calls',
};

/** Operations whose App ID is not sent: it only lists the tiers of that app for the Subscription Tier picker. */
const APP_ID_FOR_THE_PICKER = ['license.updateSubscription', 'subscription.update', 'subscription.delete'];

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function parametersFor(resource: string, operation: string, names: string[]): INodeParameters {
	const parameters: INodeParameters = { resource, operation };
	for (const name of names) {
		if (!(name in SAMPLES)) throw new Error(`${resource}.${operation}: no sample value for ${name}: add one to SAMPLES`);
		const [collection, member] = name.split('.');
		if (member === undefined) parameters[name] = SAMPLES[name] as INodeParameters[string];
		else parameters[collection] = { ...((parameters[collection] as INodeParameters | undefined) ?? {}), [member]: SAMPLES[name] as INodeParameters[string] };
	}
	// The API rejects some combinations; the first request is all this test reads.
	return parameters;
}

const operations = Object.entries(describeOperations()).flatMap(([resource, byOperation]) =>
	Object.entries(byOperation).map(([operation, described]) => ({ name: `${resource}.${operation}`, resource, operation, described })),
);

describe('every field shown for an operation is sent by its request, or acts in the node', () => {
	it.each(operations)('$name', async ({ name, resource, operation, described }) => {
		const shown = [...described.required, ...described.optional];
		const result = await keycrate.run(parametersFor(resource, operation, shown), { continueOnFail: true });
		expect(result.requests.length).toBeGreaterThan(0);
		const body = result.requests[0].body as Record<string, unknown>;
		if (APP_ID_FOR_THE_PICKER.includes(name)) expect({ [name]: 'app_id' in body }).toEqual({ [name]: false });
		const ignored = shown.filter((parameter) => {
			if (parameter in IN_THE_NODE) return false;
			if (parameter === 'appId' && APP_ID_FOR_THE_PICKER.includes(name)) return false;
			const leaf = parameter.split('.').pop()!;
			const field = BODY_FIELD[parameter] ?? BODY_FIELD[leaf] ?? snake(leaf);
			return !(field in body);
		});
		expect({ operation: name, endpoint: result.requests[0].path, shownButNotSent: ignored }).toEqual({
			operation: name,
			endpoint: described.endpoint,
			shownButNotSent: [],
		});
	});

	it('each field said to act in the node is shown for some operation (the list does not go stale)', () => {
		const shownAnywhere = new Set(operations.flatMap(({ described }) => [...described.required, ...described.optional]));
		for (const parameter of Object.keys(IN_THE_NODE)) expect(shownAnywhere.has(parameter)).toBe(true);
	});
});

describe('Keycrate Worker → Bulk Job → Start: every field shown for a job kind is sent in its request', () => {
	let stub: WorkerStub;
	beforeAll(async () => (stub = await startWorkerStub()));
	afterAll(async () => await stub.stop());
	beforeEach(() => stub.reset());

	const description = new KeycrateWorker().description;
	const WORKER_SAMPLES: Record<string, unknown> = {
		appId: '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11',
		count: 12,
		durationUnit: 'hours',
		durationValue: 5,
		licenseKeys: 'KC-SAMPLE-1, KC-SAMPLE-2',
		subscriptionId: SUBSCRIPTION_ID,
		hwidLock: true,
		format: 'jsonl',
		'filter.status': 'paused',
		'filter.subscriptionId': SUBSCRIPTION_ID,
		'filter.tag': 'vip',
		'additionalFields.hwidLock': true,
		'additionalFields.keyPattern': 'KC-****',
		'additionalFields.metadata': '{"plan":"pro"}',
		'additionalFields.subscriptionId': SUBSCRIPTION_ID,
		'additionalFields.tags': 'vip',
		'options.dryRun': true,
		'options.notifyUrl': 'https://example.com/webhook/jobs',
	};
	/** Where each field is in the job request; the mode selectors choose which fields are there. */
	const WORKER_BODY_FIELD: Record<string, string> = {
		'filter.status': 'filter.status',
		'filter.subscriptionId': 'filter.subscription_id',
		'filter.tag': 'filter.tag',
	};
	const SELECTORS: Record<string, string> = {
		resource: 'the resource',
		operation: 'the operation',
		kind: 'sent as kind',
		selectBy: 'chooses license_keys, filter or neither',
		simplify: 'shapes the output item',
	};
	const kinds = (description.properties.find((p) => p.name === 'kind')?.options ?? []).map((o) => ('value' in o ? String(o.value) : ''));
	const cases = kinds.flatMap((kind) =>
		['create'].includes(kind) ? [{ kind, selectBy: 'filter' }] : ['filter', 'licenseKeys', 'all'].map((selectBy) => ({ kind, selectBy })),
	);

	it.each(cases)('$kind, selected by $selectBy', async ({ kind, selectBy }) => {
		const parameters: INodeParameters = { resource: 'bulkJob', operation: 'start', kind, selectBy, durationUnit: 'hours' };
		const shown: string[] = [];
		for (const property of description.properties as INodeProperties[]) {
			if (!NodeHelpers.displayParameter(parameters, property, null, description, parameters)) continue;
			if (property.type === 'collection') {
				const members: INodeParameters = {};
				for (const member of (property.options ?? []) as INodeProperties[]) {
					shown.push(`${property.name}.${member.name}`);
					members[member.name] = WORKER_SAMPLES[`${property.name}.${member.name}`] as INodeParameters[string];
				}
				parameters[property.name] = members;
			} else {
				shown.push(property.name);
				if (!(property.name in parameters) && property.name in WORKER_SAMPLES)
					parameters[property.name] = WORKER_SAMPLES[property.name] as INodeParameters[string];
			}
		}
		await runKeycrateWorker({ credentials: { workerUrl: stub.url, adminToken: stub.token }, parameters, continueOnFail: true });
		expect(stub.received.length).toBeGreaterThan(0);
		const body = stub.received[0].body as Record<string, unknown>;
		const notSent = shown.filter((name) => {
			if (name in SELECTORS) return false;
			const leaf = name.split('.').pop()!;
			const path = WORKER_BODY_FIELD[name] ?? snake(leaf);
			return path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], body) === undefined;
		});
		expect({ kind, selectBy, shownButNotSent: notSent }).toEqual({ kind, selectBy, shownButNotSent: [] });
	});
});

describe('defaults a user expects', () => {
	it('the trigger polls every minute unless told otherwise: it declares no Poll Times, so n8n adds its own (default: every minute)', () => {
		const { description } = new KeycrateTrigger();
		expect(description.polling).toBe(true);
		expect(description.properties.map((property) => property.name)).not.toContain('pollTimes');
		expect(commonPollingParameters).toEqual([expect.objectContaining({ name: 'pollTimes', default: { item: [{ mode: 'everyMinute' }] } })]);
	});

	it('Set Lock and Set Lock Many leave the HWID unlocked unless the user turns the lock on', () => {
		expect(hwidLockField).toMatchObject({ type: 'boolean', default: false });
		for (const operation of ['setLock', 'setLockBulk']) expect(describeOperations().hwid[operation].parameters.hwidLock.default).toBe(false);
		expect(describeOperations().license.create.parameters['additionalFields.hwidLock'].default).toBe(false);
		expect(describeOperations().license.createBulk.parameters['additionalFields.hwidLock'].default).toBe(false);
	});
});
