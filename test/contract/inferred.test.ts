/** What the public Keycrate docs do not state is marked as ours in the contract (issue 8: an honest contract). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

type Node = Record<string, unknown>;
const contract = parse(readFileSync(join(__dirname, '../../openapi/keycrate.openapi.yaml'), 'utf8')) as {
	paths: Record<string, { post: Node & { operationId: string } }>;
	components: { schemas: Record<string, Node & { properties?: Record<string, Node>; required?: string[] }> };
};
const schemas = contract.components.schemas;
const inferred = (node: Node | undefined) => node?.['x-keycrate-inferred'] === true;

describe('the contract marks what it inferred', () => {
	test('the password field, and the username beside it', () => {
		for (const schema of ['LicenseCreateRequest', 'LicenseUpdateUserCredentialsRequest']) {
			expect([schema, inferred(schemas[schema].properties?.password), inferred(schemas[schema].properties?.username)]).toEqual([schema, true, true]);
		}
		expect(inferred(schemas.License.properties?.has_password)).toBe(true);
	});

	test("the cascade delete of a tier's licenses", () => {
		expect(inferred(contract.paths['/subscription/delete'].post)).toBe(true);
		expect(inferred(schemas.SubscriptionDeletedResponse)).toBe(true);
	});

	test('limits: metadata characters, batch and page sizes, lengths and ranges', () => {
		for (const schema of ['Metadata', 'LicenseKeyList', 'PerPage', 'Tags', 'Hwid', 'SubscriptionLevel', 'DurationValue', 'ResetIntervalHours', 'KeyPattern']) {
			expect([schema, inferred(schemas[schema])]).toEqual([schema, true]);
		}
	});

	test('null meaning detach or clear', () => {
		expect(inferred(schemas.LicenseUpdateSubscriptionRequest.properties?.subscription_id)).toBe(true);
		expect(inferred(schemas.HwidEditRequest.properties?.hwid)).toBe(true);
	});

	test('which fields are required, on every request schema', () => {
		const requests = Object.entries(schemas).filter(([name]) => name.endsWith('Request'));
		expect(requests.length).toBe(21);
		for (const [name, schema] of requests) expect([name, typeof schema['x-keycrate-inferred-required']]).toEqual([name, 'string']);
	});

	test('response shapes other than the documented get-bulk data list', () => {
		for (const schema of [
			'License',
			'Subscription',
			'Pagination',
			'BulkResultResponse',
			'LicenseResponse',
			'LicenseListResponse',
			'LicenseDeletedResponse',
			'SubscriptionResponse',
			'SubscriptionPageResponse',
			'LicensePageResponse',
		]) {
			expect([schema, inferred(schemas[schema])]).toEqual([schema, true]);
		}
	});

	test('the write-once operations: create, create-bulk, extend, extend-bulk', () => {
		const writeOnce = Object.entries(contract.paths)
			.filter(([, item]) => item.post['x-keycrate-write-once'] === true)
			.map(([path]) => path);
		expect(writeOnce.sort()).toEqual(['/license/create', '/license/create-bulk', '/license/extend', '/license/extend-bulk']);
	});
});
