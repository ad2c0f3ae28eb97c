/** `npm run test:long`: the process-level runs that take minutes (LONG_TESTS), with the worker's settings. */
import base, { LONG_TESTS } from './jest.config.js';

export default {
	...base,
	testMatch: LONG_TESTS.map((name) => `<rootDir>/test/${name}.test.ts`),
	testPathIgnorePatterns: ['/node_modules/'],
};
