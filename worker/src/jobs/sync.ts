// The sync job: Stripe's current state of a root → desired (pure) → the root's licenses on Keycrate, found by
// its tag → plan (pure) → execute → hand-off. Every sync of a root, however many and in whatever order, moves
// Keycrate toward the same state, because each step reads what is there now and acts only on a difference.

import type { Config } from '../config.js';
import { PermanentError } from '../errors.js';
import type { Done, ExecuteContext, HandoffLicense } from '../keycrate/execute.js';
import { execute } from '../keycrate/execute.js';
import { readRootLicenses, type LicenseApi } from '../keycrate/licenses.js';
import { plan, planPauseAll, type Action } from '../keycrate/plan.js';
import type { Desired, Entitlement, FoundLicense, Linkage, PaymentState, RootId, RootState, SkipReason, SubscriptionState } from '../model.js';
import { appsOf, desired, type DesiredOptions } from '../stripe/desired.js';
import { fetchRoot, type StripeAccess } from '../stripe/fetch.js';

export type SyncConfig = Pick<
	Config,
	'keycrateAppId' | 'settleMs' | 'plans' | 'graceSeconds' | 'pastDueStatus' | 'disputePauses' | 'disputeWindowDays' | 'maxSeatsPerRoot' | 'licenseTag'
>;

export interface SyncDeps {
	config: SyncConfig;
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
	/** Filled as the sync goes, so its history entry can say what it saw and did even when it fails. */
	trace?: SyncTrace;
}

/** What one sync saw and did, step by step (the history entry is built from it: jobs/history.ts). */
export interface SyncTrace {
	state?: RootState;
	desired?: Desired;
	actions?: Action[];
	done: Done[];
}

export type SyncOutcome =
	| { kind: 'synced'; root: RootId; entitlement: Entitlement; planned: Action['type'][]; done: Done[]; warnings: string[] }
	| { kind: 'skipped'; root: RootId; reason: SkipReason; detail: string; done: Done[] }
	| { kind: 'redirected'; root: RootId; to: RootId };

export function desiredOptions(config: SyncConfig, now: number): DesiredOptions {
	return {
		plans: config.plans,
		defaultAppId: config.keycrateAppId,
		graceSeconds: config.graceSeconds,
		pastDueStatus: config.pastDueStatus,
		maxSeatsPerRoot: config.maxSeatsPerRoot,
		disputePauses: config.disputePauses,
		disputeWindowSeconds: config.disputeWindowDays * 86400,
		now,
	};
}

/** Every license of the root, read as a sync plans with them. */
async function licensesOf(deps: SyncDeps, root: RootId, appIds: Iterable<string>): Promise<FoundLicense[]> {
	return (await readRootLicenses(deps.api, root, appIds)).map((license) => license.found);
}

function executeContext(deps: SyncDeps, root: RootId, linkage?: Linkage): ExecuteContext {
	const handoff = deps.handoff;
	return {
		api: deps.api,
		root,
		settleMs: deps.config.settleMs,
		...(handoff && linkage ? { handoff: (license: HandoffLicense) => handoff(linkage, license) } : {}),
		...(deps.signal ? { signal: deps.signal } : {}),
		...(deps.trace ? { done: deps.trace.done } : {}),
	};
}

/** A root that can no longer be licensed: every license it holds, in every app it can be in, is paused. */
async function pauseAll(deps: SyncDeps, state: SubscriptionState | PaymentState): Promise<Done[]> {
	const licenses = await licensesOf(deps, state.root, appsOf(state, { plans: deps.config.plans, defaultAppId: deps.config.keycrateAppId }));
	const actions = planPauseAll(licenses);
	if (deps.trace) deps.trace.actions = actions;
	return execute(executeContext(deps, state.root), actions, licenses);
}

export async function syncRoot(deps: SyncDeps, root: RootId): Promise<SyncOutcome> {
	const { config } = deps;
	const now = deps.now?.() ?? Math.floor(Date.now() / 1000);
	const state = await fetchRoot(deps.stripe, root, { now, disputeWindowSeconds: config.disputeWindowDays * 86400 });
	if (deps.trace) deps.trace.state = state;
	if (state.kind === 'redirect') {
		await deps.enqueueSync(state.to, `payment ${root} of ${state.to}`);
		return { kind: 'redirected', root, to: state.to };
	}
	if (state.kind === 'none') {
		// Not paused: a key of the wrong mode or account would otherwise pause every buyer it cannot see.
		await deps.recordSkipped(root, 'unknown_object', state.reason);
		return { kind: 'skipped', root, reason: 'unknown_object', detail: state.reason, done: [] };
	}
	const options = desiredOptions(config, now);
	let want: Desired;
	try {
		want = desired(state, options);
		if (deps.trace) deps.trace.desired = want;
	} catch (error) {
		// The root cannot be licensed as Stripe has it now (too many seats, bad metadata): whatever it already
		// holds is paused before the dead letter, so a cancellation or refund behind it is never left undone.
		if (error instanceof PermanentError) await pauseAll(deps, state);
		throw error;
	}
	if (want.kind === 'skip') {
		const done = await pauseAll(deps, state);
		await deps.recordSkipped(root, want.reason, want.detail);
		return { kind: 'skipped', root, reason: want.reason, detail: want.detail, done };
	}
	// In every app its licenses can be in: a plan may have moved, and a license left behind is paused.
	const licenses = await licensesOf(deps, root, [...appsOf(state, options), ...want.seats.map((seat) => seat.appId)]);
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
	if (deps.trace) deps.trace.actions = actions;
	const done = await execute(executeContext(deps, root, want.linkage), actions, licenses);
	const warnings = [...want.warnings];
	if (deps.handoff !== undefined && want.linkage.email === undefined && actions.some((action) => action.type === 'handoff')) {
		warnings.push(
			`${root}: the hand-off carries no email (no customer, invoice, session or billing email in Stripe): the receiver must find the buyer by customer_id`,
		);
	}
	return { kind: 'synced', root, entitlement: want.entitlement, planned: actions.map((action) => action.type), done, warnings };
}
