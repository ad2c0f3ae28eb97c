/** Real-n8n end-to-end (run through test/e2e/run.sh, which installs the n8n runtimes and packs the node first). */
module.exports = {
	rootDir: '../..',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.test.ts'],
	// The n8n runtime specs and the editor script's own package are not modules of the suite.
	modulePathIgnorePatterns: ['<rootDir>/test/e2e/n8n-runtimes/', '<rootDir>/test/e2e/editor/'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }] },
	// One n8n process at a time: each `n8n execute` is CPU-heavy and they share one user folder.
	maxWorkers: 1,
	// A test that starts `n8n start` waits for it (up to 3 min on a busy machine) and then for its executions.
	testTimeout: 360000,
};
