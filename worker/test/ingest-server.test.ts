import { request } from 'node:http';
import { readSkipped } from '../src/jobs/queues.js';
import { SECRET_A, SECRET_B, deliver, post, sampleEvent, signatureHeader, useIngest } from './support/ingest-webhooks.js';

describe('ingest server (shared Redis, unique prefix)', () => {
	const t = useIngest();

	/** The roots of the queued sync jobs, sorted. */
	async function queuedRoots(): Promise<string[]> {
		const jobs = await t.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
		return jobs.map((job) => (job.data as { root: string }).root).sort();
	}

	const rootOf = (event: ReturnType<typeof sampleEvent>) => (event.data.object as { id: string }).id;

	test('a well signed event is answered 200 and queues sync(root), deduplicated per root, with the retry schedule', async () => {
		const event = sampleEvent({ type: 'customer.subscription.updated' });
		const answer = await deliver(t.ingest.url, event);
		expect(answer).toEqual({ status: 200, body: { received: true } });
		const [job] = await t.queue.getJobs(['waiting']);
		expect(job.name).toBe('sync');
		expect(job.data).toEqual({ root: rootOf(event), cause: `customer.subscription.updated ${event.id}` });
		expect(job.opts.attempts).toBe(t.config.retryScheduleMs.length + 1);
		expect(job.opts.deduplication).toEqual({ id: rootOf(event), keepLastIfActive: true });
		expect(t.ingest.counters.accepted).toBe(1);
	});

	test('three deliveries of one event, and another event of the same root, leave one waiting sync', async () => {
		const event = sampleEvent();
		for (let delivery = 0; delivery < 3; delivery += 1) {
			expect((await deliver(t.ingest.url, event)).status).toBe(200);
		}
		expect(
			(
				await deliver(
					t.ingest.url,
					sampleEvent({ type: 'invoice.paid', object: { id: 'in_1', object: 'invoice', parent: { subscription_details: { subscription: rootOf(event) } } } }),
				)
			).status,
		).toBe(200);
		expect(await queuedRoots()).toEqual([rootOf(event)]);
	});

	test('an event that names nothing to license is acknowledged and recorded as skipped with its reason', async () => {
		const event = sampleEvent({ type: 'customer.created', object: { id: 'cus_1', object: 'customer' } });
		expect(await deliver(t.ingest.url, event)).toEqual({ status: 200, body: { received: true, skipped: true } });
		expect(await queuedRoots()).toEqual([]);
		const [record] = await readSkipped(t.config, t.inspect, 10);
		expect(record).toMatchObject({
			reason: 'not_handled',
			eventId: event.id,
			eventType: 'customer.created',
			detail: `customer.created ${event.id}: not an event type the worker uses`,
		});
		expect(t.ingest.counters.skipped).toBe(1);
	});

	test('rotation: with two secrets configured, an event signed by either is accepted', async () => {
		await t.restartWith({ STRIPE_WEBHOOK_SECRETS: `${SECRET_A}, ${SECRET_B}` });
		const first = sampleEvent();
		const second = sampleEvent();
		expect((await deliver(t.ingest.url, first, SECRET_A)).status).toBe(200);
		expect((await deliver(t.ingest.url, second, SECRET_B)).status).toBe(200);
		expect(await queuedRoots()).toEqual([rootOf(first), rootOf(second)].sort());
	});

	test.each([
		['missing header', (_payload: string) => ({}), 'missing_signature'],
		['garbage header', () => ({ 'stripe-signature': 'nonsense' }), 'malformed_signature'],
		['signed with an unknown secret', (payload: string) => ({ 'stripe-signature': signatureHeader(payload, SECRET_B) }), 'no_matching_signature'],
		[
			'stale timestamp (301 s old)',
			(payload: string) => ({ 'stripe-signature': signatureHeader(payload, SECRET_A, Math.floor(Date.now() / 1000) - 301) }),
			'stale_timestamp',
		],
	])('%s → 400 with a short reason, nothing queued', async (_label, headers, reason) => {
		const payload = JSON.stringify(sampleEvent());
		const answer = await post(`${t.ingest.url}/webhooks/stripe`, payload, headers(payload));
		expect(answer.status).toBe(400);
		expect(answer.body.error).toBe(reason);
		expect(typeof answer.body.message).toBe('string');
		expect(JSON.stringify(answer.body)).not.toContain(SECRET_A);
		expect(await t.queue.count()).toBe(0);
		expect(t.ingest.counters.rejected[reason as 'missing_signature']).toBe(1);
	});

	test('a tampered body → 400 no_matching_signature, nothing queued', async () => {
		const event = sampleEvent({ type: 'invoice.paid' });
		const payload = JSON.stringify(event);
		const tampered = payload.replace('"livemode":false', '"livemode":true ');
		expect(tampered).not.toBe(payload);
		const answer = await post(`${t.ingest.url}/webhooks/stripe`, tampered, { 'stripe-signature': signatureHeader(payload, SECRET_A) });
		expect(answer).toMatchObject({ status: 400, body: { error: 'no_matching_signature' } });
		expect(await t.queue.count()).toBe(0);
	});

	test('malformed JSON with a valid signature → 400 unparsable_body, nothing queued', async () => {
		const payload = '{"id":"evt_123","object":"event",';
		const answer = await post(`${t.ingest.url}/webhooks/stripe`, payload, { 'stripe-signature': signatureHeader(payload, SECRET_A) });
		expect(answer).toMatchObject({ status: 400, body: { error: 'unparsable_body' } });
		expect(await t.queue.count()).toBe(0);
	});

	test('a body over BODY_LIMIT_BYTES → 413 (declared length, and chunked without a length), nothing queued', async () => {
		await t.restartWith({ BODY_LIMIT_BYTES: '2048' });
		const big = sampleEvent();
		const payload = JSON.stringify({ ...big, data: { object: { padding: 'x'.repeat(4000) } } });
		const declared = await post(`${t.ingest.url}/webhooks/stripe`, payload, { 'stripe-signature': signatureHeader(payload, SECRET_A) });
		expect(declared).toEqual({ status: 413, body: { error: 'too_large', message: 'body larger than 2048 bytes' } });

		const chunked = await new Promise<number>((resolve, reject) => {
			const req = request(`${t.ingest.url}/webhooks/stripe`, {
				method: 'POST',
				headers: { 'transfer-encoding': 'chunked', 'stripe-signature': signatureHeader(payload, SECRET_A) },
			});
			req.on('response', (res) => {
				res.resume();
				resolve(res.statusCode ?? 0);
			});
			req.on('error', reject);
			req.write(payload.slice(0, 1500));
			req.write(payload.slice(1500));
			req.end();
		});
		expect(chunked).toBe(413);
		expect(await t.queue.count()).toBe(0);
		expect(t.ingest.counters.rejected.too_large).toBe(2);

		// A body just under the limit still goes through.
		const small = sampleEvent();
		expect((await deliver(t.ingest.url, small)).status).toBe(200);
	});

	test('livemode filter "live": a test-mode event is acknowledged, not queued, and counted', async () => {
		await t.restartWith({ STRIPE_LIVEMODE: 'live' });
		const testEvent = sampleEvent({ livemode: false });
		const liveEvent = sampleEvent({ livemode: true });
		expect(await deliver(t.ingest.url, testEvent)).toEqual({ status: 200, body: { received: true, ignored: 'livemode' } });
		expect(await deliver(t.ingest.url, liveEvent)).toEqual({ status: 200, body: { received: true } });
		expect(await queuedRoots()).toEqual([rootOf(liveEvent)]);
		expect(t.ingest.counters).toMatchObject({ accepted: 1, ignoredLivemode: 1 });
	});

	test('livemode filter "test": a live event is ignored', async () => {
		await t.restartWith({ STRIPE_LIVEMODE: 'test' });
		const liveEvent = sampleEvent({ livemode: true });
		expect((await deliver(t.ingest.url, liveEvent)).body).toEqual({ received: true, ignored: 'livemode' });
		expect(await t.queue.count()).toBe(0);
	});

	test('/healthz and /readyz answer 200 with Redis up; unknown paths 404; wrong methods 405', async () => {
		const health = await fetch(`${t.ingest.url}/healthz`);
		expect(health.status).toBe(200);
		expect(await health.json()).toMatchObject({ ok: true });
		const ready = await fetch(`${t.ingest.url}/readyz`);
		expect(ready.status).toBe(200);
		expect(await ready.json()).toEqual({ ready: true, redis: 'up' });
		expect((await fetch(`${t.ingest.url}/nope`)).status).toBe(404);
		const get = await fetch(`${t.ingest.url}/webhooks/stripe`);
		expect(get.status).toBe(405);
		expect(get.headers.get('allow')).toBe('POST');
		expect((await fetch(`${t.ingest.url}/healthz`, { method: 'POST' })).status).toBe(405);
	});
});
