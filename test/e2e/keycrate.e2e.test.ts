/**
 * The Keycrate node inside a real n8n (one of test/e2e/n8n-runtimes, installed by test/e2e/run.sh): the packed
 * package is installed into the user folder's community-package folder and loaded as
 * `n8n-nodes-keycrate.keycrate`, a credential and workflows are imported with n8n's CLI, and `n8n execute`
 * runs them against the emulator. Each test checks what the nodes output AND what the emulator now holds.
 */
import { contractPaths } from '@keycrate/emulator';
import { EmulatorUnderTest, type License } from './support/emulator';
import { ExecutionFailed, N8nInstance, e2eEnvironment, type ExecutionResult, type E2eEnvironment } from './support/n8n';
import { describePackedPackage, packedManifest, undeclaredParameters, type PackedPackage } from './support/package';
import { KEYCRATE_CREDENTIAL_TYPE, KEYCRATE_NODE_TYPE } from './support/workflows';
import { waitFor } from '../../worker/test/support/wait';
import { BULK, EXTEND_2500, LIFECYCLE, MAIN_CREDENTIAL, RETURN_ALL, WORKFLOW_IDS, WRONG_KEY_CREDENTIAL, buildWorkflows } from './scenarios';

/** The node's 23 operations over Keycrate's 22 endpoints (HWID Set and Clear share /hwid/edit): resource → operation values, exactly. */
const EXPECTED_OPERATIONS: Record<string, string[]> = {
	license: [
		'create',
		'createBulk',
		'extend',
		'extendBulk',
		'delete',
		'deleteBulk',
		'get',
		'getMany',
		'updateStatus',
		'updateStatusBulk',
		'updateSubscription',
		'updateUserCredentials',
		'updateMetadata',
	],
	hwid: ['set', 'clear', 'setLock', 'setLockBulk', 'setResetAllowed', 'updateResetInterval'],
	subscription: ['create', 'update', 'delete', 'getMany'],
};
const OPERATION_COUNT = Object.values(EXPECTED_OPERATIONS).flat().length;

const WRONG_API_KEY = 'kc_e2e_wrong_key_0123456789';
const MAX_BATCH = 1000;
const MAX_PER_PAGE = 100;

/** For test names only (collected before beforeAll runs); e2eEnvironment() checks the real value. */
const ON_N8N = `on n8n ${process.env.KEYCRATE_E2E_N8N_VERSION ?? '(unset)'}`;

let e2e: E2eEnvironment;
let packed: PackedPackage;
let emulator: EmulatorUnderTest;
let n8n: N8nInstance;

const isoPlusSeconds = (iso: unknown, seconds: number): string => new Date(Date.parse(String(iso)) + seconds * 1000).toISOString();
const sameInstant = (a: unknown, b: unknown): boolean => Date.parse(String(a)) === Date.parse(String(b));

/** Runs a workflow and returns its result with how many calls each endpoint got during the run. */
async function executeCounting(workflowId: string): Promise<{ run: ExecutionResult; callsDuring: (endpoint: string) => number }> {
	const before = await emulator.calls();
	const run = await n8n.execute(workflowId);
	const after = await emulator.calls();
	const total = (counts: typeof before, endpoint: string) => Object.values(counts[endpoint] ?? {}).reduce((sum, n) => sum + n, 0);
	return { run, callsDuring: (endpoint) => total(after, endpoint) - total(before, endpoint) };
}

/** Every item of every Keycrate node points back at the input item it came from. */
function expectPairedItems(run: ExecutionResult): void {
	for (const node of run.executedNodes.filter((name) => name !== 'Start')) {
		for (const item of run.items(node)) expect(item.pairedItem).toBeDefined();
	}
}

beforeAll(async () => {
	e2e = e2eEnvironment();
	n8n = await N8nInstance.create(e2e, 'n8n-user');
	packed = await describePackedPackage(e2e, n8n.packageDir);
	emulator = await EmulatorUnderTest.start();
	await n8n.importCredentials([
		{
			...MAIN_CREDENTIAL,
			type: KEYCRATE_CREDENTIAL_TYPE,
			data: { apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId },
		},
		{ ...WRONG_KEY_CREDENTIAL, type: KEYCRATE_CREDENTIAL_TYPE, data: { apiKey: WRONG_API_KEY, baseUrl: emulator.url, appId: emulator.appId } },
	]);
	const keycrateNode = actionNode();
	const version = Array.isArray(keycrateNode.version) ? Math.max(...keycrateNode.version) : keycrateNode.version;
	await n8n.importWorkflows(buildWorkflows(version));
});

afterAll(async () => {
	await emulator?.stop();
});

const actionNode = () => {
	const node = packed.nodes.find((candidate) => candidate.name === 'keycrate');
	if (node === undefined) throw new Error('the packed package has no keycrate node');
	return node;
};

describe(`the packed package, installed as a community package ${ON_N8N}`, () => {
	test(`lists the ${OPERATION_COUNT} Keycrate operations (loaded with the runtime's Node and n8n-workflow)`, () => {
		// The action node, its polling trigger (License Created / Expiring Soon), the Keycrate Worker node
		// (keycrate-worker.e2e.test.ts) and the Keycrate Sync Trigger (keycrate-sync-trigger.e2e.test.ts).
		expect(packed.nodes.map((node) => node.name).sort()).toEqual(['keycrate', 'keycrateSyncTrigger', 'keycrateTrigger', 'keycrateWorker']);
		const listed = actionNode().operations;
		expect(listed).toHaveLength(OPERATION_COUNT);
		const byResource: Record<string, string[]> = {};
		for (const { resource, operation } of listed) (byResource[resource] ??= []).push(operation);
		for (const resource of Object.keys(EXPECTED_OPERATIONS)) {
			expect({ resource, operations: [...(byResource[resource] ?? [])].sort() }).toEqual({ resource, operations: [...EXPECTED_OPERATIONS[resource]].sort() });
		}
		expect(Object.keys(byResource).sort()).toEqual(Object.keys(EXPECTED_OPERATIONS).sort());
	});

	test('is usable as an AI tool, ships the keycrateApi, keycrateWorkerApi and keycrateSyncTriggerApi credentials and has no runtime dependencies', () => {
		expect(actionNode().usableAsTool).toBe(true);
		expect(packed.credentials).toEqual([
			{ name: 'keycrateApi', properties: expect.arrayContaining(['apiKey', 'baseUrl', 'appId']) },
			{ name: 'keycrateWorkerApi', properties: expect.arrayContaining(['workerUrl', 'adminToken']) },
			{ name: 'keycrateSyncTriggerApi', properties: ['signingSecret'] },
		]);
		expect(Object.keys(packedManifest(n8n.packageDir).dependencies ?? {})).toEqual([]);
	});
});

describe(`workflows run by \`n8n execute\` ${ON_N8N}`, () => {
	test('cover every operation the package lists, each in a workflow expected to succeed', () => {
		const errorPaths = new Set<string>([WORKFLOW_IDS.continueOnFail, WORKFLOW_IDS.wrongKey, WORKFLOW_IDS.rateLimitGivesUp]);
		const covered = new Set(
			buildWorkflows(1)
				.filter((workflow) => !errorPaths.has(workflow.id))
				.flatMap((workflow) => workflow.nodes)
				.filter((node) => node.type === KEYCRATE_NODE_TYPE)
				.map((node) => `${node.parameters.resource}.${node.parameters.operation}`),
		);
		const listed = actionNode().operations.map(({ resource, operation }) => `${resource}.${operation}`);
		expect(listed.filter((operation) => !covered.has(operation))).toEqual([]);
	});

	test('set only parameters the packed node declares for their operation (n8n would ignore others)', () => {
		expect(
			undeclaredParameters(
				buildWorkflows(1).flatMap((workflow) => workflow.nodes),
				packed,
			),
		).toEqual([]);
	});

	test('license lifecycle: every single-license, HWID and subscription-tier operation', async () => {
		const { run } = await executeCounting(WORKFLOW_IDS.lifecycle);
		expectPairedItems(run);

		const tierA = run.first('Create Tier A');
		const tierB = run.first('Create Tier B');
		expect(tierA).toMatchObject({ name: 'Basic', level: 1, app_id: emulator.appId });
		expect(tierB).toMatchObject({ name: 'Pro', level: 2 });

		const created = run.first('Create License');
		const key = String(created.license_key);
		expect(key).toMatch(/^E2E-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
		expect(created).toMatchObject({
			app_id: emulator.appId,
			subscription_id: tierA.subscription_id,
			status: 'active',
			duration_unit: 'days',
			duration_value: 30,
			tags: ['e2e', 'lifecycle'],
			metadata: { order: 42 },
		});
		expect(run.first('Get License')).toEqual(created);
		// Simplify (the default) keeps fewer fields, each as the full object has it.
		const simplified = run.first('Get Simplified');
		expect(Object.keys(simplified).length).toBeLessThan(Object.keys(created).length);
		expect(simplified).toEqual(Object.fromEntries(Object.keys(simplified).map((field) => [field, created[field]])));
		expect(simplified).toMatchObject({ license_key: key, status: 'active' });
		expect(sameInstant(run.first('Extend License').expires_at, isoPlusSeconds(created.expires_at, LIFECYCLE.extend.seconds))).toBe(true);
		expect(run.first('Pause License').status).toBe('paused');
		expect(run.first('Move License').subscription_id).toBe(tierB.subscription_id);
		expect(run.first('Set Login')).toMatchObject({ username: LIFECYCLE.username, has_password: true });
		expect(run.first('Set Login')).not.toHaveProperty('password');
		expect(run.first('Set Metadata').metadata).toEqual(LIFECYCLE.metadata);
		expect(run.first('Bind HWID').hwid).toBe(LIFECYCLE.hwid);
		expect(run.first('Lock HWID').hwid_lock).toBe(true);
		expect(run.first('Lock HWID Again').hwid_lock).toBe(true);
		expect(run.first('Allow HWID Reset').hwid_reset_allowed).toBe(true);
		expect(run.first('Set Reset Interval').hwid_reset_interval).toBe(LIFECYCLE.resetIntervalHours);

		const spareKey = run.first('Create Spare').license_key;
		// Custom API Call outputs Keycrate's reply as it came (here with its `data` wrapper).
		const customReply = run.first('Custom Get');
		expect(customReply.data ?? customReply).toEqual(run.first('Read Back'));
		expect(run.first('Create Spare')).toMatchObject({ duration_unit: 'lifetime', expires_at: null, subscription_id: tierA.subscription_id });
		expect(run.first('Bind Spare HWID').hwid).toBe(LIFECYCLE.spareHwid);
		expect(run.first('Clear Spare HWID').hwid ?? null).toBeNull();
		expect(run.first('Detach Spare').subscription_id ?? null).toBeNull();
		expect(run.first('Delete Spare')).toEqual({ license_key: spareKey, deleted: true });
		const doomedKey = run.first('Create Doomed').license_key;
		expect(run.first('Delete Tier A')).toEqual({ subscription_id: tierA.subscription_id, deleted: true, deleted_license_count: 1 });
		expect(run.first('Update Tier B')).toMatchObject({ subscription_id: tierB.subscription_id, name: LIFECYCLE.tierBName, level: LIFECYCLE.tierBLevel });
		expect(run.json('List Tiers').map((tier) => tier.subscription_id)).toEqual([tierB.subscription_id]);

		// The emulator holds what the workflow did.
		const expected: Partial<License> = {
			license_key: key,
			status: 'paused',
			subscription_id: String(tierB.subscription_id),
			username: LIFECYCLE.username,
			has_password: true,
			metadata: LIFECYCLE.metadata,
			tags: ['e2e', 'lifecycle'],
			hwid: LIFECYCLE.hwid,
			hwid_lock: true,
			hwid_reset_allowed: true,
			hwid_reset_interval: LIFECYCLE.resetIntervalHours,
		};
		const stored = await emulator.license(key);
		expect(stored).toMatchObject(expected);
		expect(run.first('Read Back')).toEqual(stored);
		expect(await emulator.license(String(spareKey))).toBeUndefined();
		expect(await emulator.license(String(doomedKey))).toBeUndefined();
		const { subscriptions } = await emulator.app();
		expect(subscriptions).toEqual([
			expect.objectContaining({ subscription_id: tierB.subscription_id, name: LIFECYCLE.tierBName, level: LIFECYCLE.tierBLevel, license_count: 1 }),
		]);
	});

	test('bulk operations act on every key, in batches of the configured size', async () => {
		const { run, callsDuring } = await executeCounting(WORKFLOW_IDS.bulk);
		expectPairedItems(run);
		const keys = run.json('Create Five').map((license) => String(license.license_key));
		expect(new Set(keys).size).toBe(BULK.amount);

		for (const node of ['Pause Five', 'Lock Five', 'Extend Five']) {
			const results = run.json(node);
			expect({ node, keys: results.map((result) => result.license_key), allSucceeded: results.every((result) => result.success === true) }).toEqual({
				node,
				keys,
				allSucceeded: true,
			});
		}
		// The first key was listed twice: one result (and one deletion) per distinct key.
		expect(run.json('Delete Two').map((result) => [result.license_key, result.success])).toEqual(keys.slice(0, BULK.deleteCount).map((key) => [key, true]));
		// 5 keys with Batch Size 2 → 3 calls; the other bulk steps use the default (1,000) → 1 call each.
		expect(callsDuring('/license/extend-bulk')).toBe(Math.ceil(BULK.amount / BULK.batchSize));
		expect(callsDuring('/license/update-status-bulk')).toBe(1);
		expect(callsDuring('/hwid/toggle-lock-bulk')).toBe(1);
		expect(callsDuring('/license/delete-bulk')).toBe(1);

		const createdByKey = new Map(run.json('Create Five').map((license) => [license.license_key, license]));
		for (const key of keys.slice(0, BULK.deleteCount)) expect(await emulator.license(key)).toBeUndefined();
		for (const key of keys.slice(BULK.deleteCount)) {
			const stored = await emulator.license(key);
			expect(stored).toMatchObject({ status: 'paused', hwid_lock: true, tags: [BULK.tag] });
			expect(sameInstant(stored?.expires_at, isoPlusSeconds(createdByKey.get(key)?.expires_at, BULK.extend.seconds))).toBe(true);
		}
	});

	test(`get many: Return All pages through ${RETURN_ALL.amount} licenses; Limit stops early`, async () => {
		const { run, callsDuring } = await executeCounting(WORKFLOW_IDS.returnAll);
		const created = run.json('Create Many').map((license) => String(license.license_key));
		expect(created).toHaveLength(RETURN_ALL.amount);
		expect(callsDuring('/license/create-bulk')).toBe(Math.ceil(RETURN_ALL.amount / MAX_BATCH));

		const listedAll = run.json('List All').map((license) => String(license.license_key));
		expect(listedAll).toHaveLength(RETURN_ALL.amount);
		expect(new Set(listedAll)).toEqual(new Set(created));
		expect(run.json('List Some')).toHaveLength(RETURN_ALL.limit);
		// Return All: every page of 100; Limit 150: two pages and not one more.
		const pagesForAll = Math.ceil(RETURN_ALL.amount / MAX_PER_PAGE);
		const pagesForLimit = Math.ceil(RETURN_ALL.limit / MAX_PER_PAGE);
		expect(callsDuring('/license/get-bulk')).toBe(pagesForAll + pagesForLimit);

		const stored = (await emulator.app()).licenses.filter((license) => license.tags.includes(RETURN_ALL.tag));
		expect(stored).toHaveLength(RETURN_ALL.amount);
	});

	test(`extend bulk: ${EXTEND_2500.amount} keys in ${Math.ceil(EXTEND_2500.amount / MAX_BATCH)} calls, every expiry moved`, async () => {
		const { run, callsDuring } = await executeCounting(WORKFLOW_IDS.extend2500);
		const created = run.json('Create 2500');
		expect(created).toHaveLength(EXTEND_2500.amount);
		expect(callsDuring('/license/create-bulk')).toBe(3);

		const results = run.json('Extend 2500');
		expect(results).toHaveLength(EXTEND_2500.amount);
		expect(results.filter((result) => result.success !== true)).toEqual([]);
		expect(callsDuring('/license/extend-bulk')).toBe(3);

		const storedByKey = new Map((await emulator.app()).licenses.map((license) => [license.license_key, license]));
		const notMoved = created.filter(
			(license) => !sameInstant(storedByKey.get(String(license.license_key))?.expires_at, isoPlusSeconds(license.expires_at, EXTEND_2500.extend.seconds)),
		);
		expect(notMoved).toEqual([]);
	});

	test('continue on fail: API and validation errors become items, no call for invalid input', async () => {
		const { run, callsDuring } = await executeCounting(WORKFLOW_IDS.continueOnFail);
		expectPairedItems(run);
		expect(run.first('Get Missing')).toMatchObject({ error_code: 'LICENSE_NOT_FOUND', error: expect.stringContaining('NO-SUCH-KEY-0000') });
		expect(callsDuring('/license/get')).toBe(1);
		expect(String(run.first('Extend Nothing').error)).toMatch(/License Keys is empty/);
		expect(callsDuring('/license/extend-bulk')).toBe(0);
		expect(String(run.first('Metadata Too Long').error)).toMatch(/2[,.]?000/);
		expect(callsDuring('/license/update-metadata')).toBe(0);
	});

	test('429 with Retry-After: the node waits, retries and gets the license', async () => {
		const get429Before = await emulator.callCount('/license/get', '429');
		const get200Before = await emulator.callCount('/license/get', '200');
		emulator.emulator.setFaults([{ endpoint: '/license/get', kind: 'error_429', retry_after_s: 1 }]);
		const running = n8n.execute(WORKFLOW_IDS.rateLimitRecovers);
		try {
			// Lift the rate limit once the node has been refused: its retry, a second later, goes through.
			await waitFor(async () => (await emulator.callCount('/license/get', '429')) > get429Before, {
				what: 'the node to be refused with a 429',
				timeoutMs: 120_000,
				intervalMs: 20,
			});
		} finally {
			emulator.emulator.setFaults([]);
		}
		const run = await running;
		expect(run.first('Get Despite 429')).toEqual(run.first('Create License'));
		expect((await emulator.callCount('/license/get', '429')) - get429Before).toBe(1);
		expect((await emulator.callCount('/license/get', '200')) - get200Before).toBe(1);
	});

	test('429 on every attempt: three retries, then a RATE_LIMITED error item', async () => {
		const get429Before = await emulator.callCount('/license/get', '429');
		// Retry-After 0 keeps the test fast; the node honours it instead of its 1 s, 4 s, 10 s backoff.
		emulator.emulator.setFaults([{ endpoint: '/license/get', kind: 'error_429', retry_after_s: 0 }]);
		const run = await n8n.execute(WORKFLOW_IDS.rateLimitGivesUp).finally(() => emulator.emulator.setFaults([]));
		expect(run.first('Get Rate Limited')).toMatchObject({ error_code: 'RATE_LIMITED' });
		expect((await emulator.callCount('/license/get', '429')) - get429Before).toBe(4);
	});

	test("a wrong API key fails the execution with Keycrate's error, and no key is logged", async () => {
		const failure = await n8n.execute(WORKFLOW_IDS.wrongKey).then(
			() => undefined,
			(error: unknown) => error,
		);
		expect(failure).toBeInstanceOf(ExecutionFailed);
		const { result } = failure as ExecutionFailed;
		expect(result.code).not.toBe(0);
		expect(`${result.stdout}\n${result.stderr}`).toContain('INVALID_API_KEY');
		expect(await emulator.callCount('/license/get', '401')).toBe(1);

		const everythingN8nPrinted = n8n.transcript();
		expect(everythingN8nPrinted).toContain(result.stdout);
		expect(everythingN8nPrinted).not.toContain(WRONG_API_KEY);
		expect(everythingN8nPrinted).not.toContain(emulator.apiKey);
	});

	// Last on purpose: sums up the runs above.
	test("every one of the contract's 22 endpoints answered 200 to n8n", async () => {
		const calls = await emulator.calls();
		expect(contractPaths).toHaveLength(22);
		expect(contractPaths.filter((path) => !(calls[path]?.['200'] > 0))).toEqual([]);
	});
});
