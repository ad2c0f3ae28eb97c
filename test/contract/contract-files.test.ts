import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { contractPaths, limits } from '../../emulator/src';

const root = resolve(__dirname, '../..');
const contractFile = join(root, 'openapi/keycrate.openapi.yaml');
const document = parse(readFileSync(contractFile, 'utf8'));

/** The 22 endpoints Keycrate documents (DESIGN.md). */
const DOCUMENTED = [
	'/license/create',
	'/license/create-bulk',
	'/license/extend',
	'/license/extend-bulk',
	'/license/delete',
	'/license/delete-bulk',
	'/license/get',
	'/license/get-bulk',
	'/license/update-status',
	'/license/update-status-bulk',
	'/license/update-subscription',
	'/license/update-user-credentials',
	'/license/update-metadata',
	'/hwid/edit',
	'/hwid/toggle-lock',
	'/hwid/toggle-lock-bulk',
	'/hwid/toggle-reset-allowed',
	'/hwid/update-reset-interval',
	'/subscription/create',
	'/subscription/edit',
	'/subscription/delete',
	'/subscription/get-bulk',
];

test('openapi/ lists exactly the 22 documented paths, each POST only', () => {
	expect(DOCUMENTED).toHaveLength(22);
	expect([...contractPaths].sort()).toEqual([...DOCUMENTED].sort());
	for (const path of DOCUMENTED) expect([path, Object.keys(document.paths[path])]).toEqual([path, ['post']]);
});

test('the limits in info.x-keycrate-limits agree with the schemas that enforce them', () => {
	const schemas = document.components.schemas;
	expect(schemas.LicenseKeyList.maxItems).toBe(limits.max_batch);
	expect(schemas.LicenseCreateBulkRequest.properties.key_amount.maximum).toBe(limits.max_batch);
	expect(schemas.PerPage.maximum).toBe(limits.max_per_page);
	expect(schemas.PerPage.default).toBe(limits.default_per_page);
	expect(schemas.Metadata['x-keycrate-max-json-length']).toBe(limits.max_metadata_chars);
	expect(schemas.ResetIntervalHours.maximum).toBe(limits.max_reset_interval_hours);
});

test('openapi/keycrate.d.ts is what `npm run gen:contract` generates from the contract now', () => {
	// Same flags as the script, only the output goes to a temporary file.
	const script: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['gen:contract'];
	const [command, ...args] = script.split(/\s+/);
	expect(command).toBe('openapi-typescript');
	const output = args.indexOf('-o') + 1;
	expect(args[output]).toBe('openapi/keycrate.d.ts');
	const dir = mkdtempSync(join(tmpdir(), 'kc-contract-'));
	try {
		const generated = join(dir, 'keycrate.d.ts');
		args[output] = generated;
		const cli = join(root, 'node_modules/openapi-typescript/bin/cli.js');
		const run = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
		expect(run.status).toBe(0);
		expect(readFileSync(join(root, 'openapi/keycrate.d.ts'), 'utf8')).toBe(readFileSync(generated, 'utf8'));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
