import type { Sql } from '../db/client';
import { countLeadsCaptured, leadsCapturedPage } from '../db/leads';
import type { BacktestCursor } from '../contracts/backtest';
import { BacktestTally, type BacktestCounts } from '../domain/backtest';
import { countRolloutLeads, rolloutLeadsPage, type ScoringModelStore } from '../db/scoring-models';
import type { LeadRecord } from '../domain/lead-record';
import { backtestLead, publishedRules, type ScoringModelRules } from '../domain/scoring-model';
import { loadLeadBefore } from './leads';

/** Scoring models as data: the model a new run scores by, and the paging of a rollout. */
export function scoringModelActivities(sql: Sql, store: ScoringModelStore) {
  return {
    /**
     * What a new run of a lead starts from, in one activity: the lead as saved before this run and
     * the newest published model, or null while that is version 1: the configuration's model, which
     * the run has in its input policy already.
     */
    async loadRunStart(start: { leadId: string; runId: string }): Promise<{ lead: LeadRecord | null; model: ScoringModelRules | null }> {
      const [lead, model] = await Promise.all([loadLeadBefore(sql, start), store.current()]);
      return { lead, model: model.version > 1 ? publishedRules(model) : null };
    },

    /** Open leads not on `version` yet, when a rollout starts (its progress counts down from it). */
    async countRolloutLeads({ version }: { version: number }): Promise<number> {
      return countRolloutLeads(sql, version);
    },

    /** The next page of open leads not on `version` yet, by lead id after `after`. */
    async rolloutLeadsPage(page: { version: number; after: string | null; limit: number }): Promise<string[]> {
      return rolloutLeadsPage(sql, page);
    },

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
