/**
 * The Keycrate package as a user meets it in n8n's editor, in Debian's Chromium driven by playwright-core.
 * Run by test/e2e/editor/run.sh (`npm run e2e:screenshots`), which installs the n8n runtime and packs the
 * package first.
 *
 * A throw-away n8n (`n8n start`) gets the packed package in its community-package folder, a credential for
 * the Keycrate emulator and one workflow with a node per operation; the owner is set up through the REST
 * API. In the browser: the nodes panel searched for "Keycrate" as a first step (trigger view) and after a
 * Manual Trigger ("What happens next?"), the node's action list, then each operation's panel. Everything it
 * saw goes to out/<n8n version>/ (report.json, one PNG per view); the panel named by DOCS_SCREENSHOT is
 * copied to docs/.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { EmulatorUnderTest } from '../support/emulator';
import { LOGIN, N8nInstance, OWNER, e2eEnvironment } from '../support/n8n';
import { describePackedPackage, type PackedPackage } from '../support/package';
import { KEYCRATE_CREDENTIAL_TYPE, KEYCRATE_NODE_TYPE, KEYCRATE_TRIGGER_NODE_TYPE, type WorkflowJson, type WorkflowNodeJson } from '../support/workflows';

const REPO_DIR = resolve(__dirname, '../../..');
const CHROMIUM = process.env.KEYCRATE_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** The operation whose panel goes into the README, and where. */
const DOCS_SCREENSHOT = { resource: 'license', operation: 'create', file: join(REPO_DIR, 'docs', 'n8n-keycrate-node-panel.png') };
const CREDENTIAL = { id: 'kcShotCredMain01', name: 'Keycrate account' };
const WORKFLOW_ID = 'kcShotPanels0001';
const VIEWPORT = { width: 1440, height: 900 };
const UI_TIMEOUT_MS = 30_000;

// What a headless Chromium needs on a machine whose network is closed (no background fetches, no QUIC).
const CHROMIUM_FLAGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

interface PanelSeen {
	node: string;
	resource: string;
	operation: string;
	/** The panel's visible text (parameter labels, hints, notices), one line per line. */
	text: string[];
	screenshot: string;
}

interface Report {
	n8nVersion: string;
	/** The nodes panel searched for "Keycrate" as a workflow's first step. */
	searchAsFirstStep: string[];
	/** The same search after a Manual Trigger ("What happens next?"). */
	searchAfterTrigger: string[];
	/** The nodes panel's text once the Keycrate entry is chosen (after a trigger), headers included. */
	keycrateActions: string[];
	panels: PanelSeen[];
}

/** One workflow: a Manual Trigger, a Keycrate node per operation the packed node lists, and the trigger node. */
function panelsWorkflow(packed: PackedPackage): { workflow: WorkflowJson; panels: Array<{ node: WorkflowNodeJson; resource: string; operation: string }> } {
	const action = packed.nodes.find((node) => node.name === 'keycrate');
	const trigger = packed.nodes.find((node) => node.name === 'keycrateTrigger');
	if (!action || !trigger) throw new Error('the packed package lacks the keycrate or keycrateTrigger node');
	const version = (node: { version: number | number[] }) => (Array.isArray(node.version) ? Math.max(...node.version) : node.version);
	const credentials = { [KEYCRATE_CREDENTIAL_TYPE]: CREDENTIAL };
	const start: WorkflowNodeJson = { id: randomUUID(), name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
	// Named as n8n names a node added from its action list ("Create a license").
	const panels = action.operations.map(
		({ resource, operation, name, action: actionText }, index): { node: WorkflowNodeJson; resource: string; operation: string } => ({
			resource,
			operation,
			node: {
				id: randomUUID(),
				name: actionText ?? `${resource}: ${name}`,
				type: KEYCRATE_NODE_TYPE,
				typeVersion: version(action),
				position: [300 + 260 * Math.floor(index / 6), 160 * (index % 6)] as [number, number],
				parameters: { resource, operation },
				credentials,
			},
		}),
	);
	const triggerNode: WorkflowNodeJson = {
		id: randomUUID(),
		name: trigger.displayName,
		type: KEYCRATE_TRIGGER_NODE_TYPE,
		typeVersion: version(trigger),
		position: [0, 400],
		parameters: {},
		credentials,
	};
	panels.push({ resource: 'trigger', operation: 'default', node: triggerNode });
	const workflow: WorkflowJson = {
		id: WORKFLOW_ID,
		name: 'Keycrate: every operation',
		active: false,
		nodes: [start, ...panels.map(({ node }) => node)],
		connections: {
			[start.name]: {
				main: [panels.filter(({ resource }) => resource !== 'trigger').map(({ node }) => ({ node: node.name, type: 'main' as const, index: 0 }))],
			},
		},
		settings: { executionOrder: 'v1' },
	};
	return { workflow, panels };
}

/** The editor's own controls, not the node's text. */
const EDITOR_CHROME = new Set(['Fixed', 'Expression', 'I wish this node would...']);
const lines = (text: string): string[] =>
	text
		.split('\n')
		.map((line) => line.trim())
		.filter((line) => line !== '' && !EDITOR_CHROME.has(line));

/** The owner set up and logged in through the REST API; the browser context keeps the auth cookie. */
async function setUpOwner(context: BrowserContext, url: string): Promise<void> {
	const setup = await context.request.post(`${url}/rest/owner/setup`, { data: OWNER });
	if (!setup.ok()) throw new Error(`owner setup: HTTP ${setup.status()} ${await setup.text()}`);
	const login = await context.request.post(`${url}/rest/login`, { data: LOGIN });
	if (!login.ok()) throw new Error(`login: HTTP ${login.status()} ${await login.text()}`);
}

/** Waits for the canvas of the page's workflow; closes whatever modal n8n greets a new owner with. */
async function openCanvas(page: Page, url: string): Promise<void> {
	await page.goto(url);
	await page.locator('[data-test-id="canvas-wrapper"], [data-test-id="node-view-root"]').first().waitFor({ timeout: UI_TIMEOUT_MS });
	await page.keyboard.press('Escape');
}

/** Resolves once the element has kept the same box for two animation frames (a panel done sliding in). */
async function settled(locator: Locator): Promise<void> {
	let previous = '';
	for (;;) {
		const box = JSON.stringify(await locator.boundingBox());
		if (box === previous && box !== 'null') return;
		previous = box;
		// Runs in the page (a string: this file is not compiled against the DOM's types).
		await locator.page().evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
	}
}

/** Types `query` into the open nodes panel; the entries once the results name it. */
async function searchNodesPanel(page: Page, query: string): Promise<string[]> {
	const search = page.locator('[data-test-id="node-creator-search-bar"]');
	await search.waitFor();
	await search.fill(query);
	const items = page.locator('[data-test-id="item-iterator-item"]');
	await items.filter({ hasText: query }).first().waitFor();
	await settled(page.locator('[data-test-id="node-creator"]').first());
	return (await items.allInnerTexts()).map((text) => lines(text).join(' — '));
}

async function main(): Promise<void> {
	const e2e = e2eEnvironment();
	const outDir = join(__dirname, 'out', e2e.n8nVersion);
	rmSync(outDir, { recursive: true, force: true });
	mkdirSync(outDir, { recursive: true });
	const shot = (name: string) => join(outDir, `${name}.png`);

	const emulator = await EmulatorUnderTest.start();
	const n8n = await N8nInstance.create(e2e, 'editor');
	const packed = await describePackedPackage(e2e, n8n.packageDir);
	await n8n.importCredentials([
		{ ...CREDENTIAL, type: KEYCRATE_CREDENTIAL_TYPE, data: { apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId } },
	]);
	const { workflow, panels } = panelsWorkflow(packed);
	await n8n.importWorkflows([workflow]);
	const server = await n8n.startServer();
	const userDataDir = mkdtempSync(join(tmpdir(), 'keycrate-chromium-'));
	let context: BrowserContext | undefined;
	try {
		context = await chromium.launchPersistentContext(userDataDir, {
			executablePath: CHROMIUM,
			headless: true,
			args: CHROMIUM_FLAGS,
			viewport: VIEWPORT,
		});
		context.setDefaultTimeout(UI_TIMEOUT_MS);
		await setUpOwner(context, server.url);
		const page = context.pages()[0] ?? (await context.newPage());
		const report: Report = { n8nVersion: e2e.n8nVersion, searchAsFirstStep: [], searchAfterTrigger: [], keycrateActions: [], panels: [] };

		// A new workflow: the first step must be a trigger.
		await openCanvas(page, `${server.url}/workflow/new`);
		await page.locator('[data-test-id="canvas-add-button"]').first().click();
		report.searchAsFirstStep = await searchNodesPanel(page, 'Keycrate');
		await page.screenshot({ path: shot('nodes-panel-first-step') });

		// After a trigger: "What happens next?"
		await openCanvas(page, `${server.url}/workflow/${WORKFLOW_ID}`);
		await page.locator('[data-test-id="node-creator-plus-button"]').first().click();
		report.searchAfterTrigger = await searchNodesPanel(page, 'Keycrate');
		await page.screenshot({ path: shot('nodes-panel-after-trigger') });
		await page.locator('[data-test-id="item-iterator-item"]').filter({ hasText: 'Keycrate' }).first().click();
		const actions = page.locator('[data-test-id="node-creator-action-item"]');
		await actions.first().waitFor();
		await settled(page.locator('[data-test-id="node-creator"]').first());
		// The triggers' section starts folded: open it, then read the whole list with its section headers.
		const triggers = page.locator('[data-test-id="node-creator"]').getByText(/^Triggers \(\d+\)$/);
		if ((await triggers.count()) > 0) {
			await triggers.first().click();
			await settled(page.locator('[data-test-id="node-creator"]').first());
		}
		report.keycrateActions = lines(await page.locator('[data-test-id="node-creator"]').first().innerText());
		await page.screenshot({ path: shot('nodes-panel-keycrate-actions') });

		// Each operation's panel, opened by its URL (/workflow/<id>/<node id>).
		for (const { node, resource, operation } of panels) {
			await page.goto(`${server.url}/workflow/${WORKFLOW_ID}/${node.id}`);
			const parameters = page.locator('[data-test-id="node-parameters"]').first();
			await parameters.waitFor();
			// Parameters that load options (the tier list) settle after the first paint.
			await page.waitForLoadState('networkidle');
			const screenshot = shot(`panel-${resource}-${operation}`);
			await page.screenshot({ path: screenshot });
			report.panels.push({ node: node.name, resource, operation, text: lines(await parameters.innerText()), screenshot });
			if (resource === DOCS_SCREENSHOT.resource && operation === DOCS_SCREENSHOT.operation) {
				mkdirSync(join(REPO_DIR, 'docs'), { recursive: true });
				copyFileSync(screenshot, DOCS_SCREENSHOT.file);
			}
		}

		writeFileSync(join(outDir, 'report.json'), JSON.stringify(report, null, 2));
		printReport(report, outDir);
	} catch (error) {
		// What the browser showed when a step failed.
		const page = context?.pages()[0];
		if (page) {
			await page.screenshot({ path: shot('failure') }).catch(() => undefined);
			writeFileSync(join(outDir, 'failure.html'), await page.content().catch(() => ''));
			process.stderr.write(`failed at ${page.url()}; see ${shot('failure')} and failure.html\n`);
		}
		throw error;
	} finally {
		await context?.close();
		await server.stop();
		await emulator.stop();
		rmSync(userDataDir, { recursive: true, force: true });
	}
}

function printReport(report: Report, outDir: string): void {
	const out = (line = '') => process.stdout.write(`${line}\n`);
	out(`n8n ${report.n8nVersion}: nodes panel, search "Keycrate"`);
	out('  as the first step:');
	for (const entry of report.searchAsFirstStep) out(`    ${entry}`);
	out('  after a trigger ("What happens next?"):');
	for (const entry of report.searchAfterTrigger) out(`    ${entry}`);
	out(`  the Keycrate entry, opened:`);
	for (const entry of report.keycrateActions) out(`    ${entry}`);
	out(`panels (${report.panels.length}):`);
	for (const panel of report.panels) out(`  ${panel.node}: ${panel.text.slice(0, 12).join(' | ')}`);
	out();
	out(`screenshots and report.json: ${outDir}`);
	out(`README screenshot: ${DOCS_SCREENSHOT.file}`);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
	process.exit(1);
});
