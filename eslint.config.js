// ESLint's and typescript-eslint's recommended rules (https://typescript-eslint.io/getting-started/),
// without type information so that `npm test` runs it in seconds. Formatting is Prettier's (.prettierrc), checked by `npm run format:check`.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What workflow code must not import (the layers themselves are checked by .dependency-cruiser.cjs). */
const builtinsNotInWorkflows = builtinModules
  .flatMap((name) => [name, `node:${name}`])
  .map((name) => ({
    name,
    message: 'Node built-ins are not in the workflow sandbox (https://docs.temporal.io/develop/typescript/workflows/basics).',
  }));
const notInWorkflows = [
  {
    group: [
      'postgres',
      'pg',
      'hono',
      'hono/*',
      '@hono/*',
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/activity',
      '@temporalio/testing',
    ],
    message: 'Workflow code does no I/O: it calls activities.',
  },
  {
    regex: '^(\\.\\./)+(db|capture|api|worker|config|codec|observability|stack|bench|test)(/|$)',
    message: 'Workflow code imports domain/ and contracts/ only.',
  },
  {
    regex: '^(\\.\\./)+activities(/|$)',
    allowTypeImports: true,
    message: 'Workflows import activities for their types only (`import type`), to type their activity proxies.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'test-results/', 'bench/results/', 'test/artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // The code base uses `any` where a type would only repeat a generic bound (activity maps, test doubles).
      '@typescript-eslint/no-explicit-any': 'off',
      // A leading underscore marks what is left out on purpose (`const { policy: _, ...carried } = state`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // A `let` that a closure declared above its one assignment reads (a shutdown handler) stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: builtinsNotInWorkflows, patterns: notInWorkflows }] },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
