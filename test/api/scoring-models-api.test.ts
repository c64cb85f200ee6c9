import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadsCapturedPage, type LeadPosition } from '../../db/leads';
import { configuredModel } from '../../domain/scoring-model';
import { resolveLeadConfig } from '../../config/load';
import { freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { seedScoredLead, type ScoredLeadSeed } from '../support/seed-leads';

let service: ServiceUnderTest;
beforeAll(async () => {
  // A database of its own: new leads score by the newest published version, so the versions published here must not reach other files' leads.
  service = await startService({
    apiKeys: 'capture-dev=capture,ops-dev=ops,marketing-dev=marketing',
    databaseUrl: await freshDatabase('scoring_models'),
  });
});
afterAll(async () => {
  await service?.close();
});

const asMarketing = { key: 'marketing-dev' };
const asOps = { key: 'ops-dev' };
const config = resolveLeadConfig({});
const defaults = configuredModel(config);
const isoTimestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

/** Version 1 with a cheaper demo, a dearer pricing page and a lower SQL threshold: the candidate of these tests. */
const candidate = {
  ...defaults,
  scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, requested_demo: 30, visited_pricing_page: 40 } },
  qualification: { sqlAt: 60, mqlAt: 40 },
};

describe('publishing scoring models', () => {
  it('version 1 is the configured model, published on first read', async () => {
    const listed = await service.request('GET', '/scoring-models', asOps);
    expect(listed.status).toBe(200);
    expect(listed.body.models[0]).toEqual({ version: 1, ...defaults, publishedAt: isoTimestamp, publishedBy: 'defaults' });
    const one = await service.request('GET', '/scoring-models/1', asMarketing);
    expect(one.body).toEqual(listed.body.models[0]);
  });

  it('publishes the next version as sent, and concurrent publishes get distinct consecutive numbers', async () => {
    const before = (await service.request('GET', '/scoring-models', asOps)).body.models.length as number;
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        service.request('POST', '/scoring-models', { ...asMarketing, body: { ...candidate, qualification: { sqlAt: 60 + i, mqlAt: 40 } } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const numbers = responses.map((r) => r.body.version as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 8 }, (_, i) => before + 1 + i));
    // Each version holds what its own request sent.
    for (const response of responses) {
      const read = await service.request('GET', `/scoring-models/${response.body.version}`, asOps);
      expect(read.body).toEqual({
        ...candidate,
        qualification: response.body.qualification,
        version: response.body.version,
        publishedAt: isoTimestamp,
        publishedBy: 'marketing',
      });
    }
    expect(new Set(responses.map((r) => r.body.qualification.sqlAt)).size).toBe(8);
  });

  it('published versions cannot change, even directly in the database', async () => {
    await service.request('GET', '/scoring-models', asOps);
    await expect(service.sql`UPDATE scoring_models SET qualification = '{"sqlAt": 1, "mqlAt": 0}' WHERE version = 1`).rejects.toThrow(
      /cannot change/,
    );
    await expect(service.sql`DELETE FROM scoring_models WHERE version = 1`).rejects.toThrow(/cannot change/);
    await expect(service.sql`TRUNCATE scoring_models`).rejects.toThrow(/cannot change/);
    expect((await service.request('GET', '/scoring-models/1', asOps)).body.qualification).toEqual(defaults.qualification);
  });

  it('validates the body as the configuration is validated, naming each bad field', async () => {
    const bad = await service.request('POST', '/scoring-models', {
      ...asMarketing,
      body: { ...defaults, qualification: { sqlAt: 40, mqlAt: 50 }, icp: { ...defaults.icp, industries: ['a\u0000b'] }, extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const paths = bad.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['icp.industries.0']));
    expect(JSON.stringify(bad.body.error.details)).toContain('extra');
    const crossField = await service.request('POST', '/scoring-models', {
      ...asMarketing,
      body: { ...defaults, qualification: { sqlAt: 40, mqlAt: 50 } },
    });
    expect(crossField.status).toBe(400);
    expect(crossField.body.error.details).toContainEqual(expect.objectContaining({ path: 'qualification.mqlAt' }));
    expect((await service.request('GET', '/scoring-models/999999', asOps)).status).toBe(404);
    expect((await service.request('GET', '/scoring-models/zero', asOps)).status).toBe(400);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await service.request('GET', '/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    for (const path of ['/scoring-models', '/scoring-models/{version}', '/scoring-models/backtest', '/leads/{id}/score'])
      expect(doc.body.paths).toHaveProperty([path]);
    expect(doc.body.components.schemas).toHaveProperty(['ScoringModelInput']);
    expect(doc.body.paths['/scoring-models/backtest'].post.description).toMatch(/last update/);
  });

  it('roles: marketing publishes; ops reads only; capture and reps neither', async () => {
    expect((await service.request('POST', '/scoring-models', { ...asOps, body: defaults })).status).toBe(403);
    expect((await service.request('GET', '/scoring-models', { key: 'capture-dev' })).status).toBe(403);
    expect((await service.request('GET', '/scoring-models', { key: null })).status).toBe(401);
    expect((await service.request('POST', '/scoring-models/backtest', { key: 'capture-dev', body: {} })).status).toBe(403);
  });
});

const seedLead = (options: ScoredLeadSeed) => seedScoredLead(service.sql, options);

describe('POST /scoring-models/backtest', () => {
  // A window of its own, long past: no lead another test file captures falls in it.
  const from = '2003-03-01T00:00:00.000Z';
  const to = '2003-04-01T00:00:00.000Z';
  const day = (n: number) => new Date(Date.parse(from) + n * 86_400_000).toISOString();

  beforeAll(async () => {
    // Scores by hand (v1 → candidate): demo 50 → 30, pricing 15 → 40, CTO +20, contact form +20, content +10, email click +10.
    await seedLead({ createdAt: from, seen: ['requested_demo', 'visited_pricing_page'], status: 'converted' }); // 65 mql → 70 sql
    await seedLead({ createdAt: day(1), seen: ['requested_demo'], title: 'CTO', status: 'mql' }); //                    70 mql → 50 mql
    await seedLead({ createdAt: day(2), seen: ['visited_pricing_page', 'clicked_email_link'], status: 'converted' }); // 25 not_ready → 50 mql
    await seedLead({ createdAt: day(3), seen: ['requested_demo', 'attended_webinar'], status: 'disqualified' }); //     80 sql → 60 sql
    // Content 10, decayed −10 (40 days without engagement at its last update): 0 under both.
    await seedLead({ createdAt: day(4), updatedAt: day(50), lastEngagementAt: day(10), seen: ['downloaded_content'], status: 'not_ready' });
    await seedLead({ createdAt: day(5), seen: ['requested_demo', 'submitted_contact_form', 'visited_pricing_page'], status: 'converted' }); // 85 sql → 90 sql
    // Outside [from, to): just before `from`, and at `to` exactly.
    await seedLead({ createdAt: '2003-02-28T23:59:59.999Z', seen: ['requested_demo'], status: 'converted' });
    await seedLead({ createdAt: to, seen: ['requested_demo'], status: 'converted' });
  });

  const expected = {
    from,
    to,
    evaluatedAt: 'lead_updated_at',
    leads: 6,
    converted: 3,
    transitions: {
      sql: { sql: 2, mql: 0, not_ready: 0 },
      mql: { sql: 1, mql: 1, not_ready: 0 },
      not_ready: { sql: 0, mql: 1, not_ready: 1 },
    },
    baseline: {
      version: 1,
      bands: { sql: 2, mql: 2, not_ready: 2 },
      // Converted at 65, 25, 85; not at 70, 80, 0: 85 beats all 3, 65 and 25 beat 0 → 5 of 9 pairs.
      auc: 5 / 9,
      precision: 1 / 2, // SQL band: 80 (disqualified) and 85 (converted)
      recall: 1 / 3,
    },
    candidate: {
      bands: { sql: 3, mql: 2, not_ready: 1 },
      // Converted at 70, 50, 90; not at 50, 60, 0: 70 and 90 beat all 3, 50 ties 50 and beats 0 → 7.5 of 9.
      auc: 7.5 / 9,
      precision: 2 / 3, // SQL band: 70, 60, 90
      recall: 2 / 3,
    },
  };
  const decileCounts = (deciles: { leads: number; converted: number }[]) => deciles.map((d) => [d.leads, d.converted]);

  it('compares an unpublished candidate with version 1 over the leads captured in [from, to)', async () => {
    const result = await service.request('POST', '/scoring-models/backtest', {
      ...asMarketing,
      body: { candidate, baseline: { version: 1 }, from, to },
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ...expected, candidate: { ...expected.candidate, version: null } });
    expect(result.body.baseline.auc).toBeCloseTo(5 / 9, 12);
    expect(result.body.candidate.auc).toBeCloseTo(7.5 / 9, 12);
    // [leads, converted] per decile 0–9 … 90–100.
    expect(decileCounts(result.body.baseline.deciles)).toEqual([
      [1, 0],
      [0, 0],
      [1, 1],
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 1],
      [1, 0],
      [2, 1],
      [0, 0],
    ]);
    expect(decileCounts(result.body.candidate.deciles)).toEqual([
      [1, 0],
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
      [2, 1],
      [1, 0],
      [1, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(result.body.baseline.deciles[8]).toEqual({ min: 80, max: 89, leads: 2, converted: 1, conversionRate: 0.5 });
    expect(result.body.candidate.deciles[9]).toEqual({ min: 90, max: 100, leads: 1, converted: 1, conversionRate: 1 });
  });

  it('reads the window a batch at a time, in capture order, each batch one keyset query', async () => {
    const batches: string[][] = [];
    let after: LeadPosition | null = null;
    do {
      const page: Awaited<ReturnType<typeof leadsCapturedPage>> = await leadsCapturedPage(service.sql, { from, to, after, limit: 4 });
      batches.push(page.leads.map((l) => l.createdAt));
      after = page.next;
    } while (after);
    expect(batches.map((b) => b.length)).toEqual([4, 2]);
    expect(batches.flat()).toEqual([from, day(1), day(2), day(3), day(4), day(5)]);
  });

  it('takes a published candidate by version, the same figures; ops may run it', async () => {
    const published = await service.request('POST', '/scoring-models', { ...asMarketing, body: candidate });
    expect(published.status).toBe(201);
    const result = await service.request('POST', '/scoring-models/backtest', {
      ...asOps,
      body: { candidate: { version: published.body.version }, baseline: { version: 1 }, from, to },
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ...expected, candidate: { ...expected.candidate, version: published.body.version } });
  });

  it('the baseline defaults to the newest version', async () => {
    const newest = await service.request('POST', '/scoring-models', { ...asMarketing, body: defaults });
    const result = await service.request('POST', '/scoring-models/backtest', {
      ...asMarketing,
      body: { candidate: { version: 1 }, from, to },
    });
    expect(result.status).toBe(200);
    // The newest holds version 1's rules: nobody moves.
    expect(result.body.baseline).toMatchObject({ ...expected.baseline, version: expect.any(Number) });
    expect(result.body.baseline.version).toBeGreaterThanOrEqual(newest.body.version);
    expect(result.body.transitions).toEqual({
      sql: { sql: 2, mql: 0, not_ready: 0 },
      mql: { sql: 0, mql: 2, not_ready: 0 },
      not_ready: { sql: 0, mql: 0, not_ready: 2 },
    });
  });

  it('refuses a bad window, an unknown version and a malformed candidate', async () => {
    const post = (body: unknown) => service.request('POST', '/scoring-models/backtest', { ...asMarketing, body });
    const reversed = await post({ candidate: { version: 1 }, from: to, to: from });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.details).toContainEqual(expect.objectContaining({ path: 'to' }));
    expect((await post({ candidate: { version: 1 }, from: '1999-01-01T00:00:00Z', to })).status).toBe(400);
    expect((await post({ candidate: { version: 999_999 }, from, to })).status).toBe(404);
    expect((await post({ candidate: { version: 1 }, baseline: { version: 999_999 }, from, to })).status).toBe(404);
    expect((await post({ candidate: { scoring: {} }, from, to })).status).toBe(400);
  });
});

describe('bounded calls', () => {
  it('refuses a backtest window over a year, naming the field, without reading leads', async () => {
    const started = Date.now();
    const result = await service.request('POST', '/scoring-models/backtest', {
      ...asMarketing,
      body: { candidate: { version: 1 }, from: '2000-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toContainEqual(expect.objectContaining({ path: 'to', message: expect.stringMatching(/366 days/) }));
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses a rollout rate above what the pipeline sustains, naming the field', async () => {
    const result = await service.request('POST', '/scoring-models', {
      ...asMarketing,
      body: { ...candidate, rollout: 'open_leads', leadsPerSecond: 10_000 },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { path: string }) => d.path)).toContain('leadsPerSecond');
  });

  it('gives every pool connection a statement_timeout, so a slow statement is cancelled', async () => {
    const [row] = await service.sql<{ statement_timeout: string }[]>`SHOW statement_timeout`;
    expect(row?.statement_timeout).toBe('15s');
  });
});

describe('GET /leads/{id}/score', () => {
  it("shows the lead's breakdown under another version beside its current one", async () => {
    const lead = await seedLead({ createdAt: '2004-01-01T00:00:00.000Z', seen: ['requested_demo', 'visited_pricing_page'], status: 'mql' });
    const published = await service.request('POST', '/scoring-models', { ...asMarketing, body: candidate });
    const result = await service.request('GET', `/leads/${lead.leadId}/score?model=${published.body.version}`, asOps);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      leadId: lead.leadId,
      evaluatedAt: '2004-01-01T00:00:00.000Z',
      current: {
        score: 65,
        grade: 'F',
        band: 'mql',
        modelVersion: 1,
        breakdown: [
          { rule: 'requested_demo', points: 50, reason: 'requested a demo' },
          { rule: 'visited_pricing_page', points: 15, reason: 'visited the pricing page' },
        ],
      },
      model: {
        score: 70,
        grade: 'F',
        band: 'sql',
        modelVersion: published.body.version,
        breakdown: [
          { rule: 'visited_pricing_page', points: 40, reason: 'visited the pricing page' },
          { rule: 'requested_demo', points: 30, reason: 'requested a demo' },
        ],
      },
    });
    expect((await service.request('GET', `/leads/${lead.leadId}/score?model=999999`, asOps)).status).toBe(404);
    expect((await service.request('GET', `/leads/${lead.leadId}/score?model=x`, asOps)).status).toBe(400);
    expect((await service.request('GET', `/leads/lead-000000000000000000000000/score?model=1`, asOps)).status).toBe(404);
  });

  it('reps read their own leads only; capture keys none', async () => {
    const suffix = randomUUID().slice(0, 8);
    const rep = await service.request('POST', '/reps', {
      ...asOps,
      body: { id: `rep-score-${suffix}`, name: 'Sam', email: `sam-${suffix}@example.com` },
    });
    expect(rep.status).toBe(201);
    const owned = await seedLead({ createdAt: '2004-02-01T00:00:00.000Z', seen: ['requested_demo'], status: 'accepted' });
    const other = await seedLead({ createdAt: '2004-02-01T00:00:00.000Z', seen: ['requested_demo'], status: 'mql' });
    await service.sql`UPDATE leads SET owner_id = ${rep.body.id} WHERE lead_id = ${owned.leadId}`;
    const asRep = { key: rep.body.apiKey as string };
    const mine = await service.request('GET', `/leads/${owned.leadId}/score?model=1`, asRep);
    expect(mine.status).toBe(200);
    expect(mine.body.model).toMatchObject({ score: 50, band: 'mql', modelVersion: 1 });
    expect((await service.request('GET', `/leads/${other.leadId}/score?model=1`, asRep)).status).toBe(404);
    expect((await service.request('GET', `/leads/${owned.leadId}/score?model=1`, { key: 'capture-dev' })).status).toBe(403);
  });
});
