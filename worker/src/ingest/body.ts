// Reads a request body as raw bytes (the signature covers the exact bytes), refusing more than `limit`.

import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
	constructor(readonly limit: number) {
		super(`request body larger than ${limit} bytes`);
		this.name = 'BodyTooLargeError';
	}
}

/** Rejects with BodyTooLargeError as soon as the declared or received size passes the limit, and stops reading. */
export function readRawBody(request: IncomingMessage, limit: number): Promise<Buffer> {
	const declared = Number(request.headers['content-length']);
	if (Number.isFinite(declared) && declared > limit) {
		request.pause();
		return Promise.reject(new BodyTooLargeError(limit));
	}
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const stop = () => {
			request.off('data', onData);
			request.off('end', onEnd);
			request.off('error', onError);
		};
		const onData = (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				stop();
				request.pause();
				reject(new BodyTooLargeError(limit));
				return;
			}
			chunks.push(chunk);
		};
		const onEnd = () => {
			stop();
			resolve(Buffer.concat(chunks, size));
		};
		const onError = (error: Error) => {
			stop();
			reject(error);
		};
		request.on('data', onData);
		request.on('end', onEnd);
		request.on('error', onError);
	});
}
