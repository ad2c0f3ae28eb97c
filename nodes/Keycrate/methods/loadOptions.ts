import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { LIMITS, UUID_PATTERN } from '../contract';
import { collectPages } from '../helpers/pagination';
import { CREDENTIAL_TYPE, type KeycrateCredentials, keycrateRequest } from '../transport/request';



/** The subscription tiers of the node's App ID (or the credential's default), for the dropdowns. */
export async function getSubscriptions(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const fromNode = this.getCurrentNodeParameter('appId');
	let appId = typeof fromNode === 'string' ? fromNode.trim() : '';
	if (appId === '' || appId.startsWith('=')) {
		appId = (await this.getCredentials<KeycrateCredentials>(CREDENTIAL_TYPE)).appId?.trim() ?? '';
	}
	if (!UUID_PATTERN.test(appId)) {
		throw new NodeOperationError(
			this.getNode(),
			'Set App ID (a UUID) on the node or a default App ID in the credential to list subscriptions',
		);
	}
	const subscriptions = await collectPages(
		{ returnAll: true, limit: Infinity, pageSize: LIMITS.maxPerPage },
		async (page, perPage) =>
			await keycrateRequest(this, 'subscriptionGetBulk', { app_id: appId, page, per_page: perPage }),
	);
	return subscriptions
		.map((tier) => ({
			name: `${tier.name} (level ${tier.level})`,
			value: tier.subscription_id,
			description: `${tier.license_count} licenses`,
		}))
		.sort((a, b) => a.name.localeCompare(b.name));
}
