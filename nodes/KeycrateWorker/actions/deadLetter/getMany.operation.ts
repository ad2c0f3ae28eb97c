import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { returnAllField } from '../../../Keycrate/actions/fields';
import { WORKER_LIMITS } from '../../contract';
import { workerRequest } from '../../transport/request';
import { listLimitField, readListLimit } from '../fields';

const properties: INodeProperties[] = [
	{ ...returnAllField, description: 'Whether to return all dead letters (up to 1,000, the most the worker lists) or only up to a given limit' },
	listLimitField(1000), // WORKER_LIMITS.maxDeadLettersPerList
];

export const description = updateDisplayOptions({ show: { resource: ['deadLetter'], operation: ['getMany'] } }, properties);

/** Syncs and hand-offs that failed for good: one item each ({kind, id, attempts, failed_at, reason}). */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<object[]> {
	const limit = readListLimit.call(this, itemIndex, WORKER_LIMITS.maxDeadLettersPerList);
	const letters = await workerRequest(this, { method: 'GET', path: '/admin/dead-letters', qs: { limit } }, itemIndex);
	return (Array.isArray(letters) ? letters : []).filter((letter) => typeof letter === 'object' && letter !== null);
}
