/**
 * Facts of the Keycrate contract (openapi/keycrate.openapi.yaml) that the node needs at run time.
 * They are copied here because the published package cannot read the YAML;
 * test/node/contract-facts.test.ts fails the moment they diverge from it.
 */
export const LIMITS = {
	/** Keys per bulk call (info.x-keycrate-limits.max_batch). The node's default batch size. */
	maxBatch: 1000,
	/** Items per get-bulk page (max_per_page). */
	maxPerPage: 100,
	/** Characters of JSON.stringify(metadata) (max_metadata_chars). */
	maxMetadataChars: 2000,
	/** Hours between two HWID resets (max_reset_interval_hours). */
	maxResetIntervalHours: 8760,
} as const;

/** components.schemas.LicenseKey */
export const LICENSE_KEY = { pattern: /^[A-Za-z0-9_-]+$/, maxLength: 128 } as const;

/** components.schemas.Uuid (format: uuid) */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
