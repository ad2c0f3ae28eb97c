/**
 * Drives a real n8n (one of the runtimes pinned in test/e2e/n8n-runtimes) through its CLI: import credentials
 * and workflows, `n8n execute` them, and read what each node output.
 *
 * Every command runs as a child process WITHOUT blocking this process: the emulator lives in the jest
 * process and must keep answering while n8n calls it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { installCommunityPackage } from './community-package';
import type { ExampleWorkflow } from './examples';
import type { WorkflowJson } from './workflows';
import { waitFor } from '../../../worker/test/support/wait';

export interface E2eEnvironment {
	/** Node 22 binary from the runtime install. */
	node: string;
	/** n8n's bin/n8n script. */
	n8nBin: string;
	/** The runtime's n8n version, e.g. 1.123.79. */
	n8nVersion: string;
	/** The package tarball from `npm pack`. */
	tarball: string;
	workDir: string;
}

/** What run.sh exported; a clear failure when jest is started some other way. */
export function e2eEnvironment(): E2eEnvironment {
	const names = ['KEYCRATE_E2E_NODE', 'KEYCRATE_E2E_N8N', 'KEYCRATE_E2E_N8N_VERSION', 'KEYCRATE_E2E_TARBALL', 'KEYCRATE_E2E_WORK_DIR'] as const;
	const missing = names.filter((name) => !process.env[name]);
	if (missing.length > 0) {
		throw new Error(`${missing.join(', ')} not set: run the e2e suite with \`npm run test:e2e\` (test/e2e/run.sh)`);
	}
	return {
		node: process.env.KEYCRATE_E2E_NODE!,
		n8nBin: process.env.KEYCRATE_E2E_N8N!,
		n8nVersion: process.env.KEYCRATE_E2E_N8N_VERSION!,
		tarball: process.env.KEYCRATE_E2E_TARBALL!,
		workDir: process.env.KEYCRATE_E2E_WORK_DIR!,
	};
}

/** The n8n major version of a runtime ("2.35.1" → 2). */
export const majorVersion = (version: string): number => Number.parseInt(version, 10);

export interface CommandResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

export interface NodeItem {
	json: Record<string, unknown>;
	pairedItem?: { item: number } | Array<{ item: number }>;
}

interface NodeRun {
	executionStatus?: string;
	error?: { message?: string };
	data?: { main: Array<NodeItem[] | null> };
}

/** The IRun that `n8n execute --rawOutput` prints. */
export interface ExecutionOutput {
	finished?: boolean;
	status?: string;
	data: { resultData: { runData: Record<string, NodeRun[]>; lastNodeExecuted?: string; error?: unknown } };
}

export class ExecutionResult {
	constructor(
		readonly output: ExecutionOutput,
		readonly stdout: string,
	) {}

	/** Names of the nodes that ran, in the workflow's run data. */
	get executedNodes(): string[] {
		return Object.keys(this.output.data.resultData.runData);
	}

	/** The items a node emitted on its first output in its (only) run. */
	items(nodeName: string): NodeItem[] {
		const runs = this.output.data.resultData.runData[nodeName];
		if (!runs) throw new Error(`node "${nodeName}" did not run; ran: ${this.executedNodes.join(', ')}`);
		return runs[0]?.data?.main[0] ?? [];
	}

	json(nodeName: string): Array<Record<string, unknown>> {
		return this.items(nodeName).map((item) => item.json);
	}

	first(nodeName: string): Record<string, unknown> {
		const [item] = this.json(nodeName);
		if (!item) throw new Error(`node "${nodeName}" emitted no items`);
		return item;
	}
}

const COMMAND_TIMEOUT_MS = 150_000;
const SERVER_START_TIMEOUT_MS = 180_000;

export interface N8nServer {
	url: string;
	/** The runtime's bin/n8n (its modules, e.g. flatted, are n8n's own). */
	n8nBin: string;
	stop(): Promise<void>;
}

/** The instance owner the suite sets up through n8n's REST API (n8n's password rules: 8+ chars, a digit, a capital). */
export const OWNER = { email: 'owner@example.com', firstName: 'Kim', lastName: 'Owner', password: 'Keycrate-e2e-1' };
/** POST /rest/login's body for the owner (1.123 and 2.35). */
export const LOGIN = { emailOrLdapLoginId: OWNER.email, password: OWNER.password };

/** n8n's REST API (/rest) as the owner: set up on first use, then authenticated by the n8n-auth cookie. */
export class OwnerSession {
	private constructor(
		private readonly url: string,
		private readonly cookie: string,
		private readonly n8nBin: string,
	) {}

	/** Sets the owner up (a no-op, or a 400, on an instance set up before), then logs in. */
	static async setUp(server: N8nServer): Promise<OwnerSession> {
		const post = (path: string, body: object) =>
			fetch(`${server.url}/rest${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		// n8n 2.35 can answer its health check before the REST routes are mounted (404 "Cannot POST"): ask again.
		let setup = await post('/owner/setup', OWNER);
		for (let waited = 0; setup.status === 404 && waited < 30000; waited += 500) {
			await new Promise((resolve) => setTimeout(resolve, 500));
			setup = await post('/owner/setup', OWNER);
		}
		if (!setup.ok && setup.status !== 400) throw new Error(`owner setup: HTTP ${setup.status} ${await setup.text()}`);
		// Logging in rather than keeping setup's cookie: n8n 2.35's setup does not always set one. On a loaded
		// machine the login route can still be missing (1.123: 404), the owner not yet known (2.35: 401 right
		// after setup) or the answer without the cookie (2.35): ask again, for up to 30 s.
		const cookieOf = (response: Response) =>
			response.headers
				.getSetCookie()
				.map((line) => line.split(';')[0])
				.find((pair) => pair.startsWith('n8n-auth='));
		let login = await post('/login', LOGIN);
		for (let waited = 0; ([401, 404].includes(login.status) || (login.ok && !cookieOf(login))) && waited < 30000; waited += 500) {
			await new Promise((resolve) => setTimeout(resolve, 500));
			login = await post('/login', LOGIN);
		}
		if (!login.ok) throw new Error(`login: HTTP ${login.status} ${await login.text()}`);
		const cookie = cookieOf(login);
		if (!cookie) throw new Error('n8n answered the login without an n8n-auth cookie');
		return new OwnerSession(server.url, cookie, server.n8nBin);
	}

	async get<T>(path: string): Promise<T> {
		const response = await fetch(`${this.url}/rest${path}`, { headers: { cookie: this.cookie } });
		if (!response.ok) throw new Error(`GET /rest${path}: HTTP ${response.status} ${await response.text()}`);
		return ((await response.json()) as { data: T }).data;
	}

	async post<T>(path: string, body: unknown): Promise<T> {
		const response = await fetch(`${this.url}/rest${path}`, {
			method: 'POST',
			headers: { cookie: this.cookie, 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		if (!response.ok) throw new Error(`POST /rest${path}: HTTP ${response.status} ${await response.text()}`);
		return ((await response.json()) as { data: T }).data;
	}

	/** The executions of a workflow, newest first (status: success, error, running, …). */
	async executions(workflowId: string): Promise<Array<{ id: string; status: string; finished?: boolean }>> {
		const filter = encodeURIComponent(JSON.stringify({ workflowId }));
		const { results } = await this.get<{ results: Array<{ id: string; status: string; finished?: boolean }> }>(`/executions?filter=${filter}&limit=100`);
		return results;
	}

	/** One execution with its run data (GET /rest/executions/:id; 1.123 and 2.35 send it flatted, read with n8n's own flatted). */
	async execution(id: string): Promise<ExecutionResult> {
		const execution = await this.get<{ status: string; finished?: boolean; data: unknown }>(`/executions/${id}`);
		const { parse } = createRequire(this.n8nBin)('flatted') as { parse: (text: string) => unknown };
		const data = (typeof execution.data === 'string' ? parse(execution.data) : execution.data) as ExecutionOutput['data'];
		return new ExecutionResult({ status: execution.status, finished: execution.finished, data }, '');
	}
}

/** How long a running n8n may take to act on an activated trigger or a webhook call. */
export const ACTIVATED_RUN_TIMEOUT_MS = 90_000;

/** waitFor (the tests' one polling helper) with the time a running n8n may take. */
export async function sleepUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = ACTIVATED_RUN_TIMEOUT_MS): Promise<void> {
	await waitFor(condition, { what, timeoutMs, intervalMs: 200 });
}

/** Waits until the workflow has `count` executions in this running n8n and none still running. */
export async function executionsSettled(owner: OwnerSession, workflowId: string, count: number): Promise<void> {
	await sleepUntil(`${count} finished executions of ${workflowId}`, async () => {
		const executions = await owner.executions(workflowId);
		return executions.length >= count && executions.every((execution) => !['new', 'running', 'waiting'].includes(execution.status));
	});
}

/**
 * Resolves once a running n8n has registered the production webhook at `url` (for `method`): until then
 * n8n answers 404, which a sender such as the worker takes as a refusal. Asks with a CORS preflight
 * (OPTIONS), which n8n answers from its webhook registry without running the workflow.
 */
export async function webhookRegistered(url: string, method = 'POST'): Promise<void> {
	await sleepUntil(`the webhook ${url}`, async () => {
		const response = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1', 'access-control-request-method': method } }).catch(
			() => undefined,
		);
		return response !== undefined && response.status !== 404;
	});
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

/** n8n's environment for a throw-away instance: offline and quiet, no telemetry, update checks or banners. */
function n8nEnvironment(userFolder: string, taskBrokerPort: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	return {
		PATH: process.env.PATH,
		HOME: process.env.HOME,
		TMPDIR: process.env.TMPDIR,
		// n8n must reach the emulator on loopback directly, whatever proxy the machine has.
		NO_PROXY: '127.0.0.1,localhost',
		N8N_USER_FOLDER: userFolder,
		// Set here so that imported credentials are encrypted with a key we know, not one n8n invents.
		N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
		GENERIC_TIMEZONE: 'UTC',
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		// n8n 1.x: no task-runner child process (only the Code node needs it). 2.x always starts one, with a
		// broker on a port of its own, so that two instances (or two e2e runs) never collide on 5679.
		N8N_RUNNERS_ENABLED: 'false',
		N8N_RUNNERS_BROKER_PORT: String(taskBrokerPort),
		// Community packages on, as for a user who installed ours; nothing is reinstalled from the registry.
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		...extra,
	};
}

/** One throw-away n8n instance: its own user folder (with the package installed), database and encryption key. */
export class N8nInstance {
	readonly userFolder: string;
	/** Where the package was installed: `<user folder>/.n8n/nodes/node_modules/n8n-nodes-keycrate`. */
	readonly packageDir: string;
	/** Everything every n8n command printed, in order: for failure messages and the no-secrets check. */
	readonly transcriptFile: string;
	private readonly env: NodeJS.ProcessEnv;
	private importCount = 0;
	private commandCount = 0;

	private constructor(
		private readonly e2e: E2eEnvironment,
		name: string,
		taskBrokerPort: number,
	) {
		this.userFolder = join(e2e.workDir, name);
		mkdirSync(this.userFolder, { recursive: true });
		this.packageDir = installCommunityPackage(e2e.tarball, this.userFolder);
		this.transcriptFile = join(this.userFolder, 'n8n-output.log');
		// `execute` prints its result through n8n's logger at level info, so logs stay on the console
		// (a file would swallow the result); parseExecutionOutput finds the JSON among them.
		this.env = n8nEnvironment(this.userFolder, taskBrokerPort, { N8N_LOG_OUTPUT: 'console', N8N_LOG_LEVEL: 'info' });
	}

	/** A new user folder under the work dir, with the packed package installed as a community package. */
	static async create(e2e: E2eEnvironment, name: string): Promise<N8nInstance> {
		return new N8nInstance(e2e, name, await freePort());
	}

	/**
	 * `n8n start` on a loopback port (a free one unless given), resolved once n8n's REST API answers. The
	 * server's output goes to `n8n-server.log` in the user folder.
	 */
	async startServer(port?: number): Promise<N8nServer> {
		port ??= await freePort();
		const url = `http://127.0.0.1:${port}`;
		const log = createWriteStream(join(this.userFolder, 'n8n-server.log'));
		const child = spawn(this.e2e.node, [this.e2e.n8nBin, 'start'], {
			env: {
				...this.env,
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_HOST: '127.0.0.1',
				N8N_EDITOR_BASE_URL: url,
				// Plain http on loopback: the auth cookie must not require https.
				N8N_SECURE_COOKIE: 'false',
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		child.stdout.pipe(log);
		child.stderr.pipe(log);
		let exited: string | undefined;
		child.on('exit', (code, signal) => (exited = `n8n start exited (${signal ?? code}); see ${join(this.userFolder, 'n8n-server.log')}`));
		const stop = () =>
			new Promise<void>((resolve) => {
				if (exited !== undefined) return resolve();
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
				setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
			});
		const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
		for (;;) {
			if (exited !== undefined) throw new Error(exited);
			// /healthz/readiness answers before 1.x has mounted its REST routes; /rest/settings needs them.
			const ready = await fetch(`${url}/rest/settings`).then(
				(response) => response.ok,
				() => false,
			);
			if (ready) return { url, n8nBin: this.e2e.n8nBin, stop };
			if (Date.now() > deadline) {
				await stop();
				throw new Error(`n8n start did not become ready within ${SERVER_START_TIMEOUT_MS / 1000} s`);
			}
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}

	/**
	 * Runs `n8n <args>`; never throws, the caller decides what a failure means. Its output goes to files, not
	 * pipes: n8n 2.x exits (process.exit) right after printing, and a pipe's pending writes are lost then (a
	 * 2,500-item --rawOutput arrived cut off), while a file's writes are synchronous.
	 */
	run(args: string[]): Promise<CommandResult> {
		const base = join(this.userFolder, `command-${++this.commandCount}`);
		const out = openSync(`${base}.out`, 'w');
		const err = openSync(`${base}.err`, 'w');
		return new Promise((resolve, reject) => {
			const child = spawn(this.e2e.node, [this.e2e.n8nBin, ...args], {
				env: this.env,
				stdio: ['ignore', out, err],
				// A hung n8n must not outlive the test (jest's own timeout would leave it running).
				timeout: COMMAND_TIMEOUT_MS,
				killSignal: 'SIGKILL',
			});
			child.on('error', (error) => {
				closeSync(out);
				closeSync(err);
				reject(error);
			});
			child.on('close', (code) => {
				closeSync(out);
				closeSync(err);
				const result = { code, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8') };
				appendFileSync(this.transcriptFile, `$ n8n ${args.join(' ')}\n${result.stdout}${result.stderr}[exit ${code}]\n`);
				resolve(result);
			});
		});
	}

	/** Everything n8n printed so far. */
	transcript(): string {
		return existsSync(this.transcriptFile) ? readFileSync(this.transcriptFile, 'utf8') : '';
	}

	private async runOrThrow(args: string[]): Promise<CommandResult> {
		const result = await this.run(args);
		if (result.code !== 0) {
			throw new Error(`n8n ${args[0]} exited with ${result.code}\n${tail(result.stdout)}\n${tail(result.stderr)}`);
		}
		return result;
	}

	private writeImportFile(kind: string, content: unknown): string {
		const file = join(this.userFolder, `import-${kind}-${++this.importCount}.json`);
		writeFileSync(file, JSON.stringify(content, null, 2));
		return file;
	}

	/** `data` as a plain object: n8n 1.123's import encrypts it with N8N_ENCRYPTION_KEY. */
	async importCredentials(credentials: Array<{ id: string; name: string; type: string; data: Record<string, unknown> }>): Promise<void> {
		await this.runOrThrow(['import:credentials', `--input=${this.writeImportFile('credentials', credentials)}`]);
	}

	/** `n8n import:workflow`: the suite's workflows, or an example file's content as it is. */
	async importWorkflows(workflows: Array<WorkflowJson | ExampleWorkflow>): Promise<void> {
		await this.runOrThrow(['import:workflow', `--input=${this.writeImportFile('workflows', workflows)}`]);
	}

	/** Marks a workflow active, so that `n8n start` activates its trigger (1.x: update:workflow; 2.x: publish:workflow). */
	async activate(workflowId: string): Promise<void> {
		const args =
			majorVersion(this.e2e.n8nVersion) >= 2 ? ['publish:workflow', `--id=${workflowId}`] : ['update:workflow', `--id=${workflowId}`, '--active=true'];
		await this.runOrThrow(args);
	}

	/** The reverse of activate (1.x: update:workflow --active=false; 2.x: unpublish:workflow). */
	async deactivate(workflowId: string): Promise<void> {
		const args =
			majorVersion(this.e2e.n8nVersion) >= 2 ? ['unpublish:workflow', `--id=${workflowId}`] : ['update:workflow', `--id=${workflowId}`, '--active=false'];
		await this.runOrThrow(args);
	}

	/** `n8n execute --id … --rawOutput`; throws with n8n's log when the execution fails. */
	async execute(workflowId: string): Promise<ExecutionResult> {
		const result = await this.run(['execute', `--id=${workflowId}`, '--rawOutput']);
		const output = parseExecutionOutput(result.stdout);
		// n8n 2.35's execute sometimes ends by a signal (exit code null) seconds after printing a finished, successful
		// run (seen under load, on workflows that pass otherwise): the run it printed is the result.
		const endedAfterSuccess = result.code === null && output?.finished === true && output.status === 'success';
		if ((result.code !== 0 && !endedAfterSuccess) || !output) {
			throw new ExecutionFailed(workflowId, result);
		}
		return new ExecutionResult(output, result.stdout);
	}
}

export class ExecutionFailed extends Error {
	constructor(
		readonly workflowId: string,
		readonly result: CommandResult,
	) {
		super(`n8n execute --id=${workflowId} failed (exit ${result.code})\n${tail(result.stdout)}\n${tail(result.stderr)}`);
	}
}

/** The last lines of a command's output: enough to see n8n's error, short enough to read. */
function tail(text: string, lines = 40): string {
	return text.split('\n').slice(-lines).join('\n');
}

/**
 * --rawOutput prints JSON.stringify(run, null, 2) through the logger, between other log lines: the JSON
 * runs from the first line that is exactly `{` to the last line that is exactly `}`.
 */
export function parseExecutionOutput(stdout: string): ExecutionOutput | undefined {
	const lines = stdout.split('\n');
	const first = lines.indexOf('{');
	const last = lines.lastIndexOf('}');
	if (first < 0 || last <= first) return undefined;
	try {
		return JSON.parse(lines.slice(first, last + 1).join('\n')) as ExecutionOutput;
	} catch {
		return undefined;
	}
}
