import { bands, type Band } from './qualification';

/**
 * Rolling a published scoring model out to the open leads: the rollout workflow signals
 * each lead, the lead re-scores under the model and reports back. These are the pure rules of its
 * progress; the workflow only orchestrates.
 */

/** What a lead answers a rollout's `rescore` signal. */
export interface RescoreReport {
  leadId: string;
  /**
   * `rescored`: scored under the version now (a `score_changed` event names it); `current`: the lead
   * was on this version or a newer one already; `skipped`: the lead had closed (or has no workflow).
   */
  outcome: 'rescored' | 'current' | 'skipped';
  /** The band before (by the thresholds of the model that made the score; null: never scored) and after (by the new model's). */
  from?: Band | null;
  to?: Band;
  /** The re-score made the lead sales-ready: it was routed. */
  salesReady?: boolean;
}

export type RolloutStatus = 'running' | 'completed' | 'cancelled';
export type BandTransitions = Record<Band, Record<Band, number>>;

export interface RolloutProgress {
  id: string;
  version: number;
  status: RolloutStatus;
  leadsPerSecond: number;
  startedAt: string;
  finishedAt: string | null;
  /** Open leads on an older version when the rollout started. */
  total: number;
  /** Leads signaled so far. */
  signaled: number;
  rescored: number;
  current: number;
  skipped: number;
  /** Leads answered: rescored + current + skipped. */
  done: number;
  /** Leads still to signal (by the count at the start) plus those signaled that have not answered yet. */
  remaining: number;
  /** transitions[band before][band after] of the leads re-scored (unchanged bands on the diagonal). */
  transitions: BandTransitions;
  /** Re-scored leads whose band changed. */
  bandChanges: number;
  /** Re-scored leads the new model made sales-ready (routed). */
  salesReady: number;
  /** All open leads have been signaled. */
  paged: boolean;
}

const emptyTransitions = (): BandTransitions =>
  Object.fromEntries(bands.map((from) => [from, Object.fromEntries(bands.map((to) => [to, 0]))])) as BandTransitions;

export function startProgress(start: {
  id: string;
  version: number;
  leadsPerSecond: number;
  startedAt: string;
  total: number;
}): RolloutProgress {
  return {
    ...start,
    status: 'running',
    finishedAt: null,
    signaled: 0,
    rescored: 0,
    current: 0,
    skipped: 0,
    done: 0,
    remaining: start.total,
    transitions: emptyTransitions(),
    bandChanges: 0,
    salesReady: 0,
    paged: false,
  };
}

/** `remaining` from the other figures: the count at the start bounds what is left to signal until paging ends. */
function withRemaining(progress: RolloutProgress): RolloutProgress {
  const unanswered = Math.max(0, progress.signaled - progress.done);
  const unsignaled = progress.paged ? 0 : Math.max(0, progress.total - progress.signaled);
  return { ...progress, remaining: unsignaled + unanswered };
}

/** The count of leads to re-score, taken once the rollout has started. */
export function counted(progress: RolloutProgress, total: number): RolloutProgress {
  return withRemaining({ ...progress, total });
}

/** Leads signaled in a batch; those the signal could not reach (closed, no workflow) count as skipped. */
export function tallySignaled(progress: RolloutProgress, signaled: number, unreachable: number): RolloutProgress {
  return withRemaining({
    ...progress,
    signaled: progress.signaled + signaled,
    skipped: progress.skipped + unreachable,
    done: progress.done + unreachable,
  });
}

/** A lead's answer. */
export function tallyReport(progress: RolloutProgress, report: RescoreReport): RolloutProgress {
  const next = { ...progress, [report.outcome]: progress[report.outcome] + 1, done: progress.done + 1 };
  if (report.outcome === 'rescored' && report.from && report.to) {
    const transitions = {
      ...progress.transitions,
      [report.from]: { ...progress.transitions[report.from], [report.to]: progress.transitions[report.from][report.to] + 1 },
    };
    next.transitions = transitions;
    if (report.from !== report.to) next.bandChanges += 1;
  }
  if (report.salesReady) next.salesReady += 1;
  return withRemaining(next);
}

export function pagingDone(progress: RolloutProgress): RolloutProgress {
  return withRemaining({ ...progress, paged: true });
}

export function finish(progress: RolloutProgress, status: Exclude<RolloutStatus, 'running'>, at: string): RolloutProgress {
  return { ...progress, status, finishedAt: at };
}

/** The pause after a batch that keeps the rollout at or under `leadsPerSecond`. */
export function pauseAfterBatch(batch: number, leadsPerSecond: number): number {
  return Math.ceil((batch / leadsPerSecond) * 1000);
}

/** The workflow id of the rollout of a version: one rollout runs per version at a time. */
export const rolloutIdOf = (version: number) => `scoring-rollout-${version}`;
export const rolloutIdPattern = /^scoring-rollout-[1-9]\d{0,9}$/;
