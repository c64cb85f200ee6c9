import type { LeadStore } from '../db/lead-store';
import type { LeadRecord } from '../domain/lead-record';
import { publishedRules, type ScoringModelRules } from '../domain/scoring-model';
import { loadLeadBefore } from './leads';

/** Scoring models as data: the model a new run scores by, and the paging of a rollout. */
export function scoringModelActivities(store: LeadStore) {
  return {
    /**
     * What a new run of a lead starts from, in one activity: the lead as saved before this run and
     * the newest published model, or null while that is version 1: the configuration's model, which
     * the run has in its input policy already.
     */
    async loadRunStart(start: { leadId: string; runId: string }): Promise<{ lead: LeadRecord | null; model: ScoringModelRules | null }> {
      const [lead, model] = await Promise.all([loadLeadBefore(store, start), store.currentScoringModel()]);
      return { lead, model: model.version > 1 ? publishedRules(model) : null };
    },

    /** Open leads not on `version` yet, when a rollout starts (its progress counts down from it). */
    async countRolloutLeads({ version }: { version: number }): Promise<number> {
      return store.countRolloutLeads(version);
    },

    /** The next page of open leads not on `version` yet, by lead id after `after`. */
    async rolloutLeadsPage(page: { version: number; after: string | null; limit: number }): Promise<string[]> {
      return store.rolloutLeadsPage(page);
    },
  };
}
