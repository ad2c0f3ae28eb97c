// npm run chaos [-- --events 5000 --kills 20 --seed 20261204 --copies 3]: the chaos run (chaos.ts) on a private
// redis-server (no persistence, a free port) that it restarts once and empties once. Exits 1 when an invariant fails.

import { parseArgs } from 'node:util';
import { startPrivateRedis } from '../test/support/redis-private.js';
import { flushServers, report, runChaos } from './chaos.js';
import { chaosOptions, CHAOS_FLAGS } from './flags.js';

const { values } = parseArgs({ options: CHAOS_FLAGS, strict: true });
const options = chaosOptions(values, 'chaos');
const print = (line: string) => process.stdout.write(`${line}\n`);
print(`chaos: ${options.events} events ×${options.copies}, ≥ ${options.kills} SIGKILLs, seed ${options.seed}, one private redis-server`);

const redis = await startPrivateRedis();
let ok = false;
try {
	const result = await runChaos(
		{
			url: redis.url,
			env: {},
			async restart() {
				await redis.stop('SIGKILL');
				await redis.start();
			},
			flushAll: () => flushServers([redis.url]),
		},
		{ ...options, restartRedis: true, print },
	);
	ok = report(result, print);
} finally {
	await redis.stop();
}
process.exit(ok ? 0 : 1);
