// A log scan over the output of worker processes driven through their error paths (bad signatures, Keycrate
// 500s and lost replies, a wrong Keycrate key → dead letters, Redis unreachable with a password in REDIS_URL,
// configuration errors): no secret value, and nothing shaped like one, appears anywhere.

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Cluster, CLI_PATH, freePort, sleep, WORKER_DIR } from './support/cluster-harness.js';
import { playPhase, StoryBook } from './support/cluster-stripe.js';
import { rootOfEvent } from '../src/stripe/roots.js';
import { waitFor } from './support/wait.js';

const SHAPES: Record<string, RegExp> = {
	'a Stripe signing secret': /whsec_[A-Za-z0-9+/=_-]{6,}/,
	'a Stripe API key': /sk_(?:test|live)_[A-Za-z0-9]{6,}/,
	'a Keycrate API key': /kc_[A-Za-z0-9_-]{16,}/,
};

describe('log scan: no secret in any process output', () => {
	let cluster: Cluster | undefined;

	afterAll(async () => {
		await cluster?.stop();
	});

	test('error paths of ingest, processor, dead letters and configuration print no secret', async () => {
		const running = await Cluster.start({ label: 'logs', env: { LOG_LEVEL: 'debug' } });
		cluster = running;
		const book = new StoryBook(running.stripe, 99, running.tiers, running.graceSeconds);
		const stories = [book.oneOff({ outcome: 'refund', async: false }), book.subscription({ renewals: 1, end: 'cancel' })];
		for (let phase = 0; playPhase(stories, phase) > 0; phase++) void 0;
		// The stories' events (the catalogue's product and price events name no root).
		const events = running.stripe.events().filter((event) => 'root' in rootOfEvent(event));
		const otherSigningSecret = `whsec_${randomBytes(24).toString('base64url')}`;
		const wrongKeycrateKey = `kc_${randomBytes(16).toString('hex')}`;
		const redisPassword = `pw-${randomBytes(12).toString('hex')}`;
		const secrets = [...running.secrets(), otherSigningSecret, wrongKeycrateKey, redisPassword];
		const outputs: string[] = [];

		// 1. A processor with a wrong Keycrate key: every job fails at once (INVALID_API_KEY) into the dead letters.
		const wrongKey = await running.spawnWorker('all', { KEYCRATE_API_KEY: wrongKeycrateKey });
		for (const event of events.slice(0, 2)) expect(await running.postOnce(wrongKey.ingestUrl as string, event)).toBe(200);
		// Signed with a secret the ingest does not know: 400.
		expect(await running.postOnce(wrongKey.ingestUrl as string, events[2], otherSigningSecret)).toBe(400);
		// (subscription events of the first story name the same root: one job)
		await waitFor(async () => (await running.jobCounts()).failed >= 1, { what: () => `a dead letter\n${running.tailOfLogs(2000)}`, timeoutMs: 30000 });
		const deadLetters = await running.failedJobs();
		expect(deadLetters.map((letter) => letter.reason).join('\n')).toMatch(/INVALID_API_KEY/);
		await wrongKey.kill('SIGTERM');
		const listing = spawnSync(process.execPath, [CLI_PATH, 'dead-letters'], { cwd: WORKER_DIR, env: running.workerEnv(0), encoding: 'utf8' });
		outputs.push(listing.stdout, listing.stderr, JSON.stringify(deadLetters));
		expect(listing.stdout).toMatch(/INVALID_API_KEY/);

		// 2. A good worker under Keycrate faults (stack traces of failed attempts in the log).
		await running.spawnWorker('all');
		running.setFaults([
			{ endpoint: '*', kind: 'commit_then_500', rate: 0.3 },
			{ endpoint: '*', kind: 'error_500', rate: 0.2 },
		]);
		await running.deliver({ events: events.slice(2) });
		await running.waitForDrain(90000);
		running.setFaults([]);

		// 3. Redis unreachable, its URL carrying a password.
		const nowhere = await freePort();
		const redisDown = await running.spawnWorker('process', { REDIS_URL: `redis://default:${redisPassword}@127.0.0.1:${nowhere}` });
		await sleep(1500);
		await redisDown.kill('SIGTERM', 3000);

		// 4. Configuration errors: one line naming the variable, never its value.
		const badConfigs: Record<string, string>[] = [
			{ STRIPE_WEBHOOK_SECRETS: `${running.webhookSecret},not-a-secret-${otherSigningSecret}` },
			{ KEYCRATE_API_KEY: `xx${wrongKeycrateKey}` },
			{ REDIS_URL: `http://user:${redisPassword}@127.0.0.1:1` },
		];
		for (const env of badConfigs) {
			const result = spawnSync(process.execPath, [CLI_PATH, 'start', '--role', 'all'], {
				cwd: WORKER_DIR,
				env: running.workerEnv(0, env),
				encoding: 'utf8',
				timeout: 10000,
			});
			expect(result.status).toBe(2);
			expect(result.stderr.trim().split('\n')).toHaveLength(1);
			outputs.push(result.stdout, result.stderr);
		}

		const everything = [running.allOutput(), ...outputs].join('\n');
		const leaked = secrets.filter((secret) => everything.includes(secret)).map((secret) => `${secret.slice(0, 5)}… (length ${secret.length})`);
		const shaped = Object.entries(SHAPES)
			.filter(([, shape]) => shape.test(everything))
			.map(([what, shape]) => `${what}: ${shape.exec(everything)?.[0].slice(0, 8)}…`);
		console.log(
			`log scan: ${everything.split('\n').length} lines from ${running.workers.length} processes + ${outputs.length} CLI outputs; leaked ${leaked.length}, secret-shaped ${shaped.length}`,
		);
		expect(leaked).toEqual([]);
		expect(shaped).toEqual([]);
		expect(everything).toMatch(/INVALID_API_KEY/); // the scan did read the error paths
	}, 180000);
});
