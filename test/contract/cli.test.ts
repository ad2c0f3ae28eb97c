import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseCli, UsageError } from '../../emulator/src/cli';

const root = resolve(__dirname, '../..');
const tsx = resolve(root, 'node_modules/tsx/dist/cli.mjs');
const cliSource = resolve(root, 'emulator/src/cli.ts');
const APP_ID = '11111111-2222-4333-8444-555555555555';
const API_KEY = 'kc_0123456789abcdef0123456789abcdef';

describe('parseCli', () => {
	test('flags win over the environment', () => {
		const options = parseCli(['--port', '9000', '--latency-ms', '25', '--app-id', APP_ID], {
			KEYCRATE_EMULATOR_PORT: '1234',
			KEYCRATE_EMULATOR_APP_ID: '99999999-2222-4333-8444-555555555555',
			KEYCRATE_EMULATOR_API_KEY: API_KEY,
		});
		expect(options).toMatchObject({ port: 9000, latencyMs: 25, host: '127.0.0.1', apps: [{ app_id: APP_ID, api_key: API_KEY }], help: false });
	});

	test('defaults: port 8787, a generated app id and kc_ key', () => {
		const options = parseCli([], {});
		expect(options.port).toBe(8787);
		expect(options.apps?.[0].api_key).toMatch(/^kc_[0-9a-f]{32}$/);
	});

	test.each([
		[['--port', 'eighty'], '--port must be an integer from 0 to 65535, got "eighty"'],
		[['--port', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
		[['--latency-ms=-5'], '--latency-ms must be an integer from 0 to 600000, got "-5"'],
		[['--app-id', 'app-1'], '--app-id must be a UUID, got "app-1"'],
		[['--api-key', 'sk_live_123'], '--api-key must start with kc_ followed by at least 8 letters, digits, _ or -'],
		[['--colour'], "Unknown option '--colour'"],
	])('%j is refused: %s', (argv, message) => {
		expect(() => parseCli(argv, {})).toThrow(new UsageError(message));
	});

	test('the API key error never echoes the key', () => {
		expect(() => parseCli(['--api-key', 'sk_live_secret'], {})).toThrow(expect.objectContaining({ message: expect.not.stringContaining('sk_live_secret') }));
	});
});

describe('the CLI process', () => {
	test('bad flags: one clear line (plus usage) and exit 2', () => {
		const run = spawnSync(process.execPath, [tsx, cliSource, '--port', 'x'], { encoding: 'utf8' });
		expect(run.status).toBe(2);
		expect(run.stderr.split('\n')[0]).toBe('keycrate-emulator: --port must be an integer from 0 to 65535, got "x"');
	});

	test('prints its URL, app id and key, answers with that key, and stops on SIGTERM', async () => {
		const child = spawn(process.execPath, [tsx, cliSource, '--port', '0'], {
			env: { ...process.env, KEYCRATE_EMULATOR_APP_ID: APP_ID, KEYCRATE_EMULATOR_API_KEY: API_KEY },
		});
		let output = '';
		const banner = await new Promise<string>((resolveBanner, reject) => {
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				if (output.includes('API key:')) resolveBanner(output);
			});
			child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
		});
		const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
		expect(banner).toContain(`app id:  ${APP_ID}`);
		expect(banner).toContain(`API key: ${API_KEY}`);
		const reply = await fetch(`${url}/license/get-bulk`, {
			method: 'POST',
			headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
			body: JSON.stringify({ app_id: APP_ID }),
		});
		expect(reply.status).toBe(200);
		const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
		child.kill('SIGTERM');
		expect(await exited).toBe(0);
	});
});
