/**
 * `npm run bench -w stripe-fake`: a 3× shuffled delivery of ~2,000 events to a receiver that verifies every
 * signature with the stripe package (as the ingest does), at several concurrencies, against one at a time
 * measured in the same run; and the read API through the stripe client.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startStripeFake } from '../src';

const SECRET = 'whsec_bench_secret_0123456789';

async function main(): Promise<void> {
	let received = 0;
	const receiver = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			try {
				Stripe.webhooks.constructEvent(Buffer.concat(chunks), String(request.headers['stripe-signature']), SECRET);
				received++;
				response.statusCode = 200;
			} catch {
				response.statusCode = 400;
			}
			response.end();
		});
	});
	await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`;
	const fake = await startStripeFake({ webhooks: [{ url, secret: SECRET }] });
	const customer = fake.createCustomer({ email: 'bench@example.com' });
	const monthly = fake.createPrice({ unit_amount: 1500, recurring: { interval: 'month' } });
	const once = fake.createPrice({ unit_amount: 4900 });
	const subscriptions: string[] = [];
	const built = Date.now();
	while (fake.objects().event < 2000) {
		fake.checkoutPayment({ customer: customer.id, lines: [{ price: once.id, quantity: 1 }] });
		const { subscription } = fake.createSubscription({ customer: customer.id, items: [{ price: monthly.id, quantity: 2 }] });
		fake.renewSubscription(subscription.id);
		subscriptions.push(subscription.id);
	}
	const events = fake.events();
	console.log(`world: ${events.length} events, ${JSON.stringify(fake.objects())} built in ${Date.now() - built} ms`);
	const rates: Record<number, number> = {};
	for (const concurrency of [1, 8, 32]) {
		received = 0;
		const started = process.hrtime.bigint();
		const result = await fake.deliver({ events, copies: 3, shuffleSeed: 42, concurrency });
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		rates[concurrency] = result.sent / seconds;
		console.log(
			`deliver ×3 shuffled, concurrency ${String(concurrency).padStart(2)}: ${result.sent} deliveries in ${seconds.toFixed(2)} s = ${Math.round(rates[concurrency])}/s, ${JSON.stringify(result.byStatus)}, verified ${received}, ×${(rates[concurrency] / rates[1]).toFixed(2)} of one at a time`,
		);
	}
	const address = new URL(fake.url);
	const stripe = new Stripe(fake.apiKey, { host: address.hostname, port: Number(address.port), protocol: 'http', maxNetworkRetries: 0 });
	const reads = 1000;
	const started = process.hrtime.bigint();
	let next = 0;
	await Promise.all(
		Array.from({ length: 8 }, async () => {
			while (next < reads) {
				const id = subscriptions[next++ % subscriptions.length];
				await stripe.subscriptions.retrieve(id, { expand: ['items.data.price', 'latest_invoice.payments'] });
			}
		}),
	);
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	console.log(`reads: ${reads} subscriptions.retrieve with expand (8 in flight) in ${seconds.toFixed(2)} s = ${Math.round(reads / seconds)}/s`);
	await fake.stop();
	await new Promise<void>((resolve) => receiver.close(() => resolve()));
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
