#!/usr/bin/env node
/** `npm run emulator -- --port 8787 [--host H] [--latency-ms N] [--app-id UUID] [--api-key kc_…]` */
import { exitOnUsageError, parseFlags, runMain, stopOnSignals, UsageError } from '@keycrate/http-kit';
import { startEmulator, type EmulatorOptions } from './index';
import { newApiKey, newAppId } from './keys';

const USAGE = 'usage: keycrate-emulator [--port N] [--host H] [--latency-ms N] [--app-id UUID] [--api-key kc_…]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_KEY = /^kc_[A-Za-z0-9_-]{8,}$/;

export { UsageError };

function integer(name: string, text: string, min: number, max: number): number {
	const value = Number(text);
	if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
	return value;
}

/** Flags win over the environment; anything unusable is a UsageError with one clear line. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): EmulatorOptions & { help: boolean } {
	const { values } = parseFlags(argv, {
		port: { type: 'string' },
		host: { type: 'string' },
		'latency-ms': { type: 'string' },
		'app-id': { type: 'string' },
		'api-key': { type: 'string' },
		help: { type: 'boolean', short: 'h' },
	});
	const port = values.port ?? env.KEYCRATE_EMULATOR_PORT ?? '8787';
	const appId = values['app-id'] ?? env.KEYCRATE_EMULATOR_APP_ID ?? newAppId();
	const apiKey = values['api-key'] ?? env.KEYCRATE_EMULATOR_API_KEY ?? newApiKey();
	if (!UUID.test(appId)) throw new UsageError(`--app-id must be a UUID, got "${appId}"`);
	if (!API_KEY.test(apiKey)) throw new UsageError('--api-key must start with kc_ followed by at least 8 letters, digits, _ or -');
	return {
		help: values.help ?? false,
		port: integer('--port', port, 0, 65535),
		host: values.host ?? '127.0.0.1',
		latencyMs: values['latency-ms'] === undefined ? 0 : integer('--latency-ms', values['latency-ms'], 0, 600_000),
		apps: [{ app_id: appId, api_key: apiKey }],
	};
}

async function main(): Promise<void> {
	let options;
	try {
		options = parseCli(process.argv.slice(2), process.env);
	} catch (error) {
		exitOnUsageError('keycrate-emulator', USAGE, error);
	}
	if (options.help) {
		process.stdout.write(`${USAGE}\nenv: KEYCRATE_EMULATOR_PORT, KEYCRATE_EMULATOR_APP_ID, KEYCRATE_EMULATOR_API_KEY\n`);
		return;
	}
	const emulator = await startEmulator(options);
	// A local emulator key: printing it is how a user gets to call the emulator.
	process.stdout.write(`Keycrate emulator listening on ${emulator.url}\napp id:  ${emulator.appId}\nAPI key: ${emulator.apiKey}\n`);
	stopOnSignals(emulator);
}

if (require.main === module) runMain('keycrate-emulator', main);
