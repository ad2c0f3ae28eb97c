// A local stand-in for api.stripe.com: serves Checkout Session line items (paged like Stripe, by
// starting_after) and subscriptions, and records each request, so STRIPE_API_BASE can point at it.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
	method: string;
	path: string;
	query: URLSearchParams;
	authorization?: string;
}

export interface FakeStripeApi {
	url: string;
	requests: RecordedRequest[];
	/** Line items per session id, in order; each item needs an `id`. */
	lineItems: Map<string, Array<{ id: string } & Record<string, unknown>>>;
	subscriptions: Map<string, Record<string, unknown>>;
	stop(): Promise<void>;
}

function notFound(response: http.ServerResponse, what: string): void {
	response.writeHead(404, { 'content-type': 'application/json' });
	response.end(JSON.stringify({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}` } }));
}

export async function startFakeStripeApi(): Promise<FakeStripeApi> {
	const requests: RecordedRequest[] = [];
	const lineItems: FakeStripeApi['lineItems'] = new Map();
	const subscriptions: FakeStripeApi['subscriptions'] = new Map();
	const server = http.createServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://localhost');
		requests.push({ method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: request.headers.authorization });
		const lines = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/.exec(url.pathname);
		const subscription = /^\/v1\/subscriptions\/([^/]+)$/.exec(url.pathname);
		if (lines) {
			const all = lineItems.get(lines[1]);
			if (all === undefined) return notFound(response, `checkout.session: '${lines[1]}'`);
			const limit = Number(url.searchParams.get('limit') ?? 10);
			const after = url.searchParams.get('starting_after');
			const start = after === null ? 0 : all.findIndex((item) => item.id === after) + 1;
			const data = all.slice(start, start + limit);
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ object: 'list', data, has_more: start + limit < all.length, url: url.pathname }));
			return;
		}
		if (subscription) {
			const found = subscriptions.get(subscription[1]);
			if (found === undefined) return notFound(response, `subscription: '${subscription[1]}'`);
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify(found));
			return;
		}
		notFound(response, `route ${url.pathname}`);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		requests,
		lineItems,
		subscriptions,
		stop: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
