import { startEmulator, validateRequest, type Emulator } from '@keycrate/emulator';
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { setRetryWait } from '../../nodes/Keycrate/transport/retry';
import { runKeycrate, type KeycrateCredentialData, type RunOptions, type RunResult } from './harness';

export interface EmulatorFixture {
	emulator: Emulator;
	credentials: KeycrateCredentialData;
	/** Runs the node with this emulator's credential; asserts that every request matched the contract. */
	run(parameters: INodeParameters, options?: Omit<RunOptions, 'credentials' | 'parameters'>): Promise<RunResult>;
	/** Like run, and fails the test unless the node succeeded; returns the output JSON. */
	runOk(parameters: INodeParameters, input?: INodeExecutionData[]): Promise<Array<Record<string, unknown>>>;
	/** How many calls reached the endpoint, whatever their answer. */
	callsTo(path: string): number;
	/** Delays the node asked to wait before retries (waits are instant in tests). */
	retryDelays: number[];
}

/**
 * One emulator per test file, reset before each test; retries wait for nothing and are recorded.
 * Requests that the contract would refuse, and output items without pairedItem, fail the test.
 */
export function useEmulator(): EmulatorFixture {
	const fixture = { retryDelays: [] as number[] } as EmulatorFixture;

	beforeAll(async () => {
		fixture.emulator = await startEmulator({ port: 0 });
		fixture.credentials = {
			apiKey: fixture.emulator.apiKey,
			baseUrl: fixture.emulator.url,
			appId: fixture.emulator.appId,
		};
	});
	afterAll(async () => {
		setRetryWait();
		await fixture.emulator.stop();
	});
	beforeEach(() => {
		fixture.emulator.reset();
		fixture.retryDelays.length = 0;
		setRetryWait(async (ms) => {
			fixture.retryDelays.push(ms);
		});
	});

	fixture.run = async (parameters, options = {}) => {
		const result = await runKeycrate({ credentials: fixture.credentials, parameters, ...options });
		for (const item of result.items) expect(item.pairedItem).toEqual({ item: expect.any(Number) });
		for (const request of result.requests) {
			expect({ path: request.path, failure: validateRequest(request.path, request.body) }).toEqual({
				path: request.path,
				failure: null,
			});
		}
		return result;
	};
	fixture.runOk = async (parameters, input) => {
		const result = await fixture.run(parameters, { input });
		if (result.error) throw new Error(`The node failed: ${result.error.message} (${result.error.description ?? ''})`);
		return result.items.map((item) => item.json as Record<string, unknown>);
	};
	fixture.callsTo = (path) => Object.values(fixture.emulator.calls()[path] ?? {}).reduce((sum, count) => sum + count, 0);
	return fixture;
}
