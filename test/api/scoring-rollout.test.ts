import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findLead } from '../../db/leads';
import { resolveLeadConfig } from '../../config/load';
import { bandOf, bands, type Band } from '../../domain/qualification';
import { configuredModel, modelRules, scoreUnder } from '../../domain/scoring-model';
import { freshDatabase, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as hours } from '../support/fixtures';

/**
 * Publishing a scoring model and rolling it out to the open leads on the real
 * Temporal dev server and Postgres, in a database of its own (other files publish versions too).
 */
let service: ServiceUnderTest;
const rolloutConfig = {
  scoringRollout: { leadsPerSecond: 40, batchSize: 10, reportWait: 'PT2M' },
  // Small enough that the rollout continues as new several times over a few hundred leads.
  history: { maxEventsPerRun: 300 },
};
beforeAll(async () => {
  service = await startService({
    apiKeys: 'capture-dev=capture,ops-dev=ops,marketing-dev=marketing',
    databaseUrl: await freshDatabase('rollout'),
    config: rolloutConfig,
  });
}, 60_000);
afterAll(async () => {
  await service?.close();
});

const asMarketing = { key: 'marketing-dev' };
const asOps = { key: 'ops-dev' };
const defaults = configuredModel(resolveLeadConfig({}));
/** Version 2: a content download is worth 70 points, which makes a manager who downloaded something sales-ready (75). */
const v2 = { ...defaults, scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, downloaded_content: 70 } } };
const leadCount = 240;
const slowly = <T>(assertion: () => T | Promise<T>, timeout = 180_000) => vi.waitFor(assertion, { timeout, interval: 250 });

async function progress(id: string) {
  const response = await service.request('GET', `/scoring-models/rollouts/${id}`, asOps);
  expect(response.status).toBe(200);
  return response.body;
}

/** score_changed events naming `version`, per lead. */
async function rescoresOf(version: number): Promise<Map<string, number>> {
  const rows = await service.sql<{ lead_id: string; count: string }[]>`
    SELECT lead_id, count(*) FROM lead_events WHERE type = 'score_changed' AND (data->>'modelVersion')::int = ${version} GROUP BY lead_id`;
  return new Map(rows.map((row) => [row.lead_id, Number(row.count)]));
}

describe('rolling a scoring model out to the open leads', () => {
  const leadIds: string[] = [];
  const downloaders = new Set<string>();
  let repId: string;

  beforeAll(async () => {
    const team = await service.request('POST', '/teams', {
      ...asOps,
      body: { id: 'team-rollout', name: 'Rollout', countries: ['US'], businessHours: hours },
    });
    expect(team.status).toBe(201);
    const rep = await service.request('POST', '/reps', {
      ...asOps,
      body: { id: 'rep-rollout', name: 'Rollout rep', email: 'rollout-rep@example.com', teamId: 'team-rollout', capacity: 10_000 },
    });
    expect(rep.status).toBe(201);
    repId = rep.body.id;
    // Half download content (10 points under version 1, 70 under version 2), half only subscribe to the newsletter.
    for (let i = 0; i < leadCount; i += 20) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const source = (i + j) % 2 === 0 ? 'content_download' : 'newsletter';
          return service
            .request('POST', '/leads', { body: { email: uniqueEmail('rollout'), source, title: 'Marketing Manager', country: 'US' } })
            .then((r) => ({ ...r, source }));
        }),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        leadIds.push(answer.body.leadId);
        if (answer.source === 'content_download') downloaders.add(answer.body.leadId);
      }
    }
    await slowly(async () => {
      const [row] = await service.sql<
        { count: string }[]
      >`SELECT count(*) FROM leads WHERE score_model_version = 1 AND lead_id IN ${service.sql(leadIds)}`;
      expect(Number(row!.count)).toBe(leadCount);
    });
  }, 300_000);

  it('re-scores each open lead exactly once, survives a worker restart midway, and routes the leads that become sales-ready', async () => {
    // What version 2 makes of each lead, by the same pure scoring the workflow uses, and where each stands now.
    const before = new Map<string, { band: Band; status: string }>();
    const expected = new Map<string, Band>();
    const transitions = Object.fromEntries(bands.map((from) => [from, Object.fromEntries(bands.map((to) => [to, 0]))])) as Record<
      Band,
      Record<Band, number>
    >;
    for (const leadId of leadIds) {
      const stored = (await findLead(service.sql, leadId))!;
      const band = bandOf(stored.lead.score!.score, defaults.qualification);
      before.set(leadId, { band, status: stored.lead.status });
      const after = scoreUnder(stored.lead.profile, stored.lead.engagement, new Date(), modelRules(v2, 2)).band;
      expected.set(leadId, after);
      transitions[band][after] += 1;
    }
    // The split the test relies on: downloaders become sales-ready under version 2, the others keep their band.
    const crossing = leadIds.filter((id) => before.get(id)!.band !== 'sql' && expected.get(id) === 'sql');
    expect(new Set(crossing)).toEqual(downloaders);

    const published = await service.request('POST', '/scoring-models', { ...asMarketing, body: { ...v2, rollout: 'open_leads' } });
    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({
      version: 2,
      rollout: { id: 'scoring-rollout-2', href: '/scoring-models/rollouts/scoring-rollout-2' },
    });
    const id = published.body.rollout.id as string;

    // Midway, the worker goes down (its rollout and leads with it) and a new one takes over.
    await slowly(async () => expect((await progress(id)).signaled).toBeGreaterThanOrEqual(60), 60_000);
    await service.restartWorker(async () => {
      const [row] = await service.sql<
        { count: string }[]
      >`SELECT count(*) FROM leads WHERE score_model_version = 2 AND lead_id IN ${service.sql(leadIds)}`;
      expect(Number(row!.count)).toBeLessThan(leadCount);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    });

    const done = await slowly(async () => {
      const figures = await progress(id);
      expect(figures.status).toBe('completed');
      return figures;
    });
    expect(done).toMatchObject({
      id,
      version: 2,
      leadsPerSecond: 40,
      total: leadCount,
      signaled: leadCount,
      rescored: leadCount,
      current: 0,
      skipped: 0,
      done: leadCount,
      remaining: 0,
      paged: true,
      transitions,
      bandChanges: crossing.length,
      salesReady: crossing.length,
    });

    console.log(
      `rollout: ${done.total} leads at ${done.leadsPerSecond}/s, worker restarted midway, in ${Date.parse(done.finishedAt) - Date.parse(done.startedAt)} ms`,
    );
    // The rate bound held: all but the last batch waited out their share of a second at 40 leads/s.
    expect(Date.parse(done.finishedAt) - Date.parse(done.startedAt)).toBeGreaterThanOrEqual(((leadCount - 10) / 40) * 1000);
    // Its history stayed bounded: the rollout continued as new, its figures carried over.
    const description = await service.client.workflow.getHandle(id).describe();
    expect(description.raw.workflowExecutionInfo?.firstRunId).toBeTruthy();
    expect(description.runId).not.toBe(description.raw.workflowExecutionInfo?.firstRunId);

    // Exactly one score_changed naming version 2 per lead, although the rollout and its leads were replayed on a new worker.
    const rescores = await rescoresOf(2);
    expect([...rescores.keys()].sort()).toEqual([...leadIds].sort());
    expect([...rescores.values()].every((count) => count === 1)).toBe(true);

    // The leads made sales-ready were routed as usual; the others kept their status.
    await slowly(async () => {
      for (const leadId of leadIds) {
        const stored = (await findLead(service.sql, leadId))!;
        expect(stored.lead.score!.modelVersion).toBe(2);
        if (downloaders.has(leadId)) {
          expect(stored.lead.status).toBe('sql');
          expect(stored.routing.ownerId).toBe(repId);
        } else {
          expect(stored.lead.status).toBe(before.get(leadId)!.status);
        }
      }
    }, 60_000);

    // A lead captured now scores by version 2 from the start: the model reached its workflow as data.
    const fresh = await service.request('POST', '/leads', {
      body: { email: uniqueEmail('after'), source: 'content_download', title: 'Marketing Manager', country: 'US' },
    });
    await slowly(async () => {
      const stored = await findLead(service.sql, fresh.body.leadId);
      expect(stored?.lead.score?.modelVersion).toBe(2);
      expect(stored?.lead.status).toBe('sql');
    }, 60_000);
  }, 600_000);

  it('cancels a rollout: no lead is signaled after it stops, and those re-scored keep their new version', async () => {
    const v3 = { ...v2, scoring: { ...v2.scoring, rules: { ...v2.scoring.rules, opened_emails: 9 } } };
    const published = await service.request('POST', '/scoring-models', {
      ...asMarketing,
      body: { ...v3, rollout: 'open_leads', leadsPerSecond: 5 },
    });
    expect(published.status).toBe(201);
    const id = published.body.rollout.id as string;
    expect(id).toBe(`scoring-rollout-${published.body.version}`);
    await slowly(async () => expect((await progress(id)).signaled).toBeGreaterThanOrEqual(10), 60_000);

    const cancelled = await service.request('POST', `/scoring-models/rollouts/${id}/cancel`, { ...asMarketing, body: {} });
    expect(cancelled.status).toBe(202);
    const stopped = await slowly(async () => {
      const figures = await progress(id);
      expect(figures.status).toBe('cancelled');
      return figures;
    }, 60_000);
    expect(stopped.leadsPerSecond).toBe(5);
    expect(stopped.signaled).toBeLessThan(stopped.total);
    expect(stopped.remaining).toBeGreaterThan(0);
    // Whatever the leads signaled before the cancel did is all that happens.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const rescores = await rescoresOf(published.body.version);
    expect(rescores.size).toBeGreaterThanOrEqual(10);
    expect(rescores.size).toBeLessThanOrEqual(stopped.signaled);
    expect((await progress(id)).signaled).toBe(stopped.signaled);
    expect([...rescores.values()].every((count) => count === 1)).toBe(true);

    expect((await service.request('POST', `/scoring-models/rollouts/${id}/cancel`, { ...asMarketing, body: {} })).status).toBe(409);
    // Only marketing publishes and cancels; ops reads.
    expect((await service.request('POST', `/scoring-models/rollouts/${id}/cancel`, { ...asOps, body: {} })).status).toBe(403);

    // Rolled out again: the leads re-scored by the cancelled rollout are not signaled twice, every other open lead is, once.
    const again = await service.request('POST', `/scoring-models/${published.body.version}/rollouts`, {
      ...asMarketing,
      body: { leadsPerSecond: 50 },
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id, href: `/scoring-models/rollouts/${id}` });
    expect((await service.request('POST', `/scoring-models/${published.body.version}/rollouts`, { ...asMarketing, body: {} })).status).toBe(
      409,
    );
    const completed = await slowly(async () => {
      const figures = await progress(id);
      expect(figures.status).toBe('completed');
      return figures;
    }, 120_000);
    console.log(
      `rollout again: ${completed.total} leads at ${completed.leadsPerSecond}/s in ${Date.parse(completed.finishedAt) - Date.parse(completed.startedAt)} ms`,
    );
    const open = leadIds.length + 1;
    expect(completed).toMatchObject({
      total: open - rescores.size,
      rescored: open - rescores.size,
      current: 0,
      skipped: 0,
      remaining: 0,
      bandChanges: 0,
      salesReady: 0,
    });
    const all = await rescoresOf(published.body.version);
    expect(all.size).toBe(open);
    expect([...all.values()].every((count) => count === 1)).toBe(true);
  }, 300_000);

  it('refuses a bad rollout request naming the field', async () => {
    const before = (await service.request('GET', '/scoring-models', asOps)).body.models.length;
    const badScope = await service.request('POST', '/scoring-models', { ...asMarketing, body: { ...v2, rollout: 'everyone' } });
    expect(badScope.status).toBe(400);
    expect(badScope.body.error.details.map((d: { path: string }) => d.path)).toContain('rollout');
    const badRate = await service.request('POST', '/scoring-models', {
      ...asMarketing,
      body: { ...v2, rollout: 'open_leads', leadsPerSecond: 0 },
    });
    expect(badRate.status).toBe(400);
    expect(badRate.body.error.details.map((d: { path: string }) => d.path)).toContain('leadsPerSecond');
    const rateAlone = await service.request('POST', '/scoring-models', { ...asMarketing, body: { ...v2, leadsPerSecond: 5 } });
    expect(rateAlone.status).toBe(400);
    expect(rateAlone.body.error.details.map((d: { path: string }) => d.path)).toContain('leadsPerSecond');
    expect((await service.request('GET', '/scoring-models', asOps)).body.models.length).toBe(before);
    expect((await service.request('POST', '/scoring-models/999/rollouts', { ...asMarketing, body: {} })).status).toBe(404);
    const doc = await service.request('GET', '/openapi.json', { key: null });
    for (const path of ['/scoring-models/{version}/rollouts', '/scoring-models/rollouts/{id}', '/scoring-models/rollouts/{id}/cancel'])
      expect(doc.body.paths).toHaveProperty([path]);
    expect(doc.body.paths['/scoring-models'].post.requestBody.content['application/json'].schema.$ref).toMatch(/ScoringModelPublish$/);
  });

  it('answers 404 for an unknown rollout and 400 for an id that is not a rollout id (never a lead workflow)', async () => {
    expect((await service.request('GET', '/scoring-models/rollouts/scoring-rollout-999', asOps)).status).toBe(404);
    const leadId = leadIds[0]!;
    const notRollout = await service.request('GET', `/scoring-models/rollouts/${leadId}`, asOps);
    expect(notRollout.status).toBe(400);
    expect(notRollout.body.error.details[0].path).toBe('id');
  });
});
