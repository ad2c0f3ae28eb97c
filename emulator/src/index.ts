/** `startEmulator`: a stateful Keycrate Management API on a real HTTP port, for tests, the demo and benchmarks. */
import type { AddressInfo } from 'node:net';
import { newApiKey, newAppId } from './keys';
import { EmulatorServer, type CallCounts } from './server';
import type { AppCredentials, AppState } from './store';
import type { FaultRule } from './faults';

export { contractPaths, errorCodes, errorHttpStatus, limits, validateRequest, validateResponse } from './contract';
export type { ContractLimits, ContractPath, ErrorCode, RequestOf, Schemas, SuccessOf, ValidationFailure } from './contract';
export { FAULT_KINDS, type FaultKind, type FaultRule } from './faults';
export { isLoopbackAddress, type CallCounts } from './server';
export type { AppCredentials, AppState } from './store';

export interface EmulatorOptions {
	/** 0 (the default) picks a free port. */
	port?: number;
	host?: string;
	/** Added to every API call (not to admin routes). */
	latencyMs?: number;
	/** Defaults to one app with a random UUID and a random `kc_` key. */
	apps?: AppCredentials[];
	/** Check every reply against the contract before sending it; on by default. */
	validateResponses?: boolean;
}

export interface Emulator {
	readonly url: string;
	/** The first app's id and API key. */
	readonly appId: string;
	readonly apiKey: string;
	readonly apps: AppCredentials[];
	reset(apps?: AppCredentials[]): void;
	setFaults(rules: FaultRule[]): void;
	setClockOffset(offsetMs: number): void;
	state(): { apps: AppState[] };
	calls(): CallCounts;
	stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const emulator = new EmulatorServer({
		apps: options.apps ?? [{ app_id: newAppId(), api_key: newApiKey() }],
		latencyMs: options.latencyMs,
		validateResponses: options.validateResponses,
	});
	const host = options.host ?? '127.0.0.1';
	const { server } = emulator;
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const urlHost = host.includes(':') ? `[${host}]` : host;
	return {
		url: `http://${urlHost}:${port}`,
		get appId() {
			return emulator.apps()[0].app_id;
		},
		get apiKey() {
			return emulator.apps()[0].api_key;
		},
		get apps() {
			return emulator.apps();
		},
		reset: (apps) => emulator.reset(apps),
		setFaults: (rules) => emulator.setFaults(rules),
		setClockOffset: (offsetMs) => emulator.setClockOffset(offsetMs),
		state: () => emulator.store.snapshot(),
		calls: () => emulator.calls(),
		stop: () =>
			new Promise<void>((resolve, reject) => {
				server.close((error) => (error ? reject(error) : resolve()));
				server.closeAllConnections();
			}),
	};
}
