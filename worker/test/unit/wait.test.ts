import { waitFor } from '../support/wait.js';

describe('waitFor', () => {
	test('resolves with the first answer that is not false, undefined or null (0 and "" count as met)', async () => {
		const answers: Array<number | false | undefined | null> = [false, undefined, null, 0];
		expect(await waitFor(() => answers.shift(), { what: 'a value', intervalMs: 1 })).toBe(0);
		let calls = 0;
		expect(await waitFor(async () => (++calls === 3 ? 'ready' : undefined), { what: 'the third call', intervalMs: 1 })).toBe('ready');
	});

	test('times out naming what it waited for; a function is asked only then', async () => {
		let asked = 0;
		const what = () => `the moon (asked ${++asked})`;
		await expect(waitFor(() => false, { what, timeoutMs: 30, intervalMs: 5 })).rejects.toThrow('timed out after 0.03 s waiting for the moon (asked 1)');
		expect(asked).toBe(1);
	});
});
