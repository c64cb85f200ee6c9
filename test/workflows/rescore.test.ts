import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configuredModel } from '../../domain/scoring-model';
import { rescoreSignal } from '../../contracts/rollout';
import type { scoringRolloutWorkflow } from '../../workflows/index';
import { whenQuiet } from '../support/time-skipping';
import { workflowTier } from '../support/workflow-tier';

// A scoring model rolled out to running leads on the workflow tier: the real lead and rollout
// workflows on the time-skipping server, their real activities over a lead store in memory.
const tier = workflowTier();

const email = () => `reader.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`;
/** Content download +10, manager +10, US +15 = 35 under version 1 (not ready); +70 under version 2 = 95 (sales-ready). */
const downloader = () => ({ email: email(), source: 'content_download' as const, country: 'US', title: 'Marketing Manager' });
/** Newsletter, manager, US = 25 under either version. */
const subscriber = () => ({ email: email(), source: 'newsletter' as const, country: 'US', title: 'Marketing Manager' });

function publishVersion2() {
  const defaults = configuredModel(tier.config);
  return tier.store.publishScoringModel({
    ...defaults,
    scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, downloaded_content: 70 } },
  });
}

const scoreEvents = (leadId: string) =>
  tier.store.timeline(leadId, 'score_changed').map((event) => event.data as { modelVersion: number; score: number; reason: string });

describe('rolling a scoring model out to running leads', () => {
  it('re-scores each lead once under the rolled-out version, routes the one it makes sales-ready, and counts both', async () => {
    tier.store.addTeam({ id: 'team-us', countries: ['US'] }).addRep({ id: 'rep-a', teamId: 'team-us' });
    const ready = await tier.capture(downloader());
    const steady = await tier.capture(subscriber());
    expect(tier.store.lead(ready)).toMatchObject({ status: 'not_ready', score: { score: 35, modelVersion: 1 } });

    const model = publishVersion2();
    const rolloutId = `scoring-rollout-${randomUUID()}`;
    const progress = await tier.env.client.workflow.execute<typeof scoringRolloutWorkflow>('scoringRolloutWorkflow', {
      workflowId: rolloutId,
      taskQueue: tier.taskQueue,
      args: [{ model, leadsPerSecond: 1, batchSize: 1, reportWait: 'PT1H', maxEventsPerRun: 10_000 }],
    });
    expect(progress).toMatchObject({
      status: 'completed',
      total: 2,
      signaled: 2,
      rescored: 2,
      done: 2,
      remaining: 0,
      bandChanges: 1,
      salesReady: 1,
    });
    expect(progress.transitions.not_ready).toEqual({ not_ready: 1, mql: 0, sql: 1 });

    expect(tier.store.lead(ready)).toMatchObject({ status: 'sql', score: { score: 95, modelVersion: 2 }, routing: { ownerId: 'rep-a' } });
    expect(scoreEvents(ready).at(-1)).toMatchObject({ modelVersion: 2, score: 95, reason: 'scoring model version 2 rolled out' });
    expect(scoreEvents(steady).at(-1)).toMatchObject({ modelVersion: 2, score: 25 });

    // The same version again (a rollout resumed after a crash) and an older one change nothing.
    const handle = tier.env.client.workflow.getHandle(ready);
    await handle.signal(rescoreSignal, { rolloutId, model });
    await handle.signal(rescoreSignal, { rolloutId, model: { ...model, scoring: { ...model.scoring, modelVersion: 1 } } });
    await whenQuiet(tier.env, [ready]);
    expect(scoreEvents(ready).filter((event) => event.modelVersion === 2)).toHaveLength(1);
    expect(tier.store.lead(ready)?.score?.modelVersion).toBe(2);

    // The rolled-out model stays with the lead: its next engagement scores by version 2 too.
    await tier.engage(steady, 'visited_pricing_page');
    expect(scoreEvents(steady).at(-1)).toMatchObject({ modelVersion: 2, score: 40 });
  });

  it('counts a lead whose workflow is gone as skipped and completes without waiting for it', async () => {
    const live = await tier.capture(subscriber());
    const gone = await tier.capture(subscriber());
    await tier.env.client.workflow.getHandle(gone).terminate('ended by hand');
    const model = publishVersion2();
    const progress = await tier.env.client.workflow.execute<typeof scoringRolloutWorkflow>('scoringRolloutWorkflow', {
      workflowId: `scoring-rollout-${randomUUID()}`,
      taskQueue: tier.taskQueue,
      args: [{ model, leadsPerSecond: 10, batchSize: 10, reportWait: 'PT1H', maxEventsPerRun: 10_000 }],
    });
    expect(progress).toMatchObject({
      status: 'completed',
      total: 2,
      signaled: 2,
      rescored: 1,
      skipped: 1,
      done: 2,
      remaining: 0,
      bandChanges: 0,
    });
    expect(scoreEvents(live).at(-1)).toMatchObject({ modelVersion: 2 });
    expect(scoreEvents(gone).every((event) => event.modelVersion === 1)).toBe(true);
  });

  it('a lead captured after the publish scores by the newest version from its first capture', async () => {
    publishVersion2();
    const leadId = await tier.capture(downloader());
    expect(tier.store.lead(leadId)).toMatchObject({ status: 'sql', score: { score: 95, modelVersion: 2 } });
    expect(scoreEvents(leadId)).toHaveLength(1);
  });
});
