/**
 * Sends one license hand-off with the Stripe sync worker's own code (worker/src/jobs/handoff.ts:
 * buildHandoffPayload + deliverHandoff, i.e. its body, Standard Webhooks headers and Idempotency-Key), so the
 * example hand-off workflow is tested against what the worker really sends. Runs in its own process
 * under tsx (the worker is an ES module package):
 *
 *   tsx deliver-handoff.ts '{"url": …, "secret": …, "email": …, "licenseKey": …, "expiresAt": …}'
 *
 * Prints {"status": <HTTP status>} or {"error": <name>, "status"?: <HTTP status>}.
 */
import { buildHandoffPayload, deliverHandoff } from '../../../worker/src/jobs/handoff';

interface Delivery {
	url: string;
	secret: string;
	email: string;
	licenseKey: string;
	expiresAt: string | null;
}

async function main(): Promise<void> {
	const delivery = JSON.parse(process.argv[2] ?? '{}') as Delivery;
	const payload = buildHandoffPayload(
		{ email: delivery.email, checkoutSessionId: 'cs_test_e2e' } as Parameters<typeof buildHandoffPayload>[0],
		{ licenseKey: delivery.licenseKey, expiresAt: delivery.expiresAt, status: 'active' } as Parameters<typeof buildHandoffPayload>[1],
	);
	try {
		const { status } = await deliverHandoff({ licenseWebhookUrl: delivery.url, licenseWebhookSecret: delivery.secret }, payload);
		process.stdout.write(JSON.stringify({ status }));
	} catch (error) {
		const { name, status } = error as { name: string; status?: number };
		process.stdout.write(JSON.stringify({ error: name, status }));
	}
}

void main();
