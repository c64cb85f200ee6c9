import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RescoreReport, RolloutProgress } from '../domain/rollout';
import type { ScoringModelRules } from '../domain/scoring-model';

/**
 * A scoring model rolled out to the open leads: the lead re-scores under it (once: a
 * lead on this version or a newer one already ignores it) and reports to the rollout workflow.
 */
export interface RescoreSignal {
  /** The rollout workflow's id: where the lead reports. */
  rolloutId: string;
  /** The published version's rules (`scoring.modelVersion` is its number): the model reaches the lead as data. */
  model: ScoringModelRules;
}
export const rescoreSignal = defineSignal<[RescoreSignal]>('rescore');

/** A lead's answer to `rescore`, sent to the rollout workflow. */
export const rescoredSignal = defineSignal<[RescoreReport]>('rescored');
/** The rollout's progress (`GET /scoring-models/rollouts/{id}`). */
export const rolloutProgressQuery = defineQuery<RolloutProgress>('rolloutProgress');

export interface ScoringRolloutInput {
  /** The published version rolled out (`scoring.modelVersion` is its number). */
  model: ScoringModelRules;
  /** The bound on the rate: leads signaled per second, on average over a batch. */
  leadsPerSecond: number;
  /** Leads signaled at once, then the rollout sleeps `batchSize / leadsPerSecond` seconds. */
  batchSize: number;
  /** How long (ISO 8601), after the last lead is signaled, the rollout waits for the leads' answers before it completes. */
  reportWait: string;
  /** A run continues as new at this many history events (a large rollout never outgrows its history). */
  maxEventsPerRun: number;
  /** Carried over continue-as-new: the figures so far and the last lead id paged. */
  carried?: { progress: RolloutProgress; after: string | null };
}
