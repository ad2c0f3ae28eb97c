// Runs the keycrate-worker CLI from source (node --import tsx) as a child process, with a clean environment.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const CLI_PATH = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const WORKER_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Only what a process needs to run: no REDIS_URL, LOG_LEVEL… leaking in from the test's own environment. */
function cleanEnv(env: Record<string, string>): Record<string, string> {
	return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
}

export interface CliRun {
	child: ChildProcess;
	output(): { stdout: string; stderr: string };
	/** Resolves with the first stdout JSON log line whose msg equals `msg`. */
	waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
	exited: Promise<number | null>;
}

export function spawnCli(args: string[], env: Record<string, string>): CliRun {
	const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, ...args], {
		cwd: WORKER_DIR,
		env: cleanEnv(env),
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
	child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

	function waitForLog(msg: string, timeoutMs = 15000): Promise<Record<string, unknown>> {
		return waitFor(
			() => {
				for (const line of stdout.split('\n')) {
					if (!line.startsWith('{')) continue;
					const entry = JSON.parse(line) as Record<string, unknown>;
					if (entry.msg === msg) return entry;
				}
				if (child.exitCode !== null) throw new Error(`CLI exited (${child.exitCode}) before logging "${msg}": ${stderr}`);
				return undefined;
			},
			{ what: () => `log "${msg}"; stdout: ${stdout} stderr: ${stderr}`, timeoutMs },
		);
	}

	return { child, output: () => ({ stdout, stderr }), waitForLog, exited };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const run = spawnCli(args, env);
	const code = await run.exited;
	return { code, ...run.output() };
}
