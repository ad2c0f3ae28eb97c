// Runs n8n's community-package scanner (@n8n/scan-community-package, installed here apart from the
// package: see package.json) the way n8n's verification does, on both of its legs:
//   source:  the repository's package.json and nodes/, credentials/ (SOURCE_FILE_PATTERNS)
//   tarball: the compiled .js and package.json of the tarball `npm pack` makes
// Usage: node test/node/n8n-tools/scan.mjs <unpacked tarball dir> [<source dir>]
// Prints one JSON object { source, tarball }, each { passed, message, details }.
import { stripVTControlCharacters } from 'node:util';
import { analyzePackage, SOURCE_FILE_PATTERNS } from '@n8n/scan-community-package/scanner/scanner.mjs';

const [tarballDir, sourceDir] = process.argv.slice(2);
if (!tarballDir) {
	process.stderr.write('usage: node scan.mjs <unpacked tarball dir> [<source dir>]\n');
	process.exit(2);
}
const strip = ({ passed, message, details }) => ({ passed, message, details: typeof details === 'string' ? stripVTControlCharacters(details) : details });
const source = strip(await analyzePackage(sourceDir ?? new URL('../../..', import.meta.url).pathname, SOURCE_FILE_PATTERNS));
const tarball = strip(await analyzePackage(tarballDir, ['**/*.js', 'package.json']));
process.stdout.write(`${JSON.stringify({ source, tarball })}\n`);
