import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { LIMITS, UUID_PATTERN } from '../contract';
import { collectPages, subscriptionIdOf } from '../helpers/pagination';
import { CREDENTIAL_TYPE, type KeycrateCredentials, keycrateRequest } from '../transport/request';

/** The App ID the tier list is for: the node's App ID, else the credential's default. */
async function listAppId(context: ILoadOptionsFunctions): Promise<string> {
	const fromNode = context.getCurrentNodeParameter('appId');
	let appId = typeof fromNode === 'string' ? fromNode.trim() : '';
	if (appId === '' || appId.startsWith('=')) {
		appId = (await context.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE)).appId?.trim() ?? '';
	}
	if (!UUID_PATTERN.test(appId)) {
		throw new NodeOperationError(context.getNode(), 'Set App ID (a UUID) on the node or a default App ID in the credential to list subscription tiers');
	}
	return appId;
}

/** Subscription Tier → From List: the app's tiers, filtered by name or ID as the user types. */
export async function searchSubscriptions(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const appId = await listAppId(this);
	const tiers = await collectPages(
		{ returnAll: true, limit: Infinity, pageSize: LIMITS.maxPerPage },
		subscriptionIdOf,
		async (page, perPage) => await keycrateRequest(this, 'subscriptionGetBulk', { app_id: appId, page, per_page: perPage }),
	);
	const needle = (filter ?? '').trim().toLowerCase();
	const results = tiers
		.filter((tier) => typeof tier.subscription_id === 'string')
		.map((tier) => ({
			name: typeof tier.name === 'string' ? `${tier.name}${tier.level !== undefined ? ` (level ${String(tier.level)})` : ''}` : String(tier.subscription_id),
			value: tier.subscription_id as string,
		}))
		.filter((option) => needle === '' || option.name.toLowerCase().includes(needle) || option.value.includes(needle))
		.sort((a, b) => a.name.localeCompare(b.name));
	return { results };
}
