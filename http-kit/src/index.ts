/** The HTTP plumbing the Keycrate emulator and the Stripe fake share; each keeps its own routes and error shapes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
	if (!address) return false;
	if (address === '::1') return true;
	const ipv4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
	return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ipv4);
}

export interface RawBody {
	text: string;
	/** More than `limit` bytes came: `text` holds only the first chunks and is not to be parsed. */
	tooLarge: boolean;
	limit: number;
}

/** Reads the whole body (drained to the end so the connection stays usable), keeping at most `limit` bytes. */
export function readBody(request: IncomingMessage, limit: number): Promise<RawBody> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= limit) chunks.push(chunk);
		});
		request.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: size > limit, limit }));
		request.on('error', reject);
	});
}

/** A parsed JSON body, or what is wrong with it said as a phrase about "body" (each server wraps it in its own error). */
export type JsonBody = { ok: true; value: unknown } | { ok: false; problem: string };

/** `emptyAs`: the value of a blank body (admin routes with optional bodies); without it a blank body is invalid JSON. */
export function parseJsonBody(raw: RawBody, options: { emptyAs?: unknown } = {}): JsonBody {
	if (raw.tooLarge) return { ok: false, problem: `is larger than ${raw.limit} bytes` };
	if ('emptyAs' in options && raw.text.trim() === '') return { ok: true, value: options.emptyAs };
	try {
		return { ok: true, value: JSON.parse(raw.text) };
	} catch {
		return { ok: false, problem: 'is not valid JSON' };
	}
}

export interface JsonReply {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
}

/** Writes `reply` as JSON with its length; `options.headers` (the server's own) and then `reply.headers` may override the content type. */
export function sendJson(response: ServerResponse, reply: JsonReply, options: { indent?: number; headers?: Record<string, string> } = {}): void {
	const payload = JSON.stringify(reply.body, null, options.indent);
	response.writeHead(reply.status, {
		'content-type': 'application/json; charset=utf-8',
		'content-length': Buffer.byteLength(payload),
		...options.headers,
		...reply.headers,
	});
	response.end(payload);
}

/** A mistake on a server's command line: the CLI prints `<name>: message` and its usage, exit 2. */
export class UsageError extends Error {}

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;
export type ParsedFlags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>;

/** `argv` as flags only (strict, no bare words); parseArgs's first line ("Unknown option '--x'") becomes a UsageError. */
export function parseFlags<O extends FlagOptions>(argv: string[], options: O): ParsedFlags<O> {
	try {
		return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
	} catch (error) {
		throw new UsageError((error as Error).message.split('\n')[0]);
	}
}

/** Prints a usage mistake with the usage line and exits 2; anything else is rethrown. */
export function exitOnUsageError(name: string, usage: string, error: unknown): never {
	if (!(error instanceof UsageError)) throw error;
	process.stderr.write(`${name}: ${error.message}\n${usage}\n`);
	process.exit(2);
}

/** Stops `server` on the first SIGINT or SIGTERM, then exits 0 (1 when stopping failed). For a CLI's main. */
export function stopOnSignals(server: { stop(): Promise<void> }): void {
	const stop = (): void => {
		server.stop().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
}

/** Runs a CLI's main; an unexpected error is one line `<name>: message` on stderr and exit 1. */
export function runMain(name: string, main: () => Promise<void>): void {
	main().catch((error: unknown) => {
		process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	});
}
