import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { resolveLeadConfig } from '../../config/load';
import type { ActionName, Actor } from '../../domain/actions';
import type { Capture } from '../../domain/capture';
import { leadPolicy, type LeadConfig, type LeadPolicy } from '../../domain/config';
import type { EngagementType } from '../../domain/engagement';
import { leadIdFor, leadIdSecret } from './lead-ids';
import { quietWorkflowBundle, skipTime, startTimeSkippingServer, terminateWhenQuiet, whenQuiet } from './time-skipping';
import { takeCapture } from '../../capture/take';
import { actionUpdates, engagementSignal, type ActionRequest, type ActionResult } from '../../contracts/lead';
import type { leadWorkflow } from '../../workflows/index';

import { MemoryLeadStore } from './memory-store';
import { testCodec } from './codec';
import { encryptingDataConverter } from '../../codec/payload-codec';
import { leadStoreActivities } from '../../activities';

export type LeadOutcome = Awaited<ReturnType<typeof leadWorkflow>>;

/**
 * The workflow tier: the real `leadWorkflow` on the time-skipping test server, running the real
 * activities (with the local enrichment provider) over a lead store in memory (no Postgres, no HTTP). One server and one workflow bundle per test file;
 * each test gets a fresh in-memory store and a worker of its own on its own task queue.
 *
 * Like the time-skipping suite of the end-to-end tests, it touches leads only when they are quiet
 * (docs/contributing.md: the Java test server's bugs): every helper that sends a lead a message waits
 * for it to be quiet afterwards, and time is skipped only through `sleep`.
 */
export interface WorkflowTier {
  env: TestWorkflowEnvironment;
  config: LeadConfig;
  policy: LeadPolicy;
  /** This test's system of record. */
  store: MemoryLeadStore;
  taskQueue: string;
  /** The test server's time, in ms since the epoch. */
  now(): Promise<number>;
  /** Captures through the capture path of `POST /leads` (capture/take.ts), then waits until the lead is quiet; resolves to the lead id. */
  capture(capture: Partial<Capture> & Pick<Capture, 'email' | 'source'>, captureId?: string): Promise<string>;
  /** Reports an engagement event like `POST /leads/{id}/activities` does, then waits until the lead is quiet. */
  engage(leadId: string, type: EngagementType, activityId?: string): Promise<void>;
  /** A rep or ops action as the API sends it (an update); resolves to its result or rejects with the update's failure. */
  act<A extends ActionName>(leadId: string, name: A, body: Omit<ActionRequest<A>, 'actor' | 'at'>, actor: Actor): Promise<ActionResult>;
  /** Skips time on the server, then waits until this test's leads are quiet. */
  sleep(duration: string | number): Promise<void>;
  /** The lead workflow's outcome, skipping time until it closes. */
  outcome(leadId: string): Promise<LeadOutcome>;
}

export function workflowTier(options: { config?: unknown } = {}): WorkflowTier {
  const config = resolveLeadConfig(options.config ?? {});
  let bundle: Awaited<ReturnType<typeof quietWorkflowBundle>>;
  let worker: Worker;
  let running: Promise<void>;
  const started = new Set<string>();

  const tier: WorkflowTier = {
    config,
    policy: leadPolicy(config),
    now: () => tier.env.currentTimeMs(),
    async capture(capture, captureId = randomUUID()) {
      const leadId = leadIdFor(capture.email);
      started.add(leadId);
      await takeCapture(
        tier.env.client,
        { taskQueue: tier.taskQueue, policy: tier.policy, leadIdSecret },
        { captureId, capture, receivedAt: new Date(await tier.now()).toISOString() },
      );
      await whenQuiet(tier.env, [leadId]);
      return leadId;
    },
    async engage(leadId, type, activityId = randomUUID()) {
      await tier.env.client.workflow
        .getHandle(leadId)
        .signal(engagementSignal, { activityId, type, receivedAt: new Date(await tier.now()).toISOString(), actor: 'capture' });
      await whenQuiet(tier.env, [leadId]);
    },
    async act(leadId, name, body, actor) {
      const request = { ...body, actor, at: new Date(await tier.now()).toISOString() };
      try {
        return await tier.env.client.workflow
          .getHandle(leadId)
          .executeUpdate(actionUpdates[name] as typeof actionUpdates.accept, { args: [request as unknown as ActionRequest<'accept'>] });
      } finally {
        await whenQuiet(tier.env, [leadId]);
      }
    },
    sleep: (duration) => skipTime(tier.env, duration, started),
    outcome: (leadId) => tier.env.client.workflow.getHandle<typeof leadWorkflow>(leadId).result(),
  } as Omit<WorkflowTier, 'env' | 'store' | 'taskQueue'> as WorkflowTier;

  beforeAll(async () => {
    // Workers come and go with every test: keep their state changes, and the core's warning that
    // the test server lacks a heartbeat capability, out of the output.
    try {
      Runtime.install({
        logger: new DefaultLogger('WARN'),
        telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
      });
    } catch {
      // a runtime is already installed in this process: keep its logger
    }
    // One after the other: the JVM must answer within the SDK's 5 s, which bundling beside it can cost on two cores.
    tier.env = await startTimeSkippingServer(testCodec, inject('timeSkippingServer') || undefined);
    bundle = await quietWorkflowBundle();
  });
  beforeEach(async () => {
    tier.store = new MemoryLeadStore(config);
    tier.taskQueue = `workflow-tier-${randomUUID()}`;
    worker = await Worker.create({
      connection: tier.env.nativeConnection,
      namespace: 'default',
      taskQueue: tier.taskQueue,
      workflowBundle: bundle,
      activities: leadStoreActivities({ store: tier.store }),
      dataConverter: encryptingDataConverter(testCodec),
    });
    running = worker.run();
  });
  afterEach(async () => {
    // Ended while the worker still runs: a workflow task left waiting for a stopped worker never finishes.
    await terminateWhenQuiet(tier.env, [...started], 'test over');
    started.clear();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  afterAll(async () => {
    await tier.env?.teardown();
  });
  return tier;
}
