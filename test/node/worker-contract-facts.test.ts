/**
 * The Keycrate Worker node's copies of the admin contract (nodes/KeycrateWorker/contract.ts and the
 * literal options and bounds of its parameters) against openapi/worker-admin.openapi.yaml, and the
 * stub's own contract checks (a body the contract refuses is caught, naming the field).
 */
import type { INodeProperties } from 'n8n-workflow';

import { JOB_ID_PATTERN, JOB_KINDS, JOB_STATES, KEY_PATTERN, ROOT_PATTERN, WORKER_LIMITS } from '../../nodes/KeycrateWorker/contract';
import { KeycrateWorker } from '../../nodes/KeycrateWorker/KeycrateWorker.node';
import { adminContract, readAdminContract, startWorkerStub, validateAdminRequest } from './worker-stub';

// Walks an OpenAPI document by path; typing every step would restate the document.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const schemas = adminContract.components.schemas as Json;
const paths = adminContract.paths as Json;
const queryLimit = (path: string) => paths[path].get.parameters.find((p: Json) => p.name === 'limit').schema;
const { properties } = new KeycrateWorker().description;
const shown = (name: string, operation: string) =>
	properties.filter((p) => p.name === name && (p.displayOptions?.show?.operation as string[] | undefined)?.includes(operation));
const values = (property: INodeProperties) => (property.options ?? []).map((o) => ('value' in o ? o.value : undefined));

describe('the Keycrate Worker node follows the admin contract', () => {
	it('limits, patterns and enums', () => {
		const request = schemas.BulkJobRequest.properties;
		expect(WORKER_LIMITS).toEqual({
			maxJobsPerList: queryLimit('/admin/jobs').maximum,
			maxDeadLettersPerList: queryLimit('/admin/dead-letters').maximum,
			maxCount: request.count.maximum,
			maxDurationValue: request.duration_value.maximum,
			maxTags: request.tags.maxItems,
			maxLicenseKeys: request.license_keys.maxItems,
			maxRetryIds: paths['/admin/dead-letters/retry'].post.requestBody.content['application/json'].schema.properties.ids.maxItems,
			// BulkJobRequest.metadata's description says 2,000; an unquoted comma in its flow mapping cuts it at "2".
			maxMetadataChars: 2000,
		});
		expect(JOB_ID_PATTERN.source).toBe((adminContract.components.parameters.JobId as Json).schema.pattern);
		expect(ROOT_PATTERN.source).toBe(paths['/admin/roots/{root}/resync'].post.parameters[0].schema.pattern);
		expect(KEY_PATTERN.source).toBe(request.key_pattern.pattern);
		expect([...JOB_KINDS]).toEqual(schemas.JobKind.enum);
		expect([...JOB_STATES]).toEqual(schemas.JobState.enum);
	});

	it('the literal options and bounds of the parameters', () => {
		const request = schemas.BulkJobRequest.properties;
		expect(values(shown('kind', 'start')[0]).sort()).toEqual([...schemas.JobKind.enum].sort());
		const [createUnit, extendUnit] = shown('durationUnit', 'start');
		expect(values(createUnit).sort()).toEqual([...request.duration_unit.enum].sort());
		expect(values(extendUnit).sort()).toEqual(request.duration_unit.enum.filter((u: string) => u !== 'lifetime').sort());
		expect(values(shown('format', 'start')[0]).sort()).toEqual([...request.format.enum].sort());
		const filter = shown('filter', 'start')[0].options as INodeProperties[];
		expect(values(filter.find((o) => o.name === 'status')!).sort()).toEqual([...schemas.Filter.properties.status.enum].sort());
		const states = (
			shown('filters', 'getMany').find((p) => (p.displayOptions?.show?.resource as string[]).includes('bulkJob'))!.options as INodeProperties[]
		)[0];
		expect(values(states).sort()).toEqual([...schemas.JobState.enum].sort());
		expect(shown('count', 'start')[0].typeOptions).toEqual({ minValue: request.count.minimum, maxValue: request.count.maximum });
		expect(shown('durationValue', 'start')[0].typeOptions).toEqual({ minValue: request.duration_value.minimum, maxValue: request.duration_value.maximum });
		const limits = shown('limit', 'getMany').map((p) => [(p.displayOptions?.show?.resource as string[])[0], p.typeOptions?.maxValue]);
		expect(Object.fromEntries(limits)).toEqual({ bulkJob: queryLimit('/admin/jobs').maximum, deadLetter: queryLimit('/admin/dead-letters').maximum });
	});

	it("the stub's checks catch what the contract refuses, naming the field", async () => {
		const q = new URLSearchParams();
		expect(validateAdminRequest('post', '/admin/jobs', {}, q, { kind: 'create', app_id: 'x' })).toMatchObject({ field: 'app_id' });
		expect(
			validateAdminRequest('post', '/admin/jobs', {}, q, { kind: 'pause', app_id: '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11', filter: { tier: 'pro' } }),
		).toMatchObject({ field: 'filter.tier' });
		expect(validateAdminRequest('get', '/admin/jobs', {}, new URLSearchParams({ limit: '101' }), undefined)).toMatchObject({ field: 'limit' });
		expect(validateAdminRequest('get', '/admin/jobs/{id}', { id: 'job-1' }, q, undefined)).toMatchObject({ field: 'id' });
		expect(validateAdminRequest('post', '/admin/dead-letters/retry', {}, q, { ids: [] })).toMatchObject({ field: 'ids' });
		const stub = await startWorkerStub();
		try {
			const reply = await fetch(`${stub.url}/admin/jobs`, {
				method: 'POST',
				headers: { authorization: `Bearer ${stub.token}`, 'content-type': 'application/json' },
				body: JSON.stringify({ kind: 'explode', app_id: '2f7c1c7e-3f7a-4c55-9a43-2f5d0f2b8a11' }),
			});
			expect({ status: reply.status, body: await reply.json() }).toEqual({
				status: 400,
				body: { error: 'invalid_input', field: 'kind', message: expect.stringContaining('kind must be equal to one of the allowed values') },
			});
			expect(stub.violations).toHaveLength(1);
		} finally {
			await stub.stop();
		}
	});

	it('reads the YAML as it is, quoting only plain descriptions that hold ": " inside a flow mapping', () => {
		expect(readAdminContract('a: { type: integer, description: Keys (create: new) }\nb: { description: plain }\n')).toEqual({
			a: { description: 'Keys (create: new)', type: 'integer' },
			b: { description: 'plain' },
		});
		expect(schemas.DryRunResponse.properties.data.properties.selected.description).toBe('Keys selected (create: licenses to create)');
	});
});
