import { errorHttpStatus, type ErrorCode, type Schemas } from './contract';

/** A refusal in Keycrate's error envelope; its HTTP status comes from the contract. */
export class ApiError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
		readonly field?: string,
	) {
		super(field ? `${field}: ${message}` : message);
	}

	get status(): number {
		return errorHttpStatus[this.code];
	}

	toBody(): Schemas['Error'] {
		return this.field ? { error: this.message, error_code: this.code, field: this.field } : { error: this.message, error_code: this.code };
	}
}

export const invalidInput = (field: string, message: string): ApiError => new ApiError('INVALID_INPUT', message, field);
