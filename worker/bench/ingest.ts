// P1, the webhook endpoint: signed Stripe events per second through an ingest process (verify + root + enqueue)
// at 50 connections, and the p99 of its acknowledgements, beside (a) raw BullMQ Queue.add of the same roots with
// the same deduplication options, 50 in flight, and (b) a bare HTTP route in a process of its own answering 200
// to the same bodies. The load generator is autocannon (it shares this process with the Stripe fake).

import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import Stripe from 'stripe';
import { loadConfig } from '../src/config.js';
import { syncJobOptions } from '../src/jobs/queues.js';
import { rootOfEvent } from '../src/stripe/roots.js';
import { Cluster } from '../test/support/cluster-harness.js';
import { memoryMb, row, type Row } from './table.js';

export interface IngestOptions {
	purchases: number;
	seconds: number;
}

const CONNECTIONS = 50;

interface Signed {
	body: string;
	signature: string;
	root: string;
}

interface Load {
	perSecond: number;
	p50: number;
	p99: number;
	non2xx: number;
	requests: number;
}

async function load(url: string, signed: readonly Signed[], seconds: number): Promise<Load> {
	let next = 0;
	const result = await autocannon({
		url,
		connections: CONNECTIONS,
		duration: seconds,
		requests: [
			{
				method: 'POST',
				setupRequest: (request) => {
					const event = signed[next++ % signed.length];
					return { ...request, body: event.body, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': event.signature } };
				},
			},
		],
	});
	return {
		perSecond: result.requests.average,
		p50: result.latency.p50,
		p99: result.latency.p99,
		non2xx: result.non2xx + result.errors + result.timeouts,
		requests: result.requests.total,
	};
}

/** A route that reads the body and answers 200, in a process of its own, like the ingest. */
async function bareRoute(): Promise<{ url: string; child: ChildProcess }> {
	const source = `require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"received":true}')})}).listen(0,'127.0.0.1',function(){process.stdout.write(this.address().port+'\\n')})`;
	const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
	const port = await new Promise<string>((resolve) => child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
	return { url: `http://127.0.0.1:${port}/webhooks/stripe`, child };
}

/** Queue.add of the same roots with the ingest's options, CONNECTIONS in flight, for as many adds as the ingest took. */
async function rawAdds(cluster: Cluster, signed: readonly Signed[], count: number): Promise<number> {
	const queue = new Queue('bench-raw-add', { connection: cluster.redis, prefix: cluster.prefix });
	const config = loadConfig(cluster.workerEnv(0), 'inspect');
	let next = 0;
	const started = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: CONNECTIONS }, async () => {
			while (next < count) {
				const { root } = signed[next++ % signed.length];
				await queue.add('sync', { root, cause: 'bench' }, syncJobOptions(config, root));
			}
		}),
	);
	const rate = count / (Number(process.hrtime.bigint() - started) / 1e9);
	await queue.close();
	return rate;
}

export async function benchIngest(options: IngestOptions): Promise<Row[]> {
	const cluster = await Cluster.start({ label: 'benchingest', env: { LOG_LEVEL: 'warn' } });
	const bare = await bareRoute();
	try {
		for (let index = 0; index < options.purchases; index++) {
			const customer = cluster.stripe.createCustomer({ email: `ingest${index}@example.com` });
			cluster.stripe.checkoutPayment({ customer: customer.id, lines: [{ price: 'price_kcx_app_30d', quantity: 1 }] });
		}
		// Only events that name a root (the enqueue path); signed once, inside the tolerance for the whole run.
		const signed: Signed[] = cluster.stripe.events().flatMap((event) => {
			const target = rootOfEvent(event);
			if (!('root' in target)) return [];
			const body = JSON.stringify(event, null, 2);
			return [{ body, root: target.root, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: cluster.webhookSecret }) }];
		});
		const ingest = await cluster.spawnWorker('ingest');
		const url = `${ingest.ingestUrl as string}/webhooks/stripe`;
		await load(url, signed.slice(0, 50), 1); // warm-up: JIT and connections
		const measured = await load(url, signed, options.seconds);
		if (measured.non2xx > 0) throw new Error(`P1: ${measured.non2xx} of ${measured.requests} webhooks were not acknowledged with 2xx`);
		const rss = memoryMb(ingest.pid, 'VmHWM');
		const raw = await rawAdds(cluster, signed, measured.requests);
		await load(bare.url, signed.slice(0, 50), 1);
		const route = await load(bare.url, signed, options.seconds);
		const bareRss = memoryMb(bare.child.pid as number, 'VmHWM');
		console.log(`ingest: ${signed.length} signed events, ${measured.requests} webhooks in ${options.seconds} s at ${CONNECTIONS} connections`);
		return [
			row({
				id: 'P1',
				what: `ingest (verify + enqueue), ${CONNECTIONS} connections`,
				value: measured.perSecond,
				unit: 'events/s',
				baselineWhat: 'raw Queue.add, same dedup',
				baseline: raw,
				goal: { atLeast: 0.6 },
			}),
			row({
				id: 'P1 p99',
				what: 'ingest ack latency p99',
				value: measured.p99,
				unit: 'ms',
				baselineWhat: 'goal 10 ms',
				baseline: 10,
				goal: { atMost: 1 },
				note: `p50 ${measured.p50} ms; the bare route's p99 ${route.p99} ms`,
			}),
			row({
				id: 'P1 http',
				what: 'ingest requests/s',
				value: measured.perSecond,
				unit: 'req/s',
				baselineWhat: 'bare HTTP route, same bodies',
				baseline: route.perSecond,
				goal: null,
			}),
			row({ id: 'P1 rss', what: 'ingest peak RSS under load', value: rss, unit: 'MB', baselineWhat: 'the bare route process', baseline: bareRss, goal: null }),
		];
	} finally {
		bare.child.kill('SIGKILL');
		await cluster.stop();
	}
}
