/**
 * The Keycrate emulator in the jest process, observed through its admin HTTP routes
 * (GET /__emulator/state, GET /__emulator/calls), the same view any external client gets.
 */
import { startEmulator, type AppState, type CallCounts, type Emulator } from '@keycrate/emulator';

export type License = AppState['licenses'][number];
export type Subscription = AppState['subscriptions'][number];

export class EmulatorUnderTest {
	private constructor(readonly emulator: Emulator) {}

	static async start(): Promise<EmulatorUnderTest> {
		return new EmulatorUnderTest(await startEmulator({ port: 0 }));
	}

	get url(): string {
		return this.emulator.url;
	}

	get appId(): string {
		return this.emulator.appId;
	}

	get apiKey(): string {
		return this.emulator.apiKey;
	}

	private async admin<T>(path: string): Promise<T> {
		const response = await fetch(`${this.emulator.url}${path}`);
		if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
		return (await response.json()) as T;
	}

	/** The one app's licenses and subscriptions. */
	async app(): Promise<AppState> {
		const { apps } = await this.admin<{ apps: AppState[] }>('/__emulator/state');
		const app = apps.find((candidate) => candidate.app_id === this.appId);
		if (!app) throw new Error(`the emulator state has no app ${this.appId}`);
		return app;
	}

	async license(licenseKey: string): Promise<License | undefined> {
		return (await this.app()).licenses.find((license) => license.license_key === licenseKey);
	}

	async calls(): Promise<CallCounts> {
		return this.admin<CallCounts>('/__emulator/calls');
	}

	/** Calls to one endpoint with one HTTP status since the emulator started. */
	async callCount(endpoint: string, status = '200'): Promise<number> {
		return (await this.calls())[endpoint]?.[status] ?? 0;
	}

	/** A Management API call with the emulator's API key, as any client makes it; the reply's `data` when it has one. */
	async call<T = Record<string, unknown>>(endpoint: string, body: Record<string, unknown>): Promise<T> {
		const response = await fetch(`${this.url}${endpoint}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': this.apiKey },
			body: JSON.stringify(body),
		});
		const reply = (await response.json()) as { data?: unknown };
		if (!response.ok) throw new Error(`POST ${endpoint}: HTTP ${response.status} ${JSON.stringify(reply)}`);
		return (reply.data ?? reply) as T;
	}

	stop(): Promise<void> {
		return this.emulator.stop();
	}
}
