// Writes the workflow bundle to the path given (worker/workflow-code.ts `bundleInChildProcess`).
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules, workflowsPath } from './workflow-code';

const codePath = process.argv[2];
if (!codePath) throw new Error('usage: bundle-workflows.ts <output path>');
const silent = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger: silent });
await writeFile(codePath, code);
