import type { INodeProperties } from 'n8n-workflow';

import { Keycrate } from '../../nodes/Keycrate/Keycrate.node';
import { LICENSE_KEY, LIMITS } from '../../nodes/Keycrate/contract';
import { MAX_EXTEND_SECONDS } from '../../nodes/Keycrate/actions/fields';
import { ENDPOINTS, WRITE_ONCE } from '../../nodes/Keycrate/transport/endpoints';
import { readContract } from './describe-operations';

/** The node copies a few facts of the contract (it cannot read YAML at run time): they must not drift. */
const contract = readContract() as unknown as {
	info: { 'x-keycrate-limits': Record<string, number> };
	paths: Record<string, { post: { operationId: string } }>;
	components: {
		schemas: Record<
			string,
			{
				enum?: string[];
				maximum?: number;
				maxItems?: number;
				maxLength?: number;
				pattern?: string;
				properties?: Record<string, { enum?: string[]; maximum?: number }>;
			}
		>;
	};
};
const schemas = contract.components.schemas;

/** Every parameter of the node, collection members included. */
function allParameters(): INodeProperties[] {
	const flat: INodeProperties[] = [];
	const visit = (properties: INodeProperties[]) => {
		for (const property of properties) {
			flat.push(property);
			if (property.type === 'collection') visit(property.options as INodeProperties[]);
		}
	};
	visit(new Keycrate().description.properties);
	return flat;
}

function parametersNamed(name: string): INodeProperties[] {
	const found = allParameters().filter((p) => p.name === name);
	expect(found.length).toBeGreaterThan(0);
	return found;
}

function optionValues(property: INodeProperties): unknown[] {
	return (property.options ?? []).map((option) => ('value' in option ? option.value : undefined)).sort();
}

describe('the node agrees with openapi/keycrate.openapi.yaml', () => {
	it('has the limits of info.x-keycrate-limits', () => {
		const limits = contract.info['x-keycrate-limits'];
		expect(LIMITS).toEqual({
			maxBatch: limits.max_batch,
			maxPerPage: limits.max_per_page,
			maxMetadataChars: limits.max_metadata_chars,
			maxResetIntervalHours: limits.max_reset_interval_hours,
		});
		expect(schemas.LicenseKeyList.maxItems).toBe(LIMITS.maxBatch);
		expect(schemas.PerPage.maximum).toBe(LIMITS.maxPerPage);
		expect(schemas.LicenseCreateBulkRequest.properties?.key_amount.maximum).toBe(LIMITS.maxBatch);
	});

	it('defaults Batch Size and Page Size to the contract maxima', () => {
		for (const batchSize of parametersNamed('batchSize')) {
			expect([batchSize.default, batchSize.typeOptions?.maxValue]).toEqual([LIMITS.maxBatch, LIMITS.maxBatch]);
		}
		for (const pageSize of parametersNamed('pageSize')) {
			expect([pageSize.default, pageSize.typeOptions?.maxValue]).toEqual([LIMITS.maxPerPage, LIMITS.maxPerPage]);
		}
	});

	it('checks license keys with the contract grammar', () => {
		expect(LICENSE_KEY.pattern.source).toBe(schemas.LicenseKey.pattern);
		expect(LICENSE_KEY.maxLength).toBe(schemas.LicenseKey.maxLength);
	});

	it('offers exactly the values of the contract enums', () => {
		for (const unit of parametersNamed('durationUnit')) expect(optionValues(unit)).toEqual([...schemas.DurationUnit.enum!].sort());
		const statuses = parametersNamed('status');
		const settable = statuses.filter((p) => p.required);
		const filter = statuses.filter((p) => !p.required);
		for (const status of settable) expect(optionValues(status)).toEqual([...schemas.SettableStatus.enum!].sort());
		for (const status of filter) expect(optionValues(status)).toEqual([...schemas.LicenseStatus.enum!].sort());
		const getBulk = schemas.LicenseGetBulkRequest.properties!;
		const sort = parametersNamed('sort')[0].options as INodeProperties[];
		expect(optionValues(sort.find((p) => p.name === 'field')!)).toEqual([...getBulk.sort_field.enum!].sort());
		expect(optionValues(sort.find((p) => p.name === 'order')!)).toEqual([...getBulk.sort_order.enum!].sort());
	});

	it('bounds numbers as the contract does', () => {
		expect(parametersNamed('resetInterval')[0].typeOptions?.maxValue).toBe(schemas.ResetIntervalHours.maximum);
		expect(MAX_EXTEND_SECONDS).toBe(schemas.ExtendSeconds.maximum);
		for (const level of parametersNamed('level')) expect(level.typeOptions?.maxValue).toBe(schemas.SubscriptionLevel.maximum);
		for (const value of parametersNamed('durationValue')) expect(value.typeOptions?.maxValue).toBe(schemas.DurationValue.maximum);
	});

	it('knows each of the 22 endpoints once, under its operationId', () => {
		const fromContract = Object.fromEntries(Object.entries(contract.paths).map(([path, item]) => [item.post.operationId, path]));
		expect(ENDPOINTS).toEqual(fromContract);
		expect(Object.keys(ENDPOINTS)).toHaveLength(22);
	});

	it('never re-sends exactly the operations the contract marks x-keycrate-write-once', () => {
		const writeOnce = Object.values(contract.paths)
			.filter((item) => (item.post as { 'x-keycrate-write-once'?: boolean })['x-keycrate-write-once'] === true)
			.map((item) => item.post.operationId);
		expect([...WRITE_ONCE].sort()).toEqual(writeOnce.sort());
		expect(writeOnce.sort()).toEqual(['licenseCreate', 'licenseCreateBulk', 'licenseExtend', 'licenseExtendBulk']);
	});
});
