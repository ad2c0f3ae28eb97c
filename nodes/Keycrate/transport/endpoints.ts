import type { operations, paths } from '../../../openapi/keycrate';

/**
 * The one place that knows Keycrate's endpoints: contract operationId → path. Every endpoint is
 * POST with a JSON body (the contract has no other method), so the path is all a call needs.
 * The types below tie each entry to the generated contract: a wrong path or a body that the
 * contract would refuse does not compile.
 */
export const ENDPOINTS = {
	licenseCreate: '/license/create',
	licenseCreateBulk: '/license/create-bulk',
	licenseExtend: '/license/extend',
	licenseExtendBulk: '/license/extend-bulk',
	licenseDelete: '/license/delete',
	licenseDeleteBulk: '/license/delete-bulk',
	licenseGet: '/license/get',
	licenseGetBulk: '/license/get-bulk',
	licenseUpdateStatus: '/license/update-status',
	licenseUpdateStatusBulk: '/license/update-status-bulk',
	licenseUpdateSubscription: '/license/update-subscription',
	licenseUpdateUserCredentials: '/license/update-user-credentials',
	licenseUpdateMetadata: '/license/update-metadata',
	hwidEdit: '/hwid/edit',
	hwidToggleLock: '/hwid/toggle-lock',
	hwidToggleLockBulk: '/hwid/toggle-lock-bulk',
	hwidToggleResetAllowed: '/hwid/toggle-reset-allowed',
	hwidUpdateResetInterval: '/hwid/update-reset-interval',
	subscriptionCreate: '/subscription/create',
	subscriptionEdit: '/subscription/edit',
	subscriptionDelete: '/subscription/delete',
	subscriptionGetBulk: '/subscription/get-bulk',
} as const satisfies { [Op in keyof operations]: PathOf<Op> };

export type OperationId = keyof typeof ENDPOINTS;

/** The contract path whose POST is the given operation. */
type PathOf<Op extends keyof operations> = {
	[P in keyof paths]: paths[P]['post'] extends operations[Op] ? P : never;
}[keyof paths];

export type RequestBody<Op extends OperationId> = operations[Op]['requestBody']['content']['application/json'];

/**
 * Calls that change something relative to its current state (a new license, expiry + N seconds):
 * Keycrate has no idempotency key, so one that may have reached the server is never sent again.
 * Every other endpoint sets a value or reads, and may be re-sent.
 */
export const WRITE_ONCE: ReadonlySet<OperationId> = new Set<OperationId>(['licenseCreate', 'licenseCreateBulk', 'licenseExtend', 'licenseExtendBulk']);

/** The operation whose path this is (Custom API Call reuses the known endpoints' policies). */
export function operationOfPath(path: string): OperationId | undefined {
	return (Object.keys(ENDPOINTS) as OperationId[]).find((operation) => ENDPOINTS[operation] === path);
}
