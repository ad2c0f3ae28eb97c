// P4: the Keycrate node's Get Many with Return All over N licenses, in-process through n8n-core's WorkflowExecute
// (test/node/harness.ts), beside a bare HTTP loop over the same get-bulk pages of the same emulator. Memory: the
// heap the run retains per license at N and at N/5 (flat: it holds the result, not the pages). Run by
// worker/bench/run.ts through Jest (ts-jest runs the harness as the node tests do); writes its figures to
// PAGING_RESULT.
//
//   PAGING_LICENSES=50000 PAGING_RESULT=/tmp/p4.json node --expose-gc node_modules/jest/bin/jest.js --config test/bench/jest.config.js

import { writeFileSync } from 'node:fs';
import { startEmulator, type Emulator } from '@keycrate/emulator';
import { runKeycrate, type KeycrateCredentialData } from '../node/harness';

const PAGE = 100;

async function seed(emulator: Emulator, count: number): Promise<void> {
	for (let made = 0; made < count; made += 1000) {
		const reply = await fetch(`${emulator.url}/license/create-bulk`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
			body: JSON.stringify({ app_id: emulator.appId, key_amount: Math.min(1000, count - made), duration_unit: 'days', duration_value: 30 }),
		});
		if (!reply.ok) throw new Error(`seed: HTTP ${reply.status}`);
	}
}

async function bareLoop(emulator: Emulator): Promise<number> {
	let total = 0;
	for (let page = 1; ; page++) {
		const reply = await fetch(`${emulator.url}/license/get-bulk`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
			body: JSON.stringify({ app_id: emulator.appId, sort_field: 'created_at', sort_order: 'desc', page, per_page: PAGE }),
		});
		const body = (await reply.json()) as { data: unknown[]; pagination?: { has_more?: boolean } };
		total += body.data.length;
		if (!body.pagination?.has_more) return total;
	}
}

function seconds(started: bigint): number {
	return Number(process.hrtime.bigint() - started) / 1e9;
}

function settledHeap(): number {
	(globalThis as { gc?: () => void }).gc?.();
	return process.memoryUsage().heapUsed;
}

async function nodeRun(credentials: KeycrateCredentialData, expected: number): Promise<{ seconds: number; retainedPerLicense: number }> {
	const before = settledHeap();
	const started = process.hrtime.bigint();
	const result = await runKeycrate({ credentials, parameters: { resource: 'license', operation: 'getMany', returnAll: true, options: { pageSize: PAGE } } });
	const took = seconds(started);
	if (result.error || result.items.length !== expected)
		throw new Error(`P4: the node returned ${result.items.length} of ${expected} (${result.error?.message ?? 'no error'})`);
	const retained = settledHeap() - before;
	// Read after the measure, so the result is alive while it is measured.
	return { seconds: took, retainedPerLicense: retained / result.items.length };
}

test('P4: Get Many, Return All, beside a bare pagination loop', async () => {
	const licenses = Number(process.env.PAGING_LICENSES ?? '50000');
	if (!Number.isInteger(licenses) || licenses < 1000) throw new Error('PAGING_LICENSES: a whole number ≥ 1000');
	const emulator = await startEmulator({ port: 0 });
	try {
		const credentials = { apiKey: emulator.apiKey, baseUrl: emulator.url, appId: emulator.appId };
		const small = Math.round(licenses / 5);
		await seed(emulator, small);
		await nodeRun(credentials, small); // warm-up
		const smallRun = await nodeRun(credentials, small);
		await seed(emulator, licenses - small);
		await bareLoop(emulator); // warm-up
		const bareStarted = process.hrtime.bigint();
		expect(await bareLoop(emulator)).toBe(licenses);
		const bare = seconds(bareStarted);
		const big = await nodeRun(credentials, licenses);
		const figures = {
			licenses,
			nodeSeconds: big.seconds,
			bareSeconds: bare,
			retainedPerLicense: big.retainedPerLicense,
			retainedPerLicenseSmall: smallRun.retainedPerLicense,
			small,
		};
		writeFileSync(process.env.PAGING_RESULT ?? '/dev/stdout', `${JSON.stringify(figures)}\n`);
	} finally {
		await emulator.stop();
	}
}, 900000);
