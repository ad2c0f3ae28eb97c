// `npm run bench`: every speed claim as a figure beside a baseline measured in the same run, in one table
// (bench/table.ts). Absolute figures depend on the machine (two cores shared by load generator, fakes, Redis and
// workers) and are context; goals are checked on the ratios. Every sync and bulk run must also end in the
// expected state, or the benchmark fails.
//
//   npm run bench [-- --quick] [--json FILE] [--only P1,P2,P3,P4,P5,sync] [--seed N] [--rounds N]
//   P1 ingest · P2/P3 + fault rows: sync · P4 the node's paging · P5 + memory + buyers: bulk jobs

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBulk } from './bulk.js';
import { benchIngest } from './ingest.js';
import { benchSync } from './sync.js';
import { printTable, row, writeJson, machine, type Row } from './table.js';

const GROUPS = ['P1', 'sync', 'P4', 'P5'] as const;
type Group = (typeof GROUPS)[number];

function wholeNumber(flag: string, text: string): number {
	const value = Number(text);
	if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: a whole number ≥ 1`);
	return value;
}

const USAGE =
	'usage: npm run bench -- [--quick] [--json FILE] [--only P1,sync,P4,P5] [--seed N] [--rounds N]\n  profiling one sync scenario: --only sync --scenario latencyZero --lifecycles 600 --concurrency 50 (WORKER_CPU_PROF=<dir> for V8 profiles)';

function options() {
	const { values } = parseArgs({
		options: {
			quick: { type: 'boolean', default: false },
			json: { type: 'string' },
			only: { type: 'string' },
			seed: { type: 'string', default: '1' },
			rounds: { type: 'string' },
			lifecycles: { type: 'string' },
			concurrency: { type: 'string' },
			scenario: { type: 'string' },
			help: { type: 'boolean', default: false },
		},
		strict: true,
	});
	if (values.help) {
		console.log(USAGE);
		process.exit(0);
	}
	const only = (values.only?.split(',').map((name) => name.trim()) ?? [...GROUPS]) as Group[];
	const unknown = only.filter((name) => !GROUPS.includes(name));
	if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(', ')} (known: ${GROUPS.join(', ')})`);
	const seed = Number(values.seed);
	if (!Number.isInteger(seed)) throw new Error('--seed: a whole number');
	const rounds = values.rounds === undefined ? (values.quick ? 1 : 2) : Number(values.rounds);
	if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a whole number ≥ 1');
	const quick = values.quick;
	return {
		quick,
		json: values.json,
		only,
		seed,
		rounds,
		ingest: { purchases: quick ? 1000 : 3000, seconds: quick ? 5 : 10 },
		sync: {
			lifecycles: values.lifecycles === undefined ? (quick ? 120 : 300) : wholeNumber('--lifecycles', values.lifecycles),
			rounds,
			seed,
			latencyMs: 30,
			concurrency: values.concurrency === undefined ? 4 : wholeNumber('--concurrency', values.concurrency),
			scenario: values.scenario,
		},
		pagingLicenses: quick ? 10000 : 50000,
		// P5 is a 100,000-key job in both modes (it runs in seconds; the buyers row needs a job that outlasts 20 purchases).
		bulk: { keys: 100000, purchases: 20, latencyMs: 5 },
	};
}

/** P4 runs in Jest (ts-jest runs the node's harness as the node tests do), in a process of its own. */
function benchPaging(licenses: number): Row[] {
	const result = join(mkdtempSync(join(tmpdir(), 'kc-bench-')), 'p4.json');
	const root = new URL('../../', import.meta.url).pathname;
	execFileSync(process.execPath, ['--expose-gc', join(root, 'node_modules/jest/bin/jest.js'), '--config', 'test/bench/jest.config.js', '--silent'], {
		cwd: root,
		env: { ...process.env, PAGING_LICENSES: String(licenses), PAGING_RESULT: result },
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	const figures = JSON.parse(readFileSync(result, 'utf8')) as {
		licenses: number;
		nodeSeconds: number;
		bareSeconds: number;
		retainedPerLicense: number;
		retainedPerLicenseSmall: number;
		small: number;
	};
	return [
		row({
			id: 'P4',
			what: `node Get Many, Return All, ${figures.licenses} licenses (n8n-core)`,
			value: figures.nodeSeconds,
			unit: 's',
			baselineWhat: 'bare get-bulk loop',
			baseline: figures.bareSeconds,
			goal: { atMost: 1.2 },
		}),
		row({
			id: 'P4 heap',
			what: `heap kept per license, ${figures.licenses}`,
			value: figures.retainedPerLicense,
			unit: 'B',
			baselineWhat: `at ${figures.small}`,
			baseline: figures.retainedPerLicenseSmall,
			goal: { atMost: 1.2 },
			note: 'heap after the run (GC settled) minus before, per license returned: flat means it keeps the result, not the pages',
		}),
	];
}

async function main(): Promise<void> {
	const settings = options();
	console.log(`keycrate benchmark${settings.quick ? ' (--quick)' : ''}: ${JSON.stringify(machine())}`);
	const rows: Row[] = [];
	if (settings.only.includes('P1')) rows.push(...(await benchIngest(settings.ingest)));
	if (settings.only.includes('sync')) rows.push(...(await benchSync(settings.sync)));
	if (settings.only.includes('P4')) rows.push(...benchPaging(settings.pagingLicenses));
	if (settings.only.includes('P5')) rows.push(...(await benchBulk(settings.bulk)));
	printTable(rows);
	const missed = rows.filter((r) => r.met === false);
	console.log(
		missed.length === 0
			? '\nEvery goal met; every run ended in the expected state.'
			: `\n${missed.length} goal(s) missed: ${missed.map((r) => r.id).join(', ')} (every run ended in the expected state).`,
	);
	if (settings.json) {
		console.log(`figures written to ${writeJson(settings.json, { ...settings, loadAverage: loadavg() }, rows)}`);
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		console.error(USAGE);
		process.exit(1);
	},
);
