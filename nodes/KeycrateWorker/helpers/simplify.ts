import type { IExecuteFunctions } from 'n8n-workflow';

type Item = Record<string, unknown>;

const isObject = (value: unknown): value is Item => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A bulk job as most workflows use it, flat: id, kind, state, progress (done / total / failed,
 * rate, ETA while it runs) and, once it ended, its counts, export path and error. Leaves out the
 * request (which can hold a million keys) and the list of failures; turn Simplify off for them.
 */
export function simplifyJob(job: Item): Item {
	const progress = isObject(job.progress) ? job.progress : {};
	const result = isObject(job.result) ? job.result : undefined;
	const simple: Item = {
		id: job.id,
		kind: job.kind,
		state: job.state,
		done: progress.done,
		total: progress.total,
		failed: result?.failed ?? progress.failed,
		succeeded: result?.succeeded,
		canceled: result?.canceled,
		rate_per_second: progress.rate_per_second,
		eta_seconds: progress.eta_seconds,
		export_path: result?.export_path,
		calls: result?.calls,
		error: job.error,
		created_at: job.created_at,
		finished_at: job.finished_at,
	};
	for (const key of Object.keys(simple)) if (simple[key] === undefined) delete simple[key];
	return simple;
}

/** The jobs as the operation outputs them: simplified unless Simplify is off. */
export function outputJobs(this: IExecuteFunctions, itemIndex: number, jobs: unknown[]): Item[] {
	const simplify = this.getNodeParameter('simplify', itemIndex, true) as boolean;
	const objects = jobs.filter(isObject);
	return simplify ? objects.map(simplifyJob) : objects;
}
