import type { Sql } from '../db/client';
import { countLeadsCaptured, leadsCapturedPage } from '../db/leads';
import type { BacktestCursor } from '../contracts/backtest';
import { BacktestTally, type BacktestCounts } from '../domain/backtest';
import { backtestLead, type ScoringModelRules } from '../domain/scoring-model';

/** A backtest job's reads (docs/features/scoring-models.md): pages of the leads captured in a window, in Postgres. */
export function backtestActivities(sql: Sql) {
  return {
    /** Leads captured in the window when a backtest job starts (its progress counts towards it). */
    async countBacktestLeads(window: { from: string; to: string }): Promise<number> {
      return countLeadsCaptured(sql, window);
    },

    /**
     * One batch of a backtest job: the next `limit` leads of the window, each re-scored by both
     * models at its last update. Answers counts and where to go on, never a lead's data.
     */
    async backtestPage(page: {
      from: string;
      to: string;
      after: BacktestCursor | null;
      limit: number;
      baseline: ScoringModelRules;
      candidate: ScoringModelRules;
    }): Promise<{ counts: BacktestCounts; next: BacktestCursor | null }> {
      const { leads, next } = await leadsCapturedPage(sql, page);
      const tally = new BacktestTally();
      for (const stored of leads) tally.add(backtestLead(stored.lead, new Date(stored.updatedAt), page.baseline, page.candidate));
      return { counts: tally.counts(), next };
    },
  };
}
