import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../../config/load';
import { backtestAnswer, BacktestTally, parseBacktestJobId, type BacktestAnswer, type BacktestJobProgress } from '../../domain/backtest';
import type { EngagementType } from '../../domain/engagement';
import type { LeadStatus } from '../../domain/lead';
import { backtestLead, configuredModel, modelRules } from '../../domain/scoring-model';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { seedScoredLead } from '../support/seed-leads';

/**
 * Backtests as jobs (docs/features/scoring-models.md "Backtest"). Batches of 3 leads make a job of
 * 60 leads take 20 activities, long enough to watch it run; `answerWithin` is short, so the
 * synchronous endpoint hands over its job.
 */
let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService({
    // Keys of this file's own: one job runs per key, and other files backtest with the development keys.
    apiKeys: 'bt-marketing-a=marketing,bt-marketing-b=marketing,bt-ops=ops,bt-capture=capture',
    databaseUrl: await freshDatabase('backtest_jobs'),
    config: { backtest: { batchSize: 3, answerWithin: 'PT0.05S' } },
  });
  await seedWindow();
});
afterAll(async () => {
  await service?.close();
});

const keyA = { key: 'bt-marketing-a' };
const keyB = { key: 'bt-marketing-b' };
const config = resolveLeadConfig({});
const defaults = configuredModel(config);
const candidate = {
  ...defaults,
  scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, requested_demo: 30, visited_pricing_page: 40 } },
  qualification: { sqlAt: 60, mqlAt: 40 },
};
const from = '2005-06-01T00:00:00.000Z';
const to = '2005-07-01T00:00:00.000Z';
const question = { candidate, baseline: { version: 1 }, from, to };
const leadsInWindow = 60;

/** What the domain's backtest gives for the seeded leads: each re-scored at its last update by version 1 and the candidate. */
let expected: BacktestAnswer;
async function seedWindow() {
  const engagements: EngagementType[][] = [
    ['requested_demo'],
    ['visited_pricing_page', 'clicked_email_link'],
    ['requested_demo', 'visited_pricing_page'],
    ['downloaded_content'],
    ['requested_demo', 'attended_webinar', 'submitted_contact_form'],
  ];
  const statuses: LeadStatus[] = ['converted', 'mql', 'disqualified', 'not_ready', 'sql', 'converted', 'accepted'];
  const tally = new BacktestTally();
  const baseline = modelRules(defaults, 1);
  const candidateRules = modelRules(candidate, 0);
  for (let i = 0; i < leadsInWindow; i++) {
    const createdAt = new Date(Date.parse(from) + i * 3_600_000).toISOString();
    const updatedAt = new Date(Date.parse(createdAt) + (i % 4) * 12 * 86_400_000).toISOString();
    const lead = await seedScoredLead(service.sql, {
      createdAt,
      updatedAt,
      lastEngagementAt: createdAt,
      seen: engagements[i % engagements.length]!,
      ...(i % 3 === 0 ? { title: 'CTO' } : {}),
      status: statuses[i % statuses.length]!,
    });
    tally.add(backtestLead(lead, new Date(updatedAt), baseline, candidateRules));
  }
  // Outside [from, to): at `to` exactly.
  await seedScoredLead(service.sql, { createdAt: to, seen: ['requested_demo'], status: 'converted' });
  expected = backtestAnswer({ from, to, baselineVersion: 1, candidateVersion: null }, tally.counts());
}

interface JobView {
  id: string;
  href: string;
  state: BacktestJobProgress['state'];
  progress: { read: number; total: number | null };
  result?: BacktestAnswer;
  finishedAt: string | null;
}

/** Reads the job until it has ended, every view on the way. */
async function pollToEnd(href: string, as: { key: string } = keyA): Promise<JobView[]> {
  const views: JobView[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const read = await service.request('GET', href, as);
    expect(read.status).toBe(200);
    views.push(read.body);
    if (read.body.state === 'done' || read.body.state === 'failed') return views;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`backtest job ${href} did not end within 60 s`);
}

describe('backtest jobs', () => {
  it('a marketing key starts a job (202, Location), reads its progress while it runs, and gets the figures the domain backtest gives', async () => {
    const started = await service.request('POST', '/scoring-models/backtests', { ...keyA, body: question });
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ id: expect.any(String), href: `/scoring-models/backtests/${started.body.id}` });
    expect(started.headers.get('location')).toBe(started.body.href);
    // The id: the key's tag and the run; no key, no email.
    expect(parseBacktestJobId(started.body.id)).not.toBeNull();
    expect(started.body.id).not.toMatch(/bt-marketing|@/);

    const views = await pollToEnd(started.body.href);
    const running = views.filter((v) => v.state === 'running');
    expect(running.some((v) => v.progress.total === leadsInWindow && v.progress.read > 0 && v.progress.read < leadsInWindow)).toBe(true);
    const reads = views.map((v) => v.progress.read);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    expect(views.filter((v) => v.state !== 'done').every((v) => v.result === undefined)).toBe(true);

    const done = views.at(-1)!;
    expect(done).toMatchObject({
      id: started.body.id,
      state: 'done',
      progress: { read: leadsInWindow, total: leadsInWindow },
      finishedAt: expect.any(String),
    });
    expect(done.result).toEqual(expected);
    expect(done.result).toMatchObject({ leads: leadsInWindow, baseline: { version: 1 }, candidate: { version: null } });
    // Ops reads it too; the answer stays readable after the job ended.
    expect((await service.request('GET', started.body.href, { key: 'bt-ops' })).body.result).toEqual(expected);
  });

  it('a job survives a worker restart midway and ends with the same figures', async () => {
    const started = await service.request('POST', '/scoring-models/backtests', { ...keyB, body: question });
    expect(started.status).toBe(202);
    const { workflowId, runId } = parseBacktestJobId(started.body.id)!;
    let before: JobView | undefined;
    await eventually(async () => {
      before = (await service.request('GET', started.body.href, keyB)).body;
      expect(before!.progress.read).toBeGreaterThan(0);
    });
    await service.restartWorker(async () => {
      // Stopped midway: the job waits in Temporal, with no worker.
      expect((await service.client.workflow.getHandle(workflowId, runId).describe()).status.name).toBe('RUNNING');
    });
    const after = await pollToEnd(started.body.href, keyB);
    expect(after[0]!.progress.read).toBeGreaterThanOrEqual(before!.progress.read);
    expect(after.at(-1)).toMatchObject({ state: 'done', progress: { read: leadsInWindow, total: leadsInWindow } });
    expect(after.at(-1)!.result).toEqual(expected);
  });

  it('one job per key: a second while one runs answers 409 naming it, another key runs its own, and the key may start again once it ended', async () => {
    const first = await service.request('POST', '/scoring-models/backtests', { ...keyA, body: question });
    expect(first.status).toBe(202);
    const second = await service.request('POST', '/scoring-models/backtests', {
      ...keyA,
      body: { ...question, candidate: { version: 1 } },
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining(first.body.id) });
    expect(second.headers.get('location')).toBe(first.body.href);
    // The synchronous endpoint is the same job: refused alike.
    expect((await service.request('POST', '/scoring-models/backtest', { ...keyA, body: question })).status).toBe(409);

    const other = await service.request('POST', '/scoring-models/backtests', { ...keyB, body: question });
    expect(other.status).toBe(202);
    expect(other.body.id).not.toBe(first.body.id);

    const [firstViews, otherViews] = await Promise.all([pollToEnd(first.body.href), pollToEnd(other.body.href, keyB)]);
    expect(firstViews.at(-1)!.result).toEqual(expected);
    expect(otherViews.at(-1)!.result).toEqual(expected);

    const again = await service.request('POST', '/scoring-models/backtests', { ...keyA, body: question });
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(first.body.id);
    expect((await pollToEnd(again.body.href)).at(-1)!.state).toBe('done');
  });

  it('the synchronous endpoint hands over its job (202, Location) when it does not end within backtest.answerWithin', async () => {
    const asked = await service.request('POST', '/scoring-models/backtest', { ...keyB, body: question });
    expect(asked.status).toBe(202);
    expect(asked.headers.get('location')).toBe(asked.body.href);
    expect((await pollToEnd(asked.body.href, keyB)).at(-1)!.result).toEqual(expected);
  });

  it('refuses a window over 366 days with a 400 naming the field, and starts nothing', async () => {
    const refused = await service.request('POST', '/scoring-models/backtests', {
      ...keyA,
      body: { ...question, from: '2004-01-01T00:00:00.000Z', to: '2005-07-01T00:00:00.000Z' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toContainEqual(expect.objectContaining({ path: 'to', message: expect.stringMatching(/366 days/) }));
    // No job was started for the key: the next one is not refused as a second.
    const next = await service.request('POST', '/scoring-models/backtests', { ...keyA, body: question });
    expect(next.status).toBe(202);
    await pollToEnd(next.body.href);
    expect(
      (await service.request('POST', '/scoring-models/backtests', { ...keyA, body: { ...question, candidate: { version: 999_999 } } }))
        .status,
    ).toBe(404);
  });

  it('a job stopped by the engine reads as failed; unknown and malformed ids answer 404 and 400; capture keys are refused', async () => {
    const started = await service.request('POST', '/scoring-models/backtests', { ...keyB, body: question });
    const { workflowId, runId } = parseBacktestJobId(started.body.id)!;
    await service.client.workflow.getHandle(workflowId, runId).terminate('test: an operator stops the job');
    const failed = await service.request('GET', started.body.href, keyB);
    expect(failed.body).toMatchObject({ state: 'failed', finishedAt: expect.any(String) });
    expect(failed.body.result).toBeUndefined();

    const unknown = started.body.id.replace(/[0-9a-f]{12}$/, '000000000000');
    expect((await service.request('GET', `/scoring-models/backtests/${unknown}`, keyA)).status).toBe(404);
    for (const id of ['scoring-rollout-2', 'lead-000000000000000000000000'])
      expect((await service.request('GET', `/scoring-models/backtests/${id}`, keyA)).status).toBe(400);
    expect((await service.request('POST', '/scoring-models/backtests', { key: 'bt-capture', body: question })).status).toBe(403);
    expect((await service.request('GET', started.body.href, { key: 'bt-capture' })).status).toBe(403);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await service.request('GET', '/openapi.json', { key: null });
    expect(doc.body.paths['/scoring-models/backtests'].post.responses).toHaveProperty(['202']);
    expect(doc.body.paths['/scoring-models/backtests/{id}'].get.responses).toHaveProperty(['200']);
    expect(doc.body.paths['/scoring-models/backtest'].post.responses).toHaveProperty(['202']);
    expect(doc.body.components.schemas).toHaveProperty(['BacktestJob']);
  });
});
