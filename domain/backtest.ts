import { bands, type Band } from './qualification';

export { bands };

/** Deciles of the 0–100 score: 0–9, 10–19, …, 80–89, and 90–100 (100 joins the last). */
export const decileOf = (score: number) => Math.min(9, Math.max(0, Math.floor(score / 10)));

/** One lead as both models see it, and what really happened. */
export interface BacktestLead {
  baseline: { score: number; band: Band };
  candidate: { score: number; band: Band };
  converted: boolean;
}

export interface DecileFigures {
  min: number;
  max: number;
  leads: number;
  converted: number;
  /** converted / leads; null for an empty decile. */
  conversionRate: number | null;
}

/** How well one model's scores and SQL band foretold conversion. */
export interface ModelFigures {
  bands: Record<Band, number>;
  deciles: DecileFigures[];
  /** Share of converted leads in the SQL band; null when none converted. */
  recall: number | null;
  /** Share of SQL-band leads that converted; null when the band is empty. */
  precision: number | null;
  /** Probability that a converted lead outscores one that did not (ties count half); null without both kinds. */
  auc: number | null;
}

export interface BacktestFigures {
  leads: number;
  converted: number;
  /** transitions[baseline band][candidate band] = leads. */
  transitions: Record<Band, Record<Band, number>>;
  baseline: ModelFigures;
  candidate: ModelFigures;
}

const bandCounts = (): Record<Band, number> => ({ not_ready: 0, mql: 0, sql: 0 });

/**
 * One model's counts, as plain data: a backtest job carries them from batch to batch in its
 * workflow (docs/features/scoring-models.md "Backtest"). A few hundred numbers however many leads
 * are read: the AUC needs only, for each score value, how many converted and how many did not.
 */
export interface ModelCounts {
  bands: Record<Band, number>;
  /** Deciles 0–9 … 90–100. */
  deciles: { leads: number; converted: number }[];
  /** By score: [converted, not converted]. */
  byScore: Record<string, [number, number]>;
  /** Converted leads in the SQL band. */
  sqlConverted: number;
}

/** Everything a backtest counts, plain data that merges batch by batch. */
export interface BacktestCounts {
  leads: number;
  converted: number;
  transitions: Record<Band, Record<Band, number>>;
  baseline: ModelCounts;
  candidate: ModelCounts;
}

const emptyModelCounts = (): ModelCounts => ({
  bands: bandCounts(),
  deciles: Array.from({ length: 10 }, () => ({ leads: 0, converted: 0 })),
  byScore: {},
  sqlConverted: 0,
});

export const emptyBacktestCounts = (): BacktestCounts => ({
  leads: 0,
  converted: 0,
  transitions: Object.fromEntries(bands.map((band) => [band, bandCounts()])) as Record<Band, Record<Band, number>>,
  baseline: emptyModelCounts(),
  candidate: emptyModelCounts(),
});

function countModel(counts: ModelCounts, score: number, band: Band, converted: boolean) {
  counts.bands[band] += 1;
  const decile = counts.deciles[decileOf(score)]!;
  decile.leads += 1;
  const atScore = (counts.byScore[score] ??= [0, 0]);
  if (converted) {
    decile.converted += 1;
    atScore[0] += 1;
    if (band === 'sql') counts.sqlConverted += 1;
  } else {
    atScore[1] += 1;
  }
}

const sumBands = (a: Record<Band, number>, b: Record<Band, number>) =>
  Object.fromEntries(bands.map((band) => [band, a[band] + b[band]])) as Record<Band, number>;

function mergeModel(a: ModelCounts, b: ModelCounts): ModelCounts {
  const byScore: Record<string, [number, number]> = { ...a.byScore };
  for (const [score, [positives, negatives]] of Object.entries(b.byScore)) {
    const [p, n] = byScore[score] ?? [0, 0];
    byScore[score] = [p + positives, n + negatives];
  }
  return {
    bands: sumBands(a.bands, b.bands),
    deciles: a.deciles.map((d, i) => ({ leads: d.leads + b.deciles[i]!.leads, converted: d.converted + b.deciles[i]!.converted })),
    byScore,
    sqlConverted: a.sqlConverted + b.sqlConverted,
  };
}

/** The counts of two batches as one: what reading both at once would have counted. */
export function mergeBacktestCounts(a: BacktestCounts, b: BacktestCounts): BacktestCounts {
  return {
    leads: a.leads + b.leads,
    converted: a.converted + b.converted,
    transitions: Object.fromEntries(bands.map((band) => [band, sumBands(a.transitions[band], b.transitions[band])])) as Record<
      Band,
      Record<Band, number>
    >,
    baseline: mergeModel(a.baseline, b.baseline),
    candidate: mergeModel(a.candidate, b.candidate),
  };
}

function modelFigures(counts: ModelCounts, converted: number): ModelFigures {
  const byScore = new Map(
    Object.entries(counts.byScore).map(([score, [positives, negatives]]) => [Number(score), { positives, negatives }]),
  );
  return {
    bands: { ...counts.bands },
    deciles: counts.deciles.map((d, i) => ({
      min: i * 10,
      max: i === 9 ? 100 : i * 10 + 9,
      leads: d.leads,
      converted: d.converted,
      conversionRate: ratio(d.converted, d.leads),
    })),
    recall: ratio(counts.sqlConverted, converted),
    precision: ratio(counts.sqlConverted, counts.bands.sql),
    auc: aucOfCounts(byScore),
  };
}

/** The figures of what was counted. */
export function backtestFigures(counts: BacktestCounts): BacktestFigures {
  return {
    leads: counts.leads,
    converted: counts.converted,
    transitions: Object.fromEntries(bands.map((band) => [band, { ...counts.transitions[band] }])) as Record<Band, Record<Band, number>>,
    baseline: modelFigures(counts.baseline, counts.converted),
    candidate: modelFigures(counts.candidate, counts.converted),
  };
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/**
 * ROC AUC as the Mann–Whitney U statistic with midranks: over every (converted, not converted)
 * pair, 1 when the converted lead scores higher, ½ on a tie. Walking the distinct scores in
 * ascending order, each converted lead at score s beats the non-converted below s and ties those at
 * s — the same sum the rank formula (R₊ − n₊(n₊+1)/2) / (n₊n₋) gives with tied ranks averaged,
 * in O(distinct scores) instead of sorting every lead.
 */
export function aucOfCounts(byScore: ReadonlyMap<number, { positives: number; negatives: number }>): number | null {
  let positives = 0;
  let negatives = 0;
  for (const counts of byScore.values()) {
    positives += counts.positives;
    negatives += counts.negatives;
  }
  if (positives === 0 || negatives === 0) return null;
  let wins = 0;
  let negativesBelow = 0;
  for (const score of [...byScore.keys()].sort((a, b) => a - b)) {
    const { positives: p, negatives: n } = byScore.get(score)!;
    wins += p * (negativesBelow + n / 2);
    negativesBelow += n;
  }
  return wins / (positives * negatives);
}

/** Counts leads one at a time (a batch read from the database) and answers the backtest's figures. */
export class BacktestTally {
  private readonly tally = emptyBacktestCounts();

  add(lead: BacktestLead): void {
    const counts = this.tally;
    counts.leads += 1;
    if (lead.converted) counts.converted += 1;
    counts.transitions[lead.baseline.band][lead.candidate.band] += 1;
    countModel(counts.baseline, lead.baseline.score, lead.baseline.band, lead.converted);
    countModel(counts.candidate, lead.candidate.score, lead.candidate.band, lead.converted);
  }

  /** The counts so far, plain data (a copy). */
  counts(): BacktestCounts {
    return mergeBacktestCounts(emptyBacktestCounts(), this.tally);
  }

  figures(): BacktestFigures {
    return backtestFigures(this.tally);
  }
}

/** What the backtest answers (`POST /scoring-models/backtest`, and a job's `result`). */
export interface BacktestAnswer extends Omit<BacktestFigures, 'baseline' | 'candidate'> {
  from: string;
  to: string;
  evaluatedAt: 'lead_updated_at';
  baseline: ModelFigures & { version: number };
  /** `version` null: an unpublished candidate. */
  candidate: ModelFigures & { version: number | null };
}

export function backtestAnswer(
  question: { from: string; to: string; baselineVersion: number; candidateVersion: number | null },
  counts: BacktestCounts,
): BacktestAnswer {
  const { baseline, candidate, ...figures } = backtestFigures(counts);
  return {
    from: question.from,
    to: question.to,
    evaluatedAt: 'lead_updated_at',
    ...figures,
    baseline: { version: question.baselineVersion, ...baseline },
    candidate: { version: question.candidateVersion, ...candidate },
  };
}

/**
 * A backtest job: `queued` until a worker has counted the window, `running` while it reads it a
 * batch at a time, then `done` (with the answer) or `failed`.
 */
export type BacktestJobState = 'queued' | 'running' | 'done' | 'failed';
export interface BacktestJobProgress {
  state: BacktestJobState;
  /** Leads read and re-scored so far. */
  read: number;
  /** Leads in the window when the job counted it (null while queued); never below `read`. */
  total: number | null;
}

/**
 * A job's id: its workflow's id (`scoring-backtest-<key tag>`, one running per API key) and the
 * run's id. The key tag is a hash of the key's hash: no key, no personal data.
 */
export const backtestJobIdPattern = /^(scoring-backtest-[0-9a-f]{16})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
export const backtestWorkflowIdOf = (keyTag: string) => `scoring-backtest-${keyTag}`;
export const backtestJobIdOf = (workflowId: string, runId: string) => `${workflowId}-${runId}`;
export function parseBacktestJobId(id: string): { workflowId: string; runId: string } | null {
  const match = backtestJobIdPattern.exec(id);
  return match ? { workflowId: match[1]!, runId: match[2]! } : null;
}
