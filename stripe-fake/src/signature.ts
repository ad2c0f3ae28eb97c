/** Stripe's webhook signature: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the whsec_ secret>`. */
import { createHmac } from 'node:crypto';

export function signatureHeader(body: string, secret: string, timestampSeconds: number): string {
	const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
	return `t=${timestampSeconds},v1=${signature}`;
}
