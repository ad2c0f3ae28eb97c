/**
 * Facts of the worker's admin contract (openapi/worker-admin.openapi.yaml) that the node needs at
 * run time, copied because the published package cannot read the YAML;
 * test/node/worker-contract-facts.test.ts fails the moment they diverge from it.
 */
export const WORKER_LIMITS = {
	/** GET /admin/jobs `limit` maximum (the list has no further pages). */
	maxJobsPerList: 100,
	/** GET /admin/dead-letters `limit` maximum (no further pages either). */
	maxDeadLettersPerList: 1000,
	/** BulkJobRequest.count maximum. */
	maxCount: 1000000,
	/** BulkJobRequest.duration_value maximum. */
	maxDurationValue: 100000,
	/** BulkJobRequest.tags maxItems. */
	maxTags: 18,
	/** BulkJobRequest.license_keys maxItems. */
	maxLicenseKeys: 1000000,
	/** retry body `ids` maxItems. */
	maxRetryIds: 1000,
	/** Characters of JSON.stringify(metadata). */
	maxMetadataChars: 2000,
} as const;

/** components.parameters.JobId */
export const JOB_ID_PATTERN = /^bulk_[A-Za-z0-9_-]{1,64}$/;

/** The `root` path parameter of /admin/roots/{root}/resync. */
export const ROOT_PATTERN = /^(sub|pi|cs)_[A-Za-z0-9_]{1,250}$/;

/** BulkJobRequest.key_pattern */
export const KEY_PATTERN = /^[A-Za-z0-9_*-]{1,64}$/;

/** components.schemas.JobKind, in the contract's order. */
export const JOB_KINDS = ['create', 'extend', 'pause', 'activate', 'retier', 'lock', 'delete', 'export'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** components.schemas.JobState */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'canceled'] as const;
