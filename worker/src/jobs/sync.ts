// The sync job: Stripe's current state of a root → desired (pure) → the root's licenses on Keycrate, found by
// its tag → plan (pure) → execute → hand-off. Every sync of a root, however many and in whatever order, moves
// Keycrate toward the same state, because each step reads what is there now and acts only on a difference.

import type { Config } from '../config.js';
import type { Done, ExecuteContext, HandoffLicense, LicenseApi } from '../keycrate/execute.js';
import { execute, readRootLicenses } from '../keycrate/execute.js';
import { plan, type Action } from '../keycrate/plan.js';
import { PermanentError } from '../errors.js';
import type { Desired, FoundLicense, Linkage, RootId, SkipReason } from '../model.js';
import { desired } from '../stripe/desired.js';
import { fetchRoot, type StripeAccess } from '../stripe/fetch.js';

export interface SyncDeps {
	config: Pick<Config, 'keycrateAppId' | 'keycrateTimeoutMs' | 'plans' | 'graceSeconds' | 'pastDueStatus' | 'maxSeatsPerRoot' | 'licenseTag'>;
	stripe: StripeAccess;
	api: LicenseApi;
	/** Queues a sync of another root (a payment intent that paid a subscription invoice). */
	enqueueSync(root: RootId, cause: string): Promise<void>;
	/** Queues a license's hand-off; absent when LICENSE_WEBHOOK_URL is not set. */
	handoff?: (linkage: Linkage, license: HandoffLicense) => Promise<void>;
	recordSkipped(root: RootId, reason: SkipReason, detail: string): Promise<void>;
	/** Seconds; tests fix it. */
	now?: () => number;
	signal?: AbortSignal;
}

export type SyncOutcome =
	| { kind: 'synced'; root: RootId; planned: Action['type'][]; done: Done[]; warnings: string[] }
	| { kind: 'skipped'; root: RootId; reason: SkipReason; detail: string }
	| { kind: 'redirected'; root: RootId; to: RootId };

/** Every license of the root, read as a sync plans with them. */
async function licensesOf(deps: SyncDeps, root: RootId, appIds: Iterable<string>): Promise<FoundLicense[]> {
	return (await readRootLicenses(deps.api, root, appIds)).map((license) => license.found);
}

function executeContext(deps: SyncDeps, root: RootId, linkage?: Linkage): ExecuteContext {
	const handoff = deps.handoff;
	return {
		api: deps.api,
		root,
		settleMs: 2 * deps.config.keycrateTimeoutMs,
		...(handoff && linkage ? { handoff: (license: HandoffLicense) => handoff(linkage, license) } : {}),
		...(deps.signal ? { signal: deps.signal } : {}),
	};
}

/** Pauses every license the root holds in the default app (no create, no hand-off). */
async function pauseAll(deps: SyncDeps, root: RootId): Promise<void> {
	const licenses = await licensesOf(deps, root, [deps.config.keycrateAppId]);
	if (licenses.length === 0) return;
	const actions = plan({ root, rootKind: 'payment', seats: [], linkage: {}, licenses, licenseTag: deps.config.licenseTag, handoff: false, now: 0 });
	await execute(executeContext(deps, root), actions, licenses);
}

export async function syncRoot(deps: SyncDeps, root: RootId): Promise<SyncOutcome> {
	const state = await fetchRoot(deps.stripe, root);
	if (state.kind === 'redirect') {
		await deps.enqueueSync(state.to, `payment ${root} of ${state.to}`);
		return { kind: 'redirected', root, to: state.to };
	}
	if (state.kind === 'none') {
		await deps.recordSkipped(root, 'unknown_object', state.reason);
		return { kind: 'skipped', root, reason: 'unknown_object', detail: state.reason };
	}
	const { config } = deps;
	let want: Desired;
	try {
		want = desired(state, {
			plans: config.plans,
			defaultAppId: config.keycrateAppId,
			graceSeconds: config.graceSeconds,
			pastDueStatus: config.pastDueStatus,
			maxSeatsPerRoot: config.maxSeatsPerRoot,
		});
	} catch (error) {
		// The root cannot be licensed as Stripe has it now (too many seats, bad metadata): whatever it already
		// holds is paused before the dead letter, so a cancellation or refund behind it is never left undone.
		if (error instanceof PermanentError) await pauseAll(deps, root);
		throw error;
	}
	if (want.kind === 'skip') {
		await deps.recordSkipped(root, want.reason, want.detail);
		return { kind: 'skipped', root, reason: want.reason, detail: want.detail };
	}
	// In each app its seats live in, the default app included: a plan may have moved.
	const licenses = await licensesOf(deps, root, [config.keycrateAppId, ...want.seats.map((seat) => seat.appId)]);
	const now = deps.now?.() ?? Math.floor(Date.now() / 1000);
	const actions = plan({
		root,
		rootKind: want.rootKind,
		seats: want.seats,
		linkage: want.linkage,
		licenses,
		licenseTag: config.licenseTag,
		handoff: deps.handoff !== undefined,
		now,
	});
	const done = await execute(executeContext(deps, root, want.linkage), actions, licenses);
	return { kind: 'synced', root, planned: actions.map((action) => action.type), done, warnings: want.warnings };
}
