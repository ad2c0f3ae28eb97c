/**
 * Installs the packed package the way n8n's community-package installer does
 * (CommunityPackagesService.downloadPackage in n8n 1.123 and 2.35): the tarball unpacked into
 * `<user folder>/.n8n/nodes/node_modules/<package>`, its package.json without dev/peer/optional
 * dependencies, and the package recorded in `.n8n/nodes/package.json`. At start-up n8n's
 * community-packages module scans that node_modules for `n8n-nodes-*` and loads each package's
 * `n8n.nodes` and `n8n.credentials`, as node types `<package>.<node>`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PACKAGE_NAME = 'n8n-nodes-keycrate';

interface PackageManifest {
	name: string;
	version: string;
	dependencies?: Record<string, string>;
	[field: string]: unknown;
}

/** What n8n's installer drops from the unpacked package.json before its `npm install`. */
const STRIPPED_FIELDS = ['devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

/** The community-package folder of a user folder (N8N_USER_FOLDER): n8n's InstanceSettings.nodesDownloadDir. */
export const nodesFolder = (userFolder: string): string => join(userFolder, '.n8n', 'nodes');

export const installedPackageDir = (userFolder: string): string => join(nodesFolder(userFolder), 'node_modules', PACKAGE_NAME);

/** Unpacks `tarball` (from `npm pack`) into the user folder's community-package folder; returns the package dir. */
export function installCommunityPackage(tarball: string, userFolder: string): string {
	const packageDir = installedPackageDir(userFolder);
	mkdirSync(packageDir, { recursive: true });
	execFileSync('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);

	const manifestFile = join(packageDir, 'package.json');
	const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as PackageManifest;
	for (const field of STRIPPED_FIELDS) delete manifest[field];
	if (manifest.name !== PACKAGE_NAME) throw new Error(`${tarball} holds ${manifest.name}, expected ${PACKAGE_NAME}`);
	// n8n would now run `npm install` in the package dir; a verified community package has nothing to install.
	if (Object.keys(manifest.dependencies ?? {}).length > 0) {
		throw new Error(`${PACKAGE_NAME} declares runtime dependencies (${Object.keys(manifest.dependencies ?? {}).join(', ')}); community nodes must have none`);
	}
	writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
	writeFileSync(
		join(nodesFolder(userFolder), 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [PACKAGE_NAME]: manifest.version } }, null, 2),
	);
	return packageDir;
}
