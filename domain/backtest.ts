import type { LeadRecord } from './lead-record';
import { bands, type Band } from './qualification';
import { scoreUnder, type ScoringModelRules } from './scoring-model';

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
 * One model's running counts. Everything is counted per lead as it streams by, so a backtest holds
 * a few hundred numbers however many leads it reads: the AUC needs only, for each score value, how
 * many converted and how many did not.
 */
class ModelTally {
  readonly bands = bandCounts();
  private readonly deciles = Array.from({ length: 10 }, () => ({ leads: 0, converted: 0 }));
  private readonly byScore = new Map<number, { positives: number; negatives: number }>();
  private sqlConverted = 0;

  add(score: number, band: Band, converted: boolean) {
    this.bands[band] += 1;
    const decile = this.deciles[decileOf(score)]!;
    decile.leads += 1;
    const atScore = this.byScore.get(score) ?? { positives: 0, negatives: 0 };
    if (converted) {
      decile.converted += 1;
      atScore.positives += 1;
      if (band === 'sql') this.sqlConverted += 1;
    } else {
      atScore.negatives += 1;
    }
    this.byScore.set(score, atScore);
  }

  figures(converted: number): ModelFigures {
    return {
      bands: { ...this.bands },
      deciles: this.deciles.map((d, i) => ({
        min: i * 10,
        max: i === 9 ? 100 : i * 10 + 9,
        leads: d.leads,
        converted: d.converted,
        conversionRate: ratio(d.converted, d.leads),
      })),
      recall: ratio(this.sqlConverted, converted),
      precision: ratio(this.sqlConverted, this.bands.sql),
      auc: aucOfCounts(this.byScore),
    };
  }
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

/** Counts leads one at a time (from a database cursor) and answers the backtest's figures. */
export class BacktestTally {
  private leads = 0;
  private converted = 0;
  private readonly transitions = Object.fromEntries(bands.map((band) => [band, bandCounts()])) as Record<Band, Record<Band, number>>;
  private readonly baseline = new ModelTally();
  private readonly candidate = new ModelTally();

  add(lead: BacktestLead): void {
    this.leads += 1;
    if (lead.converted) this.converted += 1;
    this.transitions[lead.baseline.band][lead.candidate.band] += 1;
    this.baseline.add(lead.baseline.score, lead.baseline.band, lead.converted);
    this.candidate.add(lead.candidate.score, lead.candidate.band, lead.converted);
  }

  figures(): BacktestFigures {
    return {
      leads: this.leads,
      converted: this.converted,
      transitions: Object.fromEntries(bands.map((band) => [band, { ...this.transitions[band] }])) as Record<Band, Record<Band, number>>,
      baseline: this.baseline.figures(this.converted),
      candidate: this.candidate.figures(this.converted),
    };
  }
}

/**
 * A lead re-scored by both models at `at`, as the workflow scores it (`scoreLead` on its profile and
 * engagement), and whether it converted.
 */
export function backtestLead(lead: LeadRecord, at: Date, baseline: ScoringModelRules, candidate: ScoringModelRules): BacktestLead {
  return {
    baseline: scoreUnder(lead.profile, lead.engagement, at, baseline),
    candidate: scoreUnder(lead.profile, lead.engagement, at, candidate),
    converted: lead.status === 'converted',
  };
}
