import { describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../config/load';
import {
  aucOfCounts,
  backtestFigures,
  backtestJobIdOf,
  BacktestTally,
  backtestWorkflowIdOf,
  decileOf,
  mergeBacktestCounts,
  parseBacktestJobId,
  type BacktestLead,
} from './backtest';
import type { LeadRecord } from './lead-record';
import type { Band } from './qualification';
import { configuredModel, modelRules, scoringModelBodySchema, backtestLead } from './scoring-model';

const lead = (baseline: [number, Band], candidate: [number, Band], converted: boolean): BacktestLead => ({
  baseline: { score: baseline[0], band: baseline[1] },
  candidate: { score: candidate[0], band: candidate[1] },
  converted,
});

/**
 * Six leads worked out by hand. Baseline: converted at 90, 60, 30; not at 80, 60, 10. Candidate:
 * converted at 80, 85, 30; not at 60, 30, 5.
 */
const sixLeads = [
  lead([90, 'sql'], [80, 'sql'], true),
  lead([80, 'sql'], [60, 'mql'], false),
  lead([60, 'mql'], [85, 'sql'], true),
  lead([60, 'mql'], [30, 'not_ready'], false),
  lead([30, 'not_ready'], [30, 'not_ready'], true),
  lead([10, 'not_ready'], [5, 'not_ready'], false),
];

function figuresOf(leads: BacktestLead[]) {
  const tally = new BacktestTally();
  for (const l of leads) tally.add(l);
  return tally.figures();
}

describe('backtest figures', () => {
  const figures = figuresOf(sixLeads);

  it('counts leads, conversions and the band transition matrix (baseline band → candidate band)', () => {
    expect(figures.leads).toBe(6);
    expect(figures.converted).toBe(3);
    expect(figures.transitions).toEqual({
      sql: { sql: 1, mql: 1, not_ready: 0 },
      mql: { sql: 1, mql: 0, not_ready: 1 },
      not_ready: { sql: 0, mql: 0, not_ready: 2 },
    });
    expect(figures.baseline.bands).toEqual({ sql: 2, mql: 2, not_ready: 2 });
    expect(figures.candidate.bands).toEqual({ sql: 2, mql: 1, not_ready: 3 });
  });

  it('precision and recall of the SQL band', () => {
    // Baseline SQL band: the 90 (converted) and the 80 (not): 1 of 2; it catches 1 of the 3 converted.
    expect(figures.baseline.precision).toBe(1 / 2);
    expect(figures.baseline.recall).toBe(1 / 3);
    // Candidate SQL band: the 80 and the 85, both converted; 2 of the 3 converted.
    expect(figures.candidate.precision).toBe(1);
    expect(figures.candidate.recall).toBe(2 / 3);
  });

  it('ROC AUC over the nine (converted, not converted) pairs, ties counting half', () => {
    // Baseline: 90 beats all three (3); 60 beats 10, ties 60 (1.5); 30 beats 10 (1) → 5.5 / 9.
    expect(figures.baseline.auc).toBeCloseTo(5.5 / 9, 12);
    // Candidate: 80 and 85 beat 60, 30, 5 (6); 30 ties 30 and beats 5 (1.5) → 7.5 / 9.
    expect(figures.candidate.auc).toBeCloseTo(7.5 / 9, 12);
  });

  it('score distribution and conversion rate by decile', () => {
    const rows = figures.baseline.deciles.filter((d) => d.leads > 0);
    expect(rows).toEqual([
      { min: 10, max: 19, leads: 1, converted: 0, conversionRate: 0 },
      { min: 30, max: 39, leads: 1, converted: 1, conversionRate: 1 },
      { min: 60, max: 69, leads: 2, converted: 1, conversionRate: 0.5 },
      { min: 80, max: 89, leads: 1, converted: 0, conversionRate: 0 },
      { min: 90, max: 100, leads: 1, converted: 1, conversionRate: 1 },
    ]);
    expect(figures.baseline.deciles).toHaveLength(10);
    expect(figures.baseline.deciles[2]).toEqual({ min: 20, max: 29, leads: 0, converted: 0, conversionRate: null });
    expect(figures.candidate.deciles.map((d) => d.leads)).toEqual([1, 0, 0, 2, 0, 0, 1, 0, 2, 0]);
  });

  it('counts merged batch by batch give the figures of reading every lead at once (a job reads in batches)', () => {
    const tallyOf = (leads: BacktestLead[]) => {
      const tally = new BacktestTally();
      for (const l of leads) tally.add(l);
      return tally.counts();
    };
    const merged = [sixLeads.slice(2, 5), sixLeads.slice(5)].reduce(
      (counts, batch) => mergeBacktestCounts(counts, tallyOf(batch)),
      tallyOf(sixLeads.slice(0, 2)),
    );
    expect(backtestFigures(merged)).toEqual(figures);
    // Plain data: what a workflow carries survives a JSON round trip unchanged.
    expect(backtestFigures(JSON.parse(JSON.stringify(merged)))).toEqual(figures);
  });

  it("a job's id names its workflow (one per key) and its run, and nothing else parses as one", () => {
    const runId = '0f8c2a4e-1b3d-4c5e-8f90-a1b2c3d4e5f6';
    const id = backtestJobIdOf(backtestWorkflowIdOf('0123456789abcdef'), runId);
    expect(id).toBe(`scoring-backtest-0123456789abcdef-${runId}`);
    expect(parseBacktestJobId(id)).toEqual({ workflowId: 'scoring-backtest-0123456789abcdef', runId });
    for (const other of ['scoring-rollout-2', 'scoring-backtest-0123456789abcdef', `lead-${runId}`, `${id}x`])
      expect(parseBacktestJobId(other)).toBeNull();
  });

  it('deciles: 0–9 … 80–89, and 90–100 with 100 in it', () => {
    expect([0, 9, 10, 19, 89, 90, 99, 100].map(decileOf)).toEqual([0, 0, 1, 1, 8, 9, 9, 9]);
  });

  it('answers null where a figure is undefined rather than dividing by zero', () => {
    const none = figuresOf([lead([20, 'not_ready'], [50, 'mql'], false), lead([30, 'not_ready'], [80, 'sql'], false)]);
    expect(none.baseline).toMatchObject({ recall: null, precision: null, auc: null });
    expect(none.candidate).toMatchObject({ recall: null, precision: 0, auc: null });
    expect(figuresOf([])).toMatchObject({ leads: 0, converted: 0, baseline: { recall: null, precision: null, auc: null } });
  });

  it('AUC: 1 for a perfect ranking, 0 for a reversed one, ½ when every score ties (midranks)', () => {
    const counts = (entries: [number, number, number][]) =>
      new Map(entries.map(([s, positives, negatives]) => [s, { positives, negatives }]));
    expect(
      aucOfCounts(
        counts([
          [10, 0, 3],
          [90, 2, 0],
        ]),
      ),
    ).toBe(1);
    expect(
      aucOfCounts(
        counts([
          [10, 2, 0],
          [90, 0, 3],
        ]),
      ),
    ).toBe(0);
    expect(aucOfCounts(counts([[50, 4, 7]]))).toBe(0.5);
    // Ranks 1..5 over scores 10, 20, 20, 20, 30 with converted at 20 and 30: midrank of the tie is 3,
    // R₊ = 3 + 5 = 8, U = 8 − 3 = 5 of n₊n₋ = 6.
    expect(
      aucOfCounts(
        counts([
          [10, 0, 1],
          [20, 1, 2],
          [30, 1, 0],
        ]),
      ),
    ).toBeCloseTo(5 / 6, 12);
  });
});

describe('scoring model body', () => {
  const defaults = configuredModel(resolveLeadConfig({}));

  it('accepts the configured model and gives back the same rules', () => {
    expect(scoringModelBodySchema.parse(defaults)).toEqual(defaults);
  });

  it('applies the configuration’s checks across fields, naming each field', () => {
    const result = scoringModelBodySchema.safeParse({
      ...defaults,
      qualification: { sqlAt: 40, mqlAt: 40 },
      scoring: { ...defaults.scoring, grades: { A: 10, B: 20, C: 5, D: 1 } },
      icp: { ...defaults.icp, employees: { min: 10, max: 5 } },
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'icp.employees.min',
      'qualification.mqlAt',
      'scoring.grades',
    ]);
  });

  it('refuses a version number in the body, a positive rule made negative, and text Postgres cannot store', () => {
    const paths = (body: unknown) => scoringModelBodySchema.safeParse(body).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ ...defaults, scoring: { ...defaults.scoring, modelVersion: 2 } })).toEqual(['scoring']);
    expect(paths({ ...defaults, scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, requested_demo: -5 } } })).toEqual([
      'scoring.rules.requested_demo',
    ]);
    expect(paths({ ...defaults, icp: { ...defaults.icp, industries: ['soft\u0000ware'] } })).toEqual(['icp.industries.0']);
  });
});

describe('re-scoring a stored lead', () => {
  const defaults = configuredModel(resolveLeadConfig({}));
  const v1 = modelRules(defaults, 1);
  const candidate = modelRules(
    { ...defaults, scoring: { ...defaults.scoring, rules: { ...defaults.scoring.rules, requested_demo: 70 } } },
    0,
  );
  const stored = (status: LeadRecord['status']): LeadRecord => ({
    leadId: 'lead-000000000000000000000001',
    status,
    profile: { email: 'kim@acme.example', source: 'demo_request' },
    consent: {},
    engagement: { seen: ['requested_demo'], openedEmails: 0, lastEngagementAt: '2026-01-01T00:00:00Z' },
    enrichment: 'not_found',
  });

  it('scores with each model at the given time (decay included) and bands by each model’s thresholds', () => {
    expect(backtestLead(stored('converted'), new Date('2026-01-02T00:00:00Z'), v1, candidate)).toEqual({
      baseline: expect.objectContaining({ score: 50, band: 'mql', modelVersion: 1 }),
      candidate: expect.objectContaining({ score: 70, band: 'mql', modelVersion: 0 }),
      converted: true,
    });
    // 40 days later: −10 decay under both.
    const later = backtestLead(stored('disqualified'), new Date('2026-02-10T00:00:00Z'), v1, candidate);
    expect([later.baseline.score, later.candidate.score, later.converted]).toEqual([40, 60, false]);
  });
});
