/**
 * The Keycrate contract (openapi/keycrate.openapi.yaml), loaded once and compiled with Ajv.
 * Every limit, status code and enum the emulator needs is read from here, never restated in TS.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import type { components, paths } from '../../openapi/keycrate';

export type Schemas = components['schemas'];
export type ContractPath = keyof paths;
export type ErrorCode = Schemas['ErrorCode'];
export type RequestOf<P extends ContractPath> = paths[P]['post']['requestBody']['content']['application/json'];
export type SuccessOf<P extends ContractPath> = paths[P]['post']['responses'][200]['content']['application/json'];

export interface ContractLimits {
	max_batch: number;
	max_per_page: number;
	default_per_page: number;
	max_metadata_chars: number;
	max_reset_interval_hours: number;
}

export interface ValidationFailure {
	/** The offending field as a path, e.g. `license_keys` or `license_keys[3]`; `body` for the whole body. */
	field: string;
	message: string;
}

/** Same path from src (ts-jest, tsx) and from dist: both sit two levels under the repository root. */
export const contractFile = resolve(__dirname, '../../openapi/keycrate.openapi.yaml');

type JsonObject = Record<string, unknown>;
const CONTRACT_ID = 'https://keycrate.invalid/contract';

const document = parse(readFileSync(contractFile, 'utf8')) as JsonObject;
const documentPaths = document.paths as Record<string, { post: { requestBody: JsonObject; responses: Record<string, JsonObject> } }>;
const documentComponents = document.components as Record<string, Record<string, JsonObject>>;
const documentSchemas = documentComponents.schemas;

export const contractPaths = Object.keys(documentPaths) as ContractPath[];
const contractPathSet = new Set<string>(contractPaths);
export function isContractPath(path: string): path is ContractPath {
	return contractPathSet.has(path);
}

const rawLimits = (document.info as JsonObject)['x-keycrate-limits'] as JsonObject;
export const limits: ContractLimits = {
	max_batch: rawLimits.max_batch as number,
	max_per_page: rawLimits.max_per_page as number,
	default_per_page: rawLimits.default_per_page as number,
	max_metadata_chars: rawLimits.max_metadata_chars as number,
	max_reset_interval_hours: rawLimits.max_reset_interval_hours as number,
};

const errorCodeSchema = documentSchemas.ErrorCode;
export const errorCodes = errorCodeSchema.enum as ErrorCode[];
const rawHttpStatus = errorCodeSchema['x-keycrate-http-status'] as Record<string, unknown>;
export const errorHttpStatus = Object.fromEntries(errorCodes.map((code) => [code, rawHttpStatus[code] as number])) as Record<ErrorCode, number>;

/** A schema's `default`, e.g. the default key pattern. */
export function schemaDefault<T>(schemaName: keyof Schemas): T {
	return documentSchemas[schemaName].default as T;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// The metadata size limit is stated on the Metadata schema; enforce it wherever that schema is used.
ajv.addKeyword({
	keyword: 'x-keycrate-max-json-length',
	type: 'object',
	schemaType: 'number',
	errors: true,
	validate: function maxJsonLength(maxChars: number, data: unknown) {
		const length = JSON.stringify(data).length;
		if (length <= maxChars) return true;
		(maxJsonLength as unknown as { errors: Partial<ErrorObject>[] }).errors = [
			{ keyword: 'x-keycrate-max-json-length', message: `must be JSON of at most ${maxChars} characters (got ${length})`, params: { limit: maxChars } },
		];
		return false;
	},
});
ajv.addSchema({ $id: CONTRACT_ID, components: { schemas: documentSchemas } });

function resolveComponent(ref: unknown, kind: 'requestBodies' | 'responses'): JsonObject {
	const { $ref } = ref as { $ref?: string };
	if (!$ref) return ref as JsonObject;
	const prefix = `#/components/${kind}/`;
	if (!$ref.startsWith(prefix)) throw new Error(`contract: unexpected reference ${$ref}`);
	return documentComponents[kind][$ref.slice(prefix.length)];
}

function compileJsonBody(container: JsonObject): ValidateFunction {
	const content = container.content as Record<string, { schema: JsonObject }> | undefined;
	const schema = content?.['application/json']?.schema;
	if (!schema) throw new Error('contract: a body without an application/json schema');
	const ref = schema.$ref as string | undefined;
	return ajv.compile(ref ? { $ref: `${CONTRACT_ID}${ref}` } : schema);
}

const requestValidators = new Map<string, ValidateFunction>();
const responseValidators = new Map<string, Map<number, ValidateFunction>>();
const optionalRequestFields = new Map<string, string[]>();
for (const path of contractPaths) {
	const operation = documentPaths[path].post;
	const requestBody = resolveComponent(operation.requestBody, 'requestBodies');
	requestValidators.set(path, compileJsonBody(requestBody));
	const requestSchemaRef = (requestBody.content as Record<string, { schema: { $ref: string } }>)['application/json'].schema.$ref;
	const requestSchema = documentSchemas[requestSchemaRef.split('/').pop() as string];
	const required = new Set((requestSchema.required as string[] | undefined) ?? []);
	optionalRequestFields.set(
		path,
		Object.keys((requestSchema.properties as JsonObject | undefined) ?? {}).filter((name) => !required.has(name)),
	);
	const byStatus = new Map<number, ValidateFunction>();
	for (const [status, response] of Object.entries(operation.responses)) {
		byStatus.set(Number(status), compileJsonBody(resolveComponent(response, 'responses')));
	}
	responseValidators.set(path, byStatus);
}

/** `/license_keys/3` → `license_keys[3]`; `/metadata/a~1b` → `metadata.a/b`. */
function fieldPath(instancePath: string, child?: string): string {
	const segments = instancePath
		.split('/')
		.slice(1)
		.map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
	if (child !== undefined) segments.push(child);
	let field = '';
	for (const segment of segments) field += /^\d+$/.test(segment) ? `[${segment}]` : field ? `.${segment}` : segment;
	return field || 'body';
}

function describe(error: ErrorObject, path: string | undefined): ValidationFailure {
	const params = error.params as Record<string, unknown>;
	switch (error.keyword) {
		case 'required':
			return { field: fieldPath(error.instancePath, params.missingProperty as string), message: 'is required' };
		case 'additionalProperties':
			return { field: fieldPath(error.instancePath, params.additionalProperty as string), message: 'is not a known field' };
		case 'enum':
			return { field: fieldPath(error.instancePath), message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}` };
		case 'minItems':
			return { field: fieldPath(error.instancePath), message: params.limit === 1 ? 'must not be empty' : `must have at least ${params.limit as number} items` };
		case 'maxItems':
			return { field: fieldPath(error.instancePath), message: `must have at most ${params.limit as number} items` };
		case 'uniqueItems':
			return { field: fieldPath(error.instancePath), message: `must not repeat an item (items ${params.j as number} and ${params.i as number} are the same)` };
		case 'format':
			return { field: fieldPath(error.instancePath), message: `must be a valid ${params.format as string}` };
		case 'minProperties': {
			const optional = (path && optionalRequestFields.get(path)) || [];
			if (error.instancePath === '' && optional.length > 0) {
				return { field: optional[0], message: `at least one of ${optional.join(', ')} is required` };
			}
			return { field: fieldPath(error.instancePath), message: error.message ?? 'has too few properties' };
		}
		default:
			return { field: fieldPath(error.instancePath), message: error.message ?? 'is invalid' };
	}
}

// A oneOf/anyOf summary ("must match exactly one schema") says less than the branch errors before it.
const SUMMARY_KEYWORDS = new Set(['oneOf', 'anyOf', 'if']);
function firstFailure(errors: ErrorObject[] | null | undefined, path?: string): ValidationFailure | null {
	if (!errors || errors.length === 0) return null;
	const specific = errors.find((error) => !SUMMARY_KEYWORDS.has(error.keyword)) ?? errors[0];
	return describe(specific, path);
}

export function validateRequest(path: string, body: unknown): ValidationFailure | null {
	const validate = requestValidators.get(path);
	if (!validate) return { field: 'path', message: `${path} is not an endpoint of the contract` };
	return validate(body) ? null : firstFailure(validate.errors, path);
}

export function validateResponse(path: string, status: number, body: unknown): ValidationFailure | null {
	const byStatus = responseValidators.get(path);
	if (!byStatus) return { field: 'path', message: `${path} is not an endpoint of the contract` };
	const validate = byStatus.get(status);
	if (!validate) return { field: 'status', message: `${status} is not a declared response of ${path}` };
	return validate(body) ? null : firstFailure(validate.errors);
}

/** Validates any body against a named contract schema (used for admin payloads that embed contract types). */
export function compileSchema(schema: object): (data: unknown) => ValidationFailure | null {
	const validate = ajv.compile(schema);
	return (data) => (validate(data) ? null : firstFailure(validate.errors));
}
export const contractSchemaRef = (name: keyof Schemas): { $ref: string } => ({ $ref: `${CONTRACT_ID}#/components/schemas/${name}` });
