/** Stripe's error envelope (`{"error": {type, code, message, param, doc_url}}`) and the fake's own usage errors. */

export type StripeErrorType = 'invalid_request_error' | 'api_error' | 'card_error' | 'idempotency_error';

export class StripeApiError extends Error {
	constructor(
		readonly status: number,
		readonly type: StripeErrorType,
		message: string,
		readonly code?: string,
		readonly param?: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}

	toBody(requestId: string): { error: Record<string, string> } {
		const error: Record<string, string> = { type: this.type, message: this.message };
		if (this.code) {
			error.code = this.code;
			error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}`;
		}
		if (this.param) error.param = this.param;
		error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
		return { error };
	}
}

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
	return new StripeApiError(400, 'invalid_request_error', message, code, param);
}

export function resourceMissing(what: string, id: string, param = 'id'): StripeApiError {
	return new StripeApiError(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing', param);
}

/** A world-building call the fake refuses (bad arguments, an impossible transition): names the field. */
export class FakeUsageError extends Error {
	constructor(
		readonly field: string,
		message: string,
	) {
		super(`${field}: ${message}`);
		this.name = 'FakeUsageError';
	}
}
