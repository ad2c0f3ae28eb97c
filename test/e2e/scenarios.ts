/**
 * The workflows the e2e suite imports into n8n. Each is what a user could build in the editor:
 * Manual Trigger → Keycrate nodes, later nodes reading earlier ones through expressions.
 */
import { CUSTOM_API_CALL, expr, keycrateChain, type CredentialRef, type WorkflowJson } from './support/workflows';

export const MAIN_CREDENTIAL: CredentialRef = { id: 'kcE2eCredMain001', name: 'Keycrate (emulator)' };
export const WRONG_KEY_CREDENTIAL: CredentialRef = { id: 'kcE2eCredWrong01', name: 'Keycrate (wrong key)' };

export const WORKFLOW_IDS = {
	lifecycle: 'kcE2eLifecycle01',
	bulk: 'kcE2eBulkSmall01',
	returnAll: 'kcE2eReturnAll01',
	extend2500: 'kcE2eExtend25000',
	continueOnFail: 'kcE2eContOnFail1',
	wrongKey: 'kcE2eWrongKey001',
	rateLimitRecovers: 'kcE2eRateLimit01',
	rateLimitGivesUp: 'kcE2eRateLimit02',
} as const;

export const LIFECYCLE = {
	keyPattern: 'E2E-****-****',
	tags: 'e2e, lifecycle',
	metadata: { plan: 'pro', seats: 5 },
	extend: { by: 1, unit: 'days', seconds: 86_400 },
	spareHwid: 'HWID-E2E-SPARE',
	username: 'alice',
	password: 'correct-horse-battery',
	hwid: 'HWID-E2E-0001',
	resetIntervalHours: 48,
	tierBName: 'Pro Plus',
	tierBLevel: 5,
} as const;

export const BULK = { amount: 5, tag: 'bulk-small', extend: { by: 1, unit: 'hours', seconds: 3_600 }, batchSize: 2, deleteCount: 2 } as const;
export const RETURN_ALL = { amount: 1_050, tag: 'paging', limit: 150 } as const;
export const EXTEND_2500 = { amount: 2_500, tag: 'extend-2500', extend: { by: 1, unit: 'weeks', seconds: 604_800 } } as const;
export const METADATA_OVER_LIMIT = JSON.stringify({ note: 'x'.repeat(2_100) });

/** The first item's license key / subscription id of a node, as an n8n expression. */
const keyOf = (node: string) => expr(`$('${node}').first().json.license_key`);
const tierOf = (node: string) => expr(`$('${node}').first().json.subscription_id`);
/** A subscription tier chosen "By ID" in the tier's resource locator. */
const tierById = (node: string) => ({ __rl: true, mode: 'id', value: tierOf(node) });
/** Every license key a node emitted, as an array. */
const keysOf = (node: string) => expr(`$('${node}').all().map((item) => item.json.license_key)`);

export function buildWorkflows(nodeTypeVersion: number): WorkflowJson[] {
	const chain = (id: string, name: string, steps: Parameters<typeof keycrateChain>[0]['steps']) =>
		keycrateChain({ id, name, credential: MAIN_CREDENTIAL, nodeTypeVersion, steps });

	return [
		// Every single-license operation, HWID settings and the subscription tier operations, on one license.
		chain(WORKFLOW_IDS.lifecycle, 'E2E: license lifecycle', [
			{ name: 'Create Tier A', resource: 'subscription', operation: 'create', parameters: { name: 'Basic', level: 1 } },
			{ name: 'Create Tier B', resource: 'subscription', operation: 'create', parameters: { name: 'Pro', level: 2 } },
			{
				name: 'Create License',
				resource: 'license',
				operation: 'create',
				parameters: {
					durationUnit: 'days',
					durationValue: 30,
					// The full license object, to check every field Keycrate stored.
					simplify: false,
					additionalFields: {
						subscriptionId: tierById('Create Tier A'),
						keyPattern: LIFECYCLE.keyPattern,
						tags: LIFECYCLE.tags,
						metadata: JSON.stringify({ order: 42 }),
					},
				},
			},
			{ name: 'Get License', resource: 'license', operation: 'get', parameters: { licenseKey: keyOf('Create License'), simplify: false } },
			// Simplify is on by default.
			{ name: 'Get Simplified', resource: 'license', operation: 'get', parameters: { licenseKey: keyOf('Create License') } },
			{
				name: 'Extend License',
				resource: 'license',
				operation: 'extend',
				parameters: { licenseKey: keyOf('Create License'), extendBy: LIFECYCLE.extend.by, extendUnit: LIFECYCLE.extend.unit },
			},
			{ name: 'Pause License', resource: 'license', operation: 'updateStatus', parameters: { licenseKey: keyOf('Create License'), status: 'paused' } },
			{
				name: 'Move License',
				resource: 'license',
				operation: 'updateSubscription',
				parameters: { licenseKey: keyOf('Create License'), subscriptionAction: 'move', subscriptionId: tierById('Create Tier B') },
			},
			{
				name: 'Set Login',
				resource: 'license',
				operation: 'updateUserCredentials',
				parameters: { licenseKey: keyOf('Create License'), simplify: false, additionalFields: { username: LIFECYCLE.username, password: LIFECYCLE.password } },
			},
			{
				name: 'Set Metadata',
				resource: 'license',
				operation: 'updateMetadata',
				parameters: { licenseKey: keyOf('Create License'), metadata: JSON.stringify(LIFECYCLE.metadata), simplify: false },
			},
			{ name: 'Bind HWID', resource: 'hwid', operation: 'set', parameters: { licenseKey: keyOf('Create License'), hwid: LIFECYCLE.hwid } },
			{ name: 'Lock HWID', resource: 'hwid', operation: 'setLock', parameters: { licenseKey: keyOf('Create License'), hwidLock: true } },
			// Set, not toggle: a second run (a re-run, a retry) leaves the lock set.
			{ name: 'Lock HWID Again', resource: 'hwid', operation: 'setLock', parameters: { licenseKey: keyOf('Create License'), hwidLock: true } },
			{
				name: 'Allow HWID Reset',
				resource: 'hwid',
				operation: 'setResetAllowed',
				parameters: { licenseKey: keyOf('Create License'), resetAllowed: true, simplify: false },
			},
			{
				name: 'Set Reset Interval',
				resource: 'hwid',
				operation: 'updateResetInterval',
				parameters: { licenseKey: keyOf('Create License'), resetInterval: LIFECYCLE.resetIntervalHours, simplify: false },
			},
			{ name: 'Read Back', resource: 'license', operation: 'get', parameters: { licenseKey: keyOf('Create License'), simplify: false } },
			// "Custom API Call", which n8n itself offers on nodes whose credential authenticates.
			{
				name: 'Custom Get',
				resource: 'license',
				operation: CUSTOM_API_CALL,
				parameters: { customPath: '/license/get', customBody: expr(`JSON.stringify({ license_key: $('Create License').first().json.license_key })`) },
			},
			{
				name: 'Create Spare',
				resource: 'license',
				operation: 'create',
				parameters: { durationUnit: 'lifetime', simplify: false, additionalFields: { subscriptionId: tierById('Create Tier A') } },
			},
			{ name: 'Bind Spare HWID', resource: 'hwid', operation: 'set', parameters: { licenseKey: keyOf('Create Spare'), hwid: LIFECYCLE.spareHwid } },
			{ name: 'Clear Spare HWID', resource: 'hwid', operation: 'clear', parameters: { licenseKey: keyOf('Create Spare') } },
			{
				name: 'Detach Spare',
				resource: 'license',
				operation: 'updateSubscription',
				parameters: { licenseKey: keyOf('Create Spare'), subscriptionAction: 'detach' },
			},
			{ name: 'Delete Spare', resource: 'license', operation: 'delete', parameters: { licenseKey: keyOf('Create Spare') } },
			{
				name: 'Create Doomed',
				resource: 'license',
				operation: 'create',
				parameters: { durationUnit: 'hours', durationValue: 1, additionalFields: { subscriptionId: tierById('Create Tier A') } },
			},
			// Deleting a tier deletes its licenses: the doomed one goes with it.
			{ name: 'Delete Tier A', resource: 'subscription', operation: 'delete', parameters: { subscriptionId: tierById('Create Tier A') } },
			{
				name: 'Update Tier B',
				resource: 'subscription',
				operation: 'update',
				parameters: { subscriptionId: tierById('Create Tier B'), updateFields: { name: LIFECYCLE.tierBName, level: LIFECYCLE.tierBLevel } },
			},
			// App ID set on the node (the other steps fall back to the credential's default App ID).
			{
				name: 'List Tiers',
				resource: 'subscription',
				operation: 'getMany',
				parameters: { appId: expr(`$('Create Tier B').first().json.app_id`), returnAll: true },
			},
		]),

		// The list operations on a few keys, with a batch size small enough to force several calls.
		chain(WORKFLOW_IDS.bulk, 'E2E: bulk operations', [
			{
				name: 'Create Five',
				resource: 'license',
				operation: 'createBulk',
				parameters: { keyAmount: BULK.amount, durationUnit: 'days', durationValue: 7, additionalFields: { tags: BULK.tag } },
			},
			// Bulk steps act once on the whole list, not once per incoming item.
			{
				name: 'Pause Five',
				resource: 'license',
				operation: 'updateStatusBulk',
				executeOnce: true,
				parameters: { licenseKeys: keysOf('Create Five'), status: 'paused' },
			},
			{
				name: 'Lock Five',
				resource: 'hwid',
				operation: 'setLockBulk',
				executeOnce: true,
				parameters: { licenseKeys: keysOf('Create Five'), hwidLock: true },
			},
			{
				name: 'Extend Five',
				resource: 'license',
				operation: 'extendBulk',
				executeOnce: true,
				parameters: { licenseKeys: keysOf('Create Five'), extendBy: BULK.extend.by, extendUnit: BULK.extend.unit, options: { batchSize: BULK.batchSize } },
			},
			{
				name: 'Delete Two',
				resource: 'license',
				operation: 'deleteBulk',
				executeOnce: true,
				// A comma-separated string, as a user would type it, with the first key listed twice: sent once.
				parameters: {
					licenseKeys: expr(
						`[...$('Create Five').all().slice(0, ${BULK.deleteCount}), $('Create Five').first()].map((item) => item.json.license_key).join(', ')`,
					),
				},
			},
		]),

		// Return All across pages, and a Limit that stops early.
		chain(WORKFLOW_IDS.returnAll, 'E2E: get many, Return All over 1,000+ licenses', [
			{
				name: 'Create Many',
				resource: 'license',
				operation: 'createBulk',
				parameters: { keyAmount: RETURN_ALL.amount, durationUnit: 'days', durationValue: 30, additionalFields: { tags: RETURN_ALL.tag } },
			},
			{
				name: 'List All',
				resource: 'license',
				operation: 'getMany',
				executeOnce: true,
				parameters: { returnAll: true, filters: { tag: RETURN_ALL.tag } },
			},
			{
				name: 'List Some',
				resource: 'license',
				operation: 'getMany',
				executeOnce: true,
				parameters: { returnAll: false, limit: RETURN_ALL.limit, filters: { tag: RETURN_ALL.tag } },
			},
		]),

		chain(WORKFLOW_IDS.extend2500, 'E2E: extend 2,500 licenses', [
			{
				name: 'Create 2500',
				resource: 'license',
				operation: 'createBulk',
				parameters: { keyAmount: EXTEND_2500.amount, durationUnit: 'days', durationValue: 30, additionalFields: { tags: EXTEND_2500.tag } },
			},
			{
				name: 'Extend 2500',
				resource: 'license',
				operation: 'extendBulk',
				executeOnce: true,
				parameters: { licenseKeys: keysOf('Create 2500'), extendBy: EXTEND_2500.extend.by, extendUnit: EXTEND_2500.extend.unit },
			},
		]),

		// n8n's "On Error: Continue": API errors and validation errors become items, the workflow goes on.
		chain(WORKFLOW_IDS.continueOnFail, 'E2E: continue on fail', [
			{ name: 'Get Missing', resource: 'license', operation: 'get', continueOnFail: true, parameters: { licenseKey: 'NO-SUCH-KEY-0000' } },
			{
				name: 'Extend Nothing',
				resource: 'license',
				operation: 'extendBulk',
				continueOnFail: true,
				// An expression that yields no keys (an empty required field would stop n8n before the run).
				parameters: { licenseKeys: expr('[]'), extendBy: 1, extendUnit: 'minutes' },
			},
			{
				name: 'Metadata Too Long',
				resource: 'license',
				operation: 'updateMetadata',
				continueOnFail: true,
				parameters: { licenseKey: 'ANY-KEY-0000', metadata: METADATA_OVER_LIMIT },
			},
		]),

		// Run while the emulator answers /license/get with 429 (the test injects and clears the fault).
		chain(WORKFLOW_IDS.rateLimitRecovers, 'E2E: rate limited, then served', [
			{ name: 'Create License', resource: 'license', operation: 'create', parameters: { durationUnit: 'lifetime' } },
			{ name: 'Get Despite 429', resource: 'license', operation: 'get', parameters: { licenseKey: keyOf('Create License') } },
		]),
		chain(WORKFLOW_IDS.rateLimitGivesUp, 'E2E: rate limited for good', [
			{ name: 'Get Rate Limited', resource: 'license', operation: 'get', continueOnFail: true, parameters: { licenseKey: 'ANY-KEY-0000' } },
		]),

		keycrateChain({
			id: WORKFLOW_IDS.wrongKey,
			name: 'E2E: wrong API key',
			credential: WRONG_KEY_CREDENTIAL,
			nodeTypeVersion,
			steps: [{ name: 'Get With Wrong Key', resource: 'license', operation: 'get', parameters: { licenseKey: 'ANY-KEY-0000' } }],
		}),
	];
}
