/**
 * The node against replies shaped differently from our inferred contract, as the real Keycrate's
 * may be: a proxy in front of the emulator reshapes them (no `pagination`, no `data` wrapper,
 * unknown fields, an error envelope under 200, a sort it does not honour).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createPoller, runKeycrate, searchList, type KeycrateCredentialData } from './harness';
import { useEmulator } from './fixtures';

const keycrate = useEmulator();

type Shape = 'contract' | 'no-pagination' | 'bare' | 'extra-fields' | 'error-under-200' | 'ignores-sort';

let shape: Shape = 'contract';
let proxy: Server;
const bodiesSent: Array<Record<string, unknown>> = [];

/** The reply as a server of the given shape would give it. */
function reshape(path: string, body: Record<string, unknown>): unknown {
	const isList = path.endsWith('/get-bulk');
	switch (shape) {
		case 'no-pagination': {
			const { pagination: _dropped, ...rest } = body;
			return rest;
		}
		case 'bare':
			return body.data ?? body;
		case 'extra-fields': {
			const mark = (item: unknown) => ({ ...(item as object), future_field: 'kept' });
			return { ...body, served_by: 'edge-7', data: Array.isArray(body.data) ? body.data.map(mark) : mark(body.data) };
		}
		case 'error-under-200':
			return isList ? { error: 'the API key was revoked', error_code: 'INVALID_API_KEY' } : body;
		default:
			return body;
	}
}

beforeAll(async () => {
	proxy = createServer(async (incoming, outgoing) => {
		const chunks: Buffer[] = [];
		for await (const chunk of incoming) chunks.push(chunk as Buffer);
		const path = incoming.url ?? '/';
		let sent = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
		// A server that does not sort as asked: it lists newest first, whatever sort_field says.
		if (shape === 'ignores-sort' && path === '/license/get-bulk') sent = { ...sent, sort_field: 'created_at', sort_order: 'desc' };
		bodiesSent.push(sent);
		const answer = await fetch(new URL(path, keycrate.emulator.url), {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': String(incoming.headers['x-api-key'] ?? '') },
			body: JSON.stringify(sent),
		});
		const reply = (await answer.json()) as Record<string, unknown>;
		outgoing.writeHead(shape === 'error-under-200' ? 200 : answer.status, { 'content-type': 'application/json' });
		outgoing.end(JSON.stringify(answer.ok || shape === 'error-under-200' ? reshape(path, reply) : reply));
	});
	await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => await new Promise<void>((resolve) => proxy.close(() => resolve())));
beforeEach(() => {
	shape = 'contract';
	bodiesSent.length = 0;
});

const throughProxy = (): KeycrateCredentialData => ({
	...keycrate.credentials,
	baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
});
const pagesAsked = () => bodiesSent.filter((b) => 'page' in b).map((b) => b.page);

async function seed(amount: number, durationValue = 30): Promise<string[]> {
	const created = await keycrate.runOk({ resource: 'license', operation: 'createBulk', keyAmount: amount, durationUnit: 'days', durationValue });
	return created.map((license) => license.license_key as string);
}

describe('Get Many without pagination or without a data wrapper', () => {
	for (const replyShape of ['no-pagination', 'bare'] as const) {
		it(`${replyShape}: Return All pages until a short page`, async () => {
			const keys = await seed(250);
			shape = replyShape;
			const result = await runKeycrate({ credentials: throughProxy(), parameters: { resource: 'license', operation: 'getMany', returnAll: true } });
			expect(result.error).toBeUndefined();
			expect(new Set(result.items.map((item) => item.json.license_key))).toEqual(new Set(keys));
			expect(result.items).toHaveLength(250);
			expect(pagesAsked()).toEqual([1, 2, 3]);
		});

		it(`${replyShape}: Return All over an exact multiple of the page size stops at the empty page`, async () => {
			await seed(200);
			shape = replyShape;
			const result = await runKeycrate({ credentials: throughProxy(), parameters: { resource: 'license', operation: 'getMany', returnAll: true } });
			expect(result.items).toHaveLength(200);
			expect(pagesAsked()).toEqual([1, 2, 3]);
		});

		it(`${replyShape}: Limit fetches no page more than needed`, async () => {
			await seed(250);
			shape = replyShape;
			const result = await runKeycrate({
				credentials: throughProxy(),
				parameters: { resource: 'license', operation: 'getMany', returnAll: false, limit: 150 },
			});
			expect(result.items).toHaveLength(150);
			expect(pagesAsked()).toEqual([1, 2]);
		});
	}

	it('keeps fields it does not know (Simplify off), and reads single replies without data', async () => {
		const [key] = await seed(1);
		shape = 'extra-fields';
		const many = await runKeycrate({
			credentials: throughProxy(),
			parameters: { resource: 'license', operation: 'getMany', returnAll: true, simplify: false },
		});
		expect(many.items[0].json).toMatchObject({ license_key: key, future_field: 'kept' });
		const one = await runKeycrate({ credentials: throughProxy(), parameters: { resource: 'license', operation: 'get', licenseKey: key, simplify: false } });
		expect(one.items[0].json).toMatchObject({ license_key: key, future_field: 'kept' });
		shape = 'bare';
		const bare = await runKeycrate({ credentials: throughProxy(), parameters: { resource: 'license', operation: 'get', licenseKey: key } });
		expect(bare.items[0].json.license_key).toBe(key);
	});

	it('an error envelope under HTTP 200 is an error', async () => {
		await seed(1);
		shape = 'error-under-200';
		const result = await runKeycrate({ credentials: throughProxy(), parameters: { resource: 'license', operation: 'getMany', returnAll: true } });
		expect(result.error?.message).toBe('the API key was revoked [INVALID_API_KEY]');
		expect(result.error?.description).toContain('POST /license/get-bulk answered HTTP 200.');
		expect(keycrate.retryDelays).toEqual([]);
	});
});

describe('the tier locator without pagination or without a data wrapper', () => {
	for (const replyShape of ['no-pagination', 'bare'] as const) {
		it(replyShape, async () => {
			for (const name of ['Basic', 'Pro', 'Team']) await keycrate.runOk({ resource: 'subscription', operation: 'create', name, level: 1 });
			shape = replyShape;
			const { results } = await searchList('searchSubscriptions', throughProxy(), { appId: '' });
			expect(results.map((r) => r.name)).toEqual(['Basic (level 1)', 'Pro (level 1)', 'Team (level 1)']);
			expect(pagesAsked()).toEqual([1]);
		});
	}
});

describe('the trigger without pagination or without a data wrapper', () => {
	for (const replyShape of ['no-pagination', 'bare'] as const) {
		it(`${replyShape}: License Created reports every new license once, over several pages`, async () => {
			await seed(5);
			shape = replyShape;
			const trigger = createPoller(throughProxy(), { event: 'licenseCreated' });
			expect(await trigger.poll()).toBeNull();
			const fresh = await seed(130);
			const reported = (await trigger.poll())?.[0].map((item) => item.json.license_key);
			expect(new Set(reported)).toEqual(new Set(fresh));
			expect(reported).toHaveLength(130);
			expect(await trigger.poll()).toBeNull();
		});

		it(`${replyShape}: License Expiring Soon`, async () => {
			const [soon] = await seed(1, 2);
			await seed(120, 30);
			shape = replyShape;
			const trigger = createPoller(throughProxy(), { event: 'licenseExpiring', withinDays: 7 });
			expect((await trigger.poll())?.[0].map((item) => item.json.license_key)).toEqual([soon]);
			expect(await trigger.poll()).toBeNull();
		});
	}

	it('License Expiring Soon reads on when the server does not sort by expires_at', async () => {
		// Created first, so a newest-first server lists it last, on the second page.
		const [soon] = await seed(1, 2);
		await seed(60, 10);
		await seed(60, 30);
		shape = 'ignores-sort';
		const trigger = createPoller(throughProxy(), { event: 'licenseExpiring', withinDays: 7 });
		expect((await trigger.poll())?.[0].map((item) => item.json.license_key)).toEqual([soon]);
		expect(pagesAsked()).toEqual([1, 2]);
	});

	it('License Expiring Soon stops after the first page when the server sorts as asked', async () => {
		const [soon] = await seed(1, 2);
		await seed(150, 30);
		const trigger = createPoller(throughProxy(), { event: 'licenseExpiring', withinDays: 7 });
		expect((await trigger.poll())?.[0].map((item) => item.json.license_key)).toEqual([soon]);
		expect(pagesAsked()).toEqual([1]);
	});
});
