// Benchmark of queued bulk jobs, each figure beside a baseline measured in the same run:
//   P5     a 100,000-key create job (one worker process, queued through the admin API) beside the emulator's
//          raw create-bulk rate × batch (a bare HTTP loop against the same emulator, same latency)
//   memory the worker's RSS over the last quarter of a 100,000-key job beside its first quarter (flat: it does
//          not grow with the keys done), and its peak beside a 20,000-key job's
//   buyers a purchase's license appearing while the 100,000-key job runs, beside the same on an idle worker
//          (p95 over the purchases)
//

import { rootTag } from '../src/keycrate/record.js';
import { Cluster, type WorkerProcess } from '../test/support/cluster-harness.js';
import { median, memoryMb, p95, row, type Row } from './table.js';

const TOKEN = 'bench-admin-token-0123456789abcdef';

interface Options {
	keys: number;
	purchases: number;
	latencyMs: number;
}

async function adminPost(worker: WorkerProcess, path: string, body: object): Promise<{ data: { id: string } }> {
	const reply = await fetch(`${worker.ingestUrl}${path}`, {
		method: 'POST',
		headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	if (!reply.ok) throw new Error(`${path}: HTTP ${reply.status} ${await reply.text()}`);
	return (await reply.json()) as { data: { id: string } };
}

async function jobState(worker: WorkerProcess, id: string): Promise<string> {
	const reply = await fetch(`${worker.ingestUrl}/admin/jobs/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
	return ((await reply.json()) as { data: { state: string } }).data.state;
}

interface JobRun {
	seconds: number;
	peakMb: number;
	/** RSS samples (every 100 ms) over the job. */
	samples: number[];
}

/** Runs a create job of `count`; returns its seconds and the worker's RSS meanwhile. */
async function createJob(cluster: Cluster, worker: WorkerProcess, count: number, during?: () => Promise<void>): Promise<JobRun> {
	const started = process.hrtime.bigint();
	const { data } = await adminPost(worker, '/admin/jobs', {
		kind: 'create',
		app_id: cluster.emu.appId,
		count,
		duration_unit: 'days',
		duration_value: 30,
		tags: [`bench${count}`],
	});
	const samples: number[] = [];
	let finished = false;
	const sideWork = during?.();
	while (!finished) {
		samples.push(memoryMb(worker.pid, 'VmRSS'));
		const state = await jobState(worker, data.id);
		if (state === 'failed') throw new Error(`bulk job ${data.id} failed`);
		finished = state === 'completed';
		if (!finished) await new Promise((resolve) => setTimeout(resolve, 100));
	}
	await sideWork;
	return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakMb: Math.max(...samples), samples };
}

/** The emulator's own rate: create-bulk of the batch size in a bare loop. */
async function rawCreateRate(cluster: Cluster, keys: number, batch: number): Promise<number> {
	const started = process.hrtime.bigint();
	for (let made = 0; made < keys; made += batch) {
		const reply = await fetch(`${cluster.emu.url}/license/create-bulk`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': cluster.emu.apiKey },
			body: JSON.stringify({ app_id: cluster.emu.appId, key_amount: Math.min(batch, keys - made), duration_unit: 'days', duration_value: 30, tags: ['raw'] }),
		});
		if (!reply.ok) throw new Error(`raw create-bulk: HTTP ${reply.status}`);
		await reply.arrayBuffer();
	}
	return keys / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Seconds from a purchase's delivery to its license on Keycrate, for `count` purchases one after another. */
async function purchaseLatencies(cluster: Cluster, count: number): Promise<number[]> {
	const latencies: number[] = [];
	for (let index = 0; index < count; index++) {
		const customer = cluster.stripe.createCustomer({ email: `bench${index}-${Date.now()}@example.com` });
		const bought = cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_kcx_app_30d', quantity: 1 }] });
		const root = bought.payment_intent?.id as string;
		const started = process.hrtime.bigint();
		await cluster.deliver({ copies: 1 });
		// Asked as a client would (the root's tag), not by copying the emulator's whole state.
		for (;;) {
			const reply = await fetch(`${cluster.emu.url}/license/get-bulk`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'x-api-key': cluster.emu.apiKey },
				body: JSON.stringify({ app_id: cluster.emu.appId, tag: rootTag(root) }),
			});
			const page = (await reply.json()) as { data?: unknown[] };
			if ((page.data ?? []).length > 0) break;
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		latencies.push(Number(process.hrtime.bigint() - started) / 1e9);
	}
	return latencies;
}

export async function benchBulk(options: Options): Promise<Row[]> {
	console.log(
		`bulk jobs: ${options.keys} keys, ${options.purchases} purchases, Keycrate latency ${options.latencyMs} ms, one worker process (role all), batch 1000`,
	);
	const cluster = await Cluster.start({ label: 'benchbulk', env: { ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, emulatorLatencyMs: options.latencyMs });
	try {
		const worker = await cluster.spawnWorker('all');
		const raw = await rawCreateRate(cluster, options.keys, 1000);
		const fifth = Math.round(options.keys / 5);
		// A first job warms the process up (V8 grows its heap to a steady size), so the two measured differ in size only.
		await createJob(cluster, worker, fifth);
		const small = await createJob(cluster, worker, fifth);
		const big = await createJob(cluster, worker, options.keys);
		const idle = await purchaseLatencies(cluster, options.purchases);
		let busy: number[] = [];
		// The same job again, with purchases arriving while it runs (it steps aside for each of their syncs).
		const shared = await createJob(cluster, worker, options.keys, async () => {
			await new Promise((resolve) => setTimeout(resolve, 500));
			busy = await purchaseLatencies(cluster, options.purchases);
		});
		const quarter = Math.max(1, Math.floor(big.samples.length / 4));
		const firstQuarter = median(big.samples.slice(0, quarter));
		const lastQuarter = median(big.samples.slice(-quarter));
		return [
			row({
				id: 'P5',
				what: `bulk create job, ${options.keys} keys`,
				value: options.keys / big.seconds,
				unit: 'keys/s',
				baselineWhat: 'raw create-bulk × 1000',
				baseline: raw,
				goal: { atLeast: 0.8 },
			}),
			row({
				id: 'memory',
				what: 'worker RSS, last quarter of the job (median)',
				value: lastQuarter,
				unit: 'MB',
				baselineWhat: 'first quarter',
				baseline: firstQuarter,
				goal: { atMost: 1.15 },
				note: `peak ${big.peakMb.toFixed(0)} MB over ${options.keys} keys beside ${small.peakMb.toFixed(0)} MB over ${fifth}`,
			}),
			row({
				id: 'buyers',
				what: `purchase → license p95 during the ${options.keys}-key job`,
				value: p95(busy) * 1000,
				unit: 'ms',
				baselineWhat: 'idle worker',
				baseline: p95(idle) * 1000,
				goal: { atMost: 2 },
				note: `${busy.length} purchases each${busy.length < options.purchases ? ' (fewer than asked fitted inside the job: raise --bulk-keys)' : ''}; the job ran at ×${(big.seconds / shared.seconds).toFixed(2)} of its quiet speed meanwhile`,
			}),
		];
	} finally {
		await cluster.stop();
	}
}
