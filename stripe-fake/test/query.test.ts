/** Table tests of the pure parts: Stripe's query strings, expand paths, calendar periods, the seeded shuffle. */
import { expand, type ExpandSource, type Json } from '../src/expand';
import { addInterval, seededRandom } from '../src';
import { parseQuery, rangeParam } from '../src/query';
import { shuffle } from '../src/delivery';
import { apiKeyOf, isLoopbackAddress } from '../src/server';
import { FaultInjector } from '../src/faults';

test.each([
	['expand[0]=a&expand[1]=b.c', { expand: ['a', 'b.c'] }],
	['expand[]=a&expand[]=b', { expand: ['a', 'b'] }],
	['payment[type]=payment_intent&payment[payment_intent]=pi_1', { payment: { type: 'payment_intent', payment_intent: 'pi_1' } }],
	['created[gte]=10&created[lt]=20&limit=3', { created: { gte: '10', lt: '20' }, limit: '3' }],
	['types[0]=a.b&types[1]=c.*', { types: ['a.b', 'c.*'] }],
	['expand[10]=k&expand[2]=j', { expand: ['j', 'k'] }],
	['email=a%2Bb%40example.com', { email: 'a+b@example.com' }],
	['', {}],
])('parseQuery(%s)', (search, expected) => {
	expect(parseQuery(search)).toEqual(expected);
});

test.each([
	['limit=1&limit=2', /twice/],
	['a]=1', /Invalid parameter name/],
	['a=1&a[b]=2', /mixes a value and nested fields/],
])('parseQuery refuses %s', (search, message) => {
	expect(() => parseQuery(search)).toThrow(message);
});

test('rangeParam: an exact value or a hash of bounds, nothing else', () => {
	expect(rangeParam(parseQuery('created=5'), 'created')).toEqual({ gte: 5, lte: 5 });
	expect(rangeParam(parseQuery('created[gt]=5'), 'created')).toEqual({ gt: 5 });
	expect(() => rangeParam(parseQuery('created[after]=5'), 'created')).toThrow(/created\[after\]/);
	expect(() => rangeParam(parseQuery('created[gt]=5.5'), 'created')).toThrow(/Invalid integer/);
});

describe('expand', () => {
	const objects: Record<string, { [key: string]: Json }> = {
		sub_1: { id: 'sub_1', object: 'subscription', latest_invoice: 'in_1', customer: 'cus_1' },
		in_1: { id: 'in_1', object: 'invoice', customer: 'cus_1', currency: 'usd' },
		cus_1: { id: 'cus_1', object: 'customer', email: 'a@b.c', default_source: null },
	};
	const source: ExpandSource = {
		byId: (id) => (objects[id] ? structuredClone(objects[id]) : undefined),
		includable: (object, field) =>
			object.object === 'invoice' && field === 'payments' ? { object: 'list', data: [{ id: 'inpay_1', invoice: 'in_1' }] } : undefined,
	};
	const run = (root: { [key: string]: Json }, paths: string[]) => expand(structuredClone(root), paths, source);

	test('ids become objects, nested paths go on, lists are stepped into through data, includables appear', () => {
		const result = run(objects.sub_1, ['latest_invoice.customer', 'latest_invoice.payments.data.invoice']);
		expect(result).toMatchObject({
			latest_invoice: { id: 'in_1', customer: { email: 'a@b.c' }, payments: { data: [{ invoice: { id: 'in_1' } }] } },
			customer: 'cus_1',
		});
		expect(objects.sub_1.latest_invoice).toBe('in_1');
	});
	test('a list: data.<field> on every element; null stays null; an expanded field expands again harmlessly', () => {
		const list = { object: 'list', data: [structuredClone(objects.in_1), { ...structuredClone(objects.in_1), customer: null }] };
		const result = run(list, ['data.customer', 'data.customer']);
		expect(result).toMatchObject({ data: [{ customer: { id: 'cus_1' } }, { customer: null }] });
	});
	test.each([
		[['currency'], /cannot be expanded \(currency\)/],
		[['nothing'], /cannot be expanded \(nothing\)/],
		[['customer.email'], /cannot be expanded \(customer\.email\)/],
		[['a.b.c.d.e'], /more than 4 levels/],
		[['customer..x'], /Invalid expand path/],
	])('refuses %j', (paths, message) => {
		expect(() => run(objects.in_1, paths)).toThrow(message);
	});
});

test.each([
	['2026-01-31T00:00:00Z', 'month', 1, '2026-02-28T00:00:00.000Z'],
	['2028-01-31T00:00:00Z', 'month', 1, '2028-02-29T00:00:00.000Z'],
	['2026-03-15T10:20:30Z', 'month', 3, '2026-06-15T10:20:30.000Z'],
	['2026-12-15T00:00:00Z', 'month', 1, '2027-01-15T00:00:00.000Z'],
	['2028-02-29T00:00:00Z', 'year', 1, '2029-02-28T00:00:00.000Z'],
	['2026-01-01T00:00:00Z', 'week', 2, '2026-01-15T00:00:00.000Z'],
	['2026-01-01T00:00:00Z', 'day', 1, '2026-01-02T00:00:00.000Z'],
] as const)('addInterval(%s, %s × %d) = %s', (start, interval, count, expected) => {
	const seconds = Date.parse(start) / 1000;
	expect(new Date(addInterval(seconds, interval, count) * 1000).toISOString()).toBe(expected);
});

test('the seeded shuffle is a permutation that replays with its seed', () => {
	const items = Array.from({ length: 50 }, (_, i) => i);
	const a = shuffle([...items], seededRandom(7));
	expect(shuffle([...items], seededRandom(7))).toEqual(a);
	expect(shuffle([...items], seededRandom(8))).not.toEqual(a);
	expect([...a].sort((x, y) => x - y)).toEqual(items);
});

test.each([
	['Bearer sk_test_abc', 'sk_test_abc'],
	[`Basic ${Buffer.from('sk_test_abc:').toString('base64')}`, 'sk_test_abc'],
	['Token sk_test_abc', undefined],
	[undefined, undefined],
])('apiKeyOf(%s)', (header, key) => {
	expect(apiKeyOf(header)).toBe(key);
});

test.each([
	['127.0.0.1', true],
	['::1', true],
	['::ffff:127.0.0.1', true],
	['10.0.0.1', false],
	[undefined, false],
])('isLoopbackAddress(%s)', (address, loopback) => {
	expect(isLoopbackAddress(address)).toBe(loopback);
});

test('the rate limiter admits the budget per rolling second, then 429s until calls age out', () => {
	let now = 10_000;
	const faults = new FaultInjector(
		() => 1,
		() => now,
	);
	faults.set({ rateLimitPerSecond: 2 });
	faults.check();
	now += 400;
	faults.check();
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 429, code: 'rate_limit' }));
	now += 600; // the first call is a second old
	faults.check();
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 429 }));
	now += 1000;
	faults.check();
	faults.check();
});

test('injected 500s follow the rate on the random draw', () => {
	const draws = [0.1, 0.3, 0.29];
	const faults = new FaultInjector(() => draws.shift() ?? 1);
	faults.set({ error500Rate: 0.3 });
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 500, type: 'api_error' }));
	faults.check();
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 500 }));
	expect(faults.injected()).toEqual({ '429': 0, '500': 2 });
});

test('injected 429s at a rate: one draw, 500 below its rate, 429 in the next band, counted apart', () => {
	const draws = [0.04, 0.05, 0.09, 0.1, 0.5];
	const faults = new FaultInjector(() => draws.shift() ?? 1);
	faults.set({ error500Rate: 0.05, error429Rate: 0.05 });
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 500 }));
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 429, code: 'rate_limit' }));
	expect(() => faults.check()).toThrow(expect.objectContaining({ status: 429 }));
	faults.check();
	faults.check();
	expect(faults.injected()).toEqual({ '429': 2, '500': 1 });
	expect(() => faults.set({ error429Rate: -0.1 })).toThrow(/error429Rate: must be a number from 0 to 1/);
});
