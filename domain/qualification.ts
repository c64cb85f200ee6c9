import type { LeadConfig } from './config';
import type { LeadStatus } from './lead';

export type Band = 'sql' | 'mql' | 'not_ready';
/** The bands, lowest first (backtest matrices and rollout transitions are keyed by them). */
export const bands: readonly Band[] = ['not_ready', 'mql', 'sql'];

/** The band a score falls in (defaults from the seeds: 75+ sales-ready, 40–74 nurture, below 40 not ready). */
export function bandOf(score: number, thresholds: LeadConfig['qualification']): Band {
  if (score >= thresholds.sqlAt) return 'sql';
  if (score >= thresholds.mqlAt) return 'mql';
  return 'not_ready';
}

/**
 * The status after a (re)score. Bands move a lead only while marketing owns it (`new`,
 * `not_ready`, `mql`); a `recycled` lead moves only when it becomes sales-ready. Once routed,
 * score changes are recorded but the rep's actions and the SLA ladder decide.
 */
export function statusAfterScore(current: LeadStatus, score: number, thresholds: LeadConfig['qualification']): LeadStatus {
  const band = bandOf(score, thresholds);
  switch (current) {
    case 'new':
    case 'not_ready':
    case 'mql':
      return band;
    case 'recycled':
      return band === 'sql' ? 'sql' : 'recycled';
    default:
      return current;
  }
}
