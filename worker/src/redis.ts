// The Redis connection: one server (REDIS_URL) or, with REDIS_CLUSTER=true, a Redis Cluster reached through its
// seed nodes (REDIS_URL, comma-separated) with ioredis' Cluster client, which follows MOVED/ASK to the master of
// each slot. Every key of the worker starts with the QUEUE_PREFIX hash tag, so all of them live in one slot.

import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

export type RedisConnection = Redis | Cluster;

/** The cluster's seed nodes and the options every node connection shares (user, password, TLS of the first URL). */
export function clusterNodes(redisUrl: string): { nodes: { host: string; port: number }[]; nodeOptions: RedisOptions } {
	const urls = redisUrl.split(',').map((node) => new URL(node.trim()));
	const [first] = urls;
	return {
		nodes: urls.map((url) => ({ host: url.hostname, port: url.port === '' ? 6379 : Number(url.port) })),
		nodeOptions: {
			...(first.username !== '' ? { username: decodeURIComponent(first.username) } : {}),
			...(first.password !== '' ? { password: decodeURIComponent(first.password) } : {}),
			...(first.protocol === 'rediss:' ? { tls: {} } : {}),
		},
	};
}

/**
 * Connects with `options` per node. `enableOfflineQueue` belongs to the Cluster client itself there (its node
 * connections keep ioredis' own setting), so it is lifted out of the node options.
 */
export function connectRedis(config: Pick<Config, 'redisUrl' | 'redisCluster'>, options: RedisOptions): RedisConnection {
	if (!config.redisCluster) return new Redis(config.redisUrl, options);
	const { enableOfflineQueue, ...perNode } = options;
	const { nodes, nodeOptions } = clusterNodes(config.redisUrl);
	const clusterOptions: ClusterOptions = { redisOptions: { ...perNode, ...nodeOptions }, ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}) };
	return new Cluster(nodes, clusterOptions);
}
