/** Shared by the tests: a fake with a real `stripe` client pointed at it, and a webhook receiver that verifies signatures. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startStripeFake, type StripeFake, type StripeFakeOptions } from '../src';

export async function fakeWithClient(options: StripeFakeOptions = {}): Promise<{ fake: StripeFake; stripe: Stripe }> {
	const fake = await startStripeFake(options);
	return { fake, stripe: clientFor(fake) };
}

/** The events `fake` records while `act` runs. */
export function eventsDuring(fake: StripeFake, act: () => unknown): Stripe.Event[] {
	const before = fake.events().length;
	act();
	return fake.events().slice(before);
}

export const types = (events: Stripe.Event[]): string[] => events.map((event) => event.type);

export function clientFor(fake: StripeFake, apiKey = fake.apiKey, extra: Stripe.StripeConfig = {}): Stripe {
	const url = new URL(fake.url);
	return new Stripe(apiKey, { host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0, ...extra });
}

export interface Receiver {
	url: string;
	secret: string;
	/** Verified events in arrival order. */
	received: Stripe.Event[];
	/** Requests whose signature did not verify. */
	rejected: number;
	headers: Record<string, string | string[] | undefined>[];
	/** The status to answer with, per request (default 200). */
	answer: (event: Stripe.Event) => number;
	waitFor(count: number, timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
}

export async function startReceiver(secret = 'whsec_test_receiver_secret'): Promise<Receiver> {
	const waiters: { count: number; resolve: () => void }[] = [];
	const receiver: Receiver = {
		url: '',
		secret,
		received: [],
		rejected: 0,
		headers: [],
		answer: () => 200,
		waitFor(count, timeoutMs = 10_000) {
			if (receiver.received.length >= count) return Promise.resolve();
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`waited for ${count} events, got ${receiver.received.length}`)), timeoutMs);
				waiters.push({
					count,
					resolve: () => {
						clearTimeout(timer);
						resolve();
					},
				});
			});
		},
		close: () =>
			new Promise((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			let event: Stripe.Event;
			try {
				event = Stripe.webhooks.constructEvent(Buffer.concat(chunks), String(request.headers['stripe-signature']), secret);
			} catch {
				receiver.rejected++;
				response.statusCode = 400;
				response.end();
				return;
			}
			receiver.headers.push(request.headers);
			const status = receiver.answer(event);
			if (status >= 200 && status < 300) receiver.received.push(event);
			response.statusCode = status;
			response.end();
			for (const waiter of [...waiters]) {
				if (receiver.received.length >= waiter.count) {
					waiters.splice(waiters.indexOf(waiter), 1);
					waiter.resolve();
				}
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
	return receiver;
}
