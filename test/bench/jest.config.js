/** The node's paging benchmark (P4), run by `npm run bench`: the node tests' ts-jest set-up, one file. */
const base = require('../../jest.config.js');

module.exports = { ...base, rootDir: '../..', roots: ['<rootDir>/test/bench'], testMatch: ['**/*.bench.ts'], testTimeout: 900000 };
