// Writes the workflow bundle to the path given (worker/workflow-code.ts `bundleInChildProcess`).
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { interceptorModules, workflowsPath } from './workflow-code';

const codePath = process.argv[2];
if (!codePath) throw new Error('usage: bundle-workflows.ts <output path> [--tracing]');
const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
const { code } = await bundleWorkflowCode({
  workflowsPath,
  workflowInterceptorModules: interceptorModules({ tracing: process.argv[3] === '--tracing' }),
  logger: silent,
});
await writeFile(codePath, code);
