// After `npm publish`: runs n8n's community-package check on the published version exactly as n8n's
// verification does (@n8n/scan-community-package's analyzePackageByName): the npm provenance attestation
// (SLSA v1), then the scanner on the tarball and on the source at the commit the attestation names.
// Waits for the registry to list the version first (it can lag a publish by a minute).
// Usage: node test/node/n8n-tools/verify-published.mjs <package>@<version>  — exits 1 unless it passes.
import { analyzePackageByName, resolvePackage } from '@n8n/scan-community-package/scanner/scanner.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const spec = process.argv[2];
if (!spec?.includes('@')) {
	process.stderr.write('usage: node verify-published.mjs <package>@<version>\n');
	process.exit(2);
}
const { packageName, version } = resolvePackage(spec);
const listed = async () => {
	const response = await fetch(`https://registry.npmjs.org/${packageName}`, { headers: { accept: 'application/json' } });
	return response.ok && Boolean(((await response.json()).versions ?? {})[version]);
};
for (let attempt = 1; !(await listed()); attempt++) {
	if (attempt === 20) {
		process.stderr.write(`${packageName}@${version} is not on the registry after 10 minutes\n`);
		process.exit(1);
	}
	await sleep(30_000);
}
const result = await analyzePackageByName(packageName, version);
if (result.passed) {
	process.stdout.write(`${packageName}@${result.version}: provenance and n8n's scanner passed\n`);
} else {
	process.stdout.write(`${packageName}@${result.version}: n8n's check failed: ${result.message}\n${result.details ?? ''}\n`);
	process.exitCode = 1;
}
