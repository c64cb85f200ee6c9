import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { encryptingDataConverter, type EncryptionCodec } from '../codec/payload-codec';
import { assignedAt, call, waitAssigned, type Bench } from './context';
import { cpuPerItem, cpuText, cpuTimes, type CpuTimes } from './cpu';
import { pool, summary, type Summary } from './stats';

export interface ThroughputFigures {
  /** The engine's own rate: no-op workflows started and completed through the client, 100 in flight. */
  noopPerSecond: number;
  /** Captures answered and routed to an owner in Postgres, 100 in flight. */
  leadsPerSecond: number;
  ratio: number;
  latencyAt100InFlight: Summary;
  /**
   * CPU milliseconds per workflow by part of the stack, in each phase (absent without /proc): what
   * the ratio comes from on a machine whose cores all the parts share. The no-op's own worker and
   * client run in the bench's process.
   */
  cpuMsPerWorkflow?: { noop: CpuTimes; lead: CpuTimes };
}

/**
 * Throughput, both closed-loop with 100 in flight: the engine's no-op limit on the same server
 * (a worker in the bench's process, with the same payload codec, so the baseline pays for
 * encryption too), then the lead pipeline: captures to owner assigned.
 */
export async function measureThroughput(
  bench: Bench,
  options: { noop: number; leads: number; temporalAddress: string; codec: EncryptionCodec; pids: { worker: number; api: number } },
): Promise<ThroughputFigures> {
  const { log, client, sql } = bench;
  log(`2/8 no-op baseline: ${options.noop} workflows started and completed through the client…`);
  const nativeConnection = await NativeConnection.connect({ address: options.temporalAddress });
  const noopWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'bench-noop',
    dataConverter: encryptingDataConverter(options.codec),
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./noop-workflow.ts', import.meta.url)),
      logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} },
    }),
  });
  const noopRun = noopWorker.run();
  const noopCpu = await cpuTimes(options.pids);
  const noopStart = performance.now();
  await pool(
    Array.from({ length: options.noop }, (_, i) => i),
    100,
    async (i) => {
      await client.workflow.execute('noopWorkflow', { taskQueue: 'bench-noop', workflowId: `noop-${i}-${randomUUID()}` });
    },
  );
  const noopPerSecond = options.noop / ((performance.now() - noopStart) / 1000);
  const noopCpuPerWorkflow = cpuPerItem(noopCpu, await cpuTimes(options.pids), options.noop);
  noopWorker.shutdown();
  await noopRun;
  await nativeConnection.close();
  log(`  ${noopPerSecond.toFixed(1)} no-op workflows/s${noopCpuPerWorkflow ? `; CPU per workflow: ${cpuText(noopCpuPerWorkflow)}` : ''}`);

  log(`   lead pipeline: ${options.leads} captures to owner assigned, 100 in flight…`);
  const ids: string[] = [];
  const sent = new Map<string, number>();
  const leadCpu = await cpuTimes(options.pids);
  const startedAt = Date.now();
  await pool(
    Array.from({ length: options.leads }, (_, i) => i),
    100,
    async (i) => {
      const sentAt = Date.now();
      const r = await call(
        bench,
        'POST',
        '/leads',
        { email: `tp-${i}-${randomUUID().slice(0, 6)}@acme.io`, source: 'demo_request' },
        'capture-dev',
      );
      if (r.status === 202) {
        const { leadId } = (await r.json()) as { leadId: string };
        ids.push(leadId);
        sent.set(leadId, sentAt);
      }
    },
  );
  await waitAssigned(sql, ids, 120_000);
  const leadCpuPerWorkflow = cpuPerItem(leadCpu, await cpuTimes(options.pids), ids.length);
  const done = [...(await assignedAt(sql, ids)).entries()].flatMap(([id, at]) => (at ? [[id, at.getTime()] as const] : []));
  const finishTimes = done.map(([, at]) => at - startedAt).sort((a, b) => a - b);
  const seconds = finishTimes.at(-1)! / 1000;
  const leadsPerSecond = done.length / seconds;
  const latency = summary(done.map(([id, at]) => at - sent.get(id)!));
  log(
    `  ${leadsPerSecond.toFixed(1)} leads/s captured → scored → routed (${((leadsPerSecond / noopPerSecond) * 100).toFixed(0)}% of no-op); ` +
      `95% done at ${(finishTimes[Math.floor(finishTimes.length * 0.95)]! / 1000).toFixed(1)} s, all at ${seconds.toFixed(1)} s; ` +
      `capture → assigned p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms` +
      (leadCpuPerWorkflow ? `; CPU per lead: ${cpuText(leadCpuPerWorkflow)}` : ''),
  );
  return {
    noopPerSecond,
    leadsPerSecond,
    ratio: leadsPerSecond / noopPerSecond,
    latencyAt100InFlight: latency,
    ...(noopCpuPerWorkflow && leadCpuPerWorkflow ? { cpuMsPerWorkflow: { noop: noopCpuPerWorkflow, lead: leadCpuPerWorkflow } } : {}),
  };
}
