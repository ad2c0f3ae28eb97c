import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

// One flat config for the whole repository: ESLint's and typescript-eslint's recommended rules (syntax only, no
// type information: fast) on every workspace, and n8n's community-node rules on the published code (nodes/,
// credentials/) and package.json. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
export default tseslint.config(
	{
		ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'openapi/keycrate.d.ts', 'test/e2e/editor/out/**', '.n8n-e2e/**'],
	},
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, ...tseslint.configs.recommended],
		languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' }, globals: globals.node },
		rules: {
			// `_name` marks a parameter or binding kept on purpose (a callback's shape, a destructured rest).
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
		},
	},
	{
		files: ['**/*.js', '**/*.mjs'],
		extends: [js.configs.recommended],
		languageOptions: { globals: globals.node },
	},
	{
		// CommonJS: the root package's entry, gulpfile and jest configs.
		files: ['*.js', 'test/**/*.js'],
		languageOptions: { sourceType: 'commonjs' },
	},
	{
		// typescript-eslint reads a .json file as a JSON document, which the package.json rules inspect.
		files: ['package.json'],
		languageOptions: { parser: tseslint.parser },
	},
	// Scoped to what is published: its rules (no-restricted-globals, no-runtime-dependencies, …) are n8n's, for nodes.
	{ ...n8nCommunityNodesPlugin.configs.recommended, files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'package.json'] },
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// Meant for n8n's own repository, where documentationUrl is a docs slug; ours is a URL.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// These two predate NodeConnectionTypes and contradict the community plugin's
			// node-connection-type-literal rule, which asks for NodeConnectionTypes.Main.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},
	{
		files: ['package.json'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules },
	},
);
