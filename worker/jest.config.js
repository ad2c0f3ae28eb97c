/** Worker tests run as ES modules (got 14 is ESM-only): `node --experimental-vm-modules jest`. */

/**
 * The process-level runs that take minutes each (the mixed run of 26,000 deliveries, bulk jobs of 100,000 keys, the CLI as a process,
 * the failure stories): left out of `npm test`, which a contributor runs often, and run by `npm run test:long`
 * (jest.long.config.js), which `.ci/run` runs after it. One alone: `npm run test:long -w worker -- bulk`.
 */
export const LONG_TESTS = [
	'exactly-once-mixed',
	'bulk',
	'cli',
	'failures-keycrate',
	'failures-logs',
	'failures-processes',
	'failures-redis',
	'failures-stripe',
];

export default {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testPathIgnorePatterns: ['/node_modules/', ...LONG_TESTS.map((name) => `<rootDir>/test/${name}\\.test\\.ts$`)],
	extensionsToTreatAsEsm: ['.ts'],
	moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
	transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }] },
	testTimeout: 60000,
	maxWorkers: 1,
};
