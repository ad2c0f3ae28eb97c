/**
 * A minimal SMTP server on loopback that accepts every message and keeps it, so that an example workflow's
 * Send Email node really sends (over n8n's SMTP credential, no TLS, no auth) and the test reads what it sent.
 * Speaks just what nodemailer needs: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface SentMail {
	from: string;
	to: string[];
	/** The message as sent (headers and body), dot-stuffing removed. */
	raw: string;
}

export class SmtpSink {
	readonly messages: SentMail[] = [];
	private readonly sockets = new Set<Socket>();

	private constructor(
		private readonly server: Server,
		readonly port: number,
	) {}

	static async start(): Promise<SmtpSink> {
		// Assigned once the port is known; the connection handler is written before that, hence `let`.
		// eslint-disable-next-line prefer-const
		let sink: SmtpSink | undefined;
		const server = createServer((socket) => sink?.serve(socket));
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(0, '127.0.0.1', resolve);
		});
		const address = server.address();
		if (!address || typeof address !== 'object') throw new Error('the SMTP sink has no port');
		sink = new SmtpSink(server, address.port);
		return sink;
	}

	/** The messages' text with quoted-printable soft breaks and escapes undone (for `toContain` checks). */
	texts(): string[] {
		return this.messages.map(({ raw }) =>
			raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
		);
	}

	stop(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		return new Promise((resolve) => this.server.close(() => resolve()));
	}

	private serve(socket: Socket): void {
		this.sockets.add(socket);
		socket.on('close', () => this.sockets.delete(socket));
		socket.on('error', () => socket.destroy());
		socket.setEncoding('utf8');
		const reply = (line: string) => socket.write(`${line}\r\n`);
		let buffer = '';
		let mail: SentMail | undefined;
		let inData = false;
		reply('220 127.0.0.1 ESMTP keycrate-e2e sink');
		socket.on('data', (chunk: string) => {
			buffer += chunk;
			for (;;) {
				if (inData) {
					const end = buffer.indexOf('\r\n.\r\n');
					if (end < 0) return;
					const raw = buffer.slice(0, end + 2).replace(/^\.\./gm, '.');
					buffer = buffer.slice(end + 5);
					inData = false;
					if (mail) this.messages.push({ ...mail, raw });
					mail = undefined;
					reply('250 2.0.0 queued');
					continue;
				}
				const newline = buffer.indexOf('\r\n');
				if (newline < 0) return;
				const line = buffer.slice(0, newline);
				buffer = buffer.slice(newline + 2);
				const verb = line.slice(0, 4).toUpperCase();
				if (verb === 'EHLO') socket.write('250-127.0.0.1\r\n250 8BITMIME\r\n');
				else if (verb === 'HELO') reply('250 127.0.0.1');
				else if (verb === 'MAIL') {
					mail = { from: /<([^>]*)>/.exec(line)?.[1] ?? '', to: [], raw: '' };
					reply('250 2.1.0 OK');
				} else if (verb === 'RCPT') {
					mail?.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
					reply(mail ? '250 2.1.5 OK' : '503 5.5.1 MAIL first');
				} else if (verb === 'DATA') {
					inData = true;
					reply('354 end with <CRLF>.<CRLF>');
				} else if (verb === 'RSET') {
					mail = undefined;
					reply('250 2.0.0 OK');
				} else if (verb === 'NOOP') reply('250 2.0.0 OK');
				else if (verb === 'QUIT') {
					reply('221 2.0.0 bye');
					socket.end();
					return;
				} else reply('502 5.5.2 not implemented');
			}
		});
	}
}
