import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * n8n's own gates for a verified community package, run on this package so they cannot regress:
 * its community-package scanner (@n8n/scan-community-package) on the source and on the tarball
 * `npm pack` makes, and `n8n-node lint` (@n8n/node-cli). Both are installed in test/node/n8n-tools
 * (npm ci --ignore-scripts there, on first use): see that package.json for why not at the root.
 */
const root = join(__dirname, '../..');
const tools = join(__dirname, 'n8n-tools');

interface Finding {
	file: string;
	line: string;
}

/** The findings of eslint's stylish report, each with the file it is under, relative to `base`. */
function findings(details: string | undefined, base: string): Finding[] {
	const out: Finding[] = [];
	let file = '';
	for (const line of (details ?? '').split('\n')) {
		if (line.startsWith('/')) file = line.trim().slice(base.length + 1);
		else if (/^\s+\d+:\d+\s+(error|warning)\s/.test(line)) out.push({ file, line: line.trim() });
	}
	return out;
}

/** The environment n8n's tools run in: jest's NODE_ENV=test makes eslint-plugin-n8n-nodes-base check file names against its fixture's. */
const toolEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_ENV'));

describe("n8n's verification checks", () => {
	let unpacked: string;

	beforeAll(() => {
		if (!existsSync(join(tools, 'node_modules/@n8n/scan-community-package/scanner/scanner.mjs'))) {
			execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: tools, stdio: 'inherit' });
		}
		if (!existsSync(join(root, 'dist/nodes/Keycrate/Keycrate.node.js'))) throw new Error('dist/ is missing: run npm run build:node first');
		const scratch = mkdtempSync(join(tmpdir(), 'keycrate-pack-'));
		execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], { cwd: root, stdio: 'pipe' });
		const tarball = readdirSync(scratch).find((name) => name.endsWith('.tgz'))!;
		unpacked = join(scratch, 'package');
		mkdirSync(unpacked);
		execFileSync('tar', ['-xzf', join(scratch, tarball), '-C', unpacked, '--strip-components=1']);
	}, 600_000);

	afterAll(() => {
		if (unpacked) rmSync(join(unpacked, '..'), { recursive: true, force: true });
	});

	it('the community-package scanner passes on the source and on the tarball with no finding', () => {
		const out = execFileSync('node', [join(tools, 'scan.mjs'), unpacked, root], { cwd: tools, encoding: 'utf8', maxBuffer: 16 << 20, env: toolEnv() });
		const { source, tarball } = JSON.parse(out.trim().split('\n').pop()!) as Record<'source' | 'tarball', { passed: boolean; details?: string }>;
		expect({ source: findings(source.details, root), tarball: findings(tarball.details, unpacked) }).toEqual({ source: [], tarball: [] });
		expect({ source: source.passed, tarball: tarball.passed }).toEqual({ source: true, tarball: true });
	}, 300_000);

	it('n8n-node lint (strict mode, n8n Cloud rules) passes on nodes/, credentials/ and package.json with no warning', () => {
		const run = spawnSync('node', [join(tools, 'lint.mjs')], { encoding: 'utf8', env: toolEnv() });
		expect({ status: run.status, problems: `${run.stdout}${run.stderr}`.match(/^.*\d+:\d+\s+(error|warning)\s.*$/gm) ?? [] }).toEqual({
			status: 0,
			problems: [],
		});
	}, 300_000);
});
