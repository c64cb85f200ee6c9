import { defineQuery } from '@temporalio/workflow';
import type { BacktestAnswer, BacktestJobProgress } from '../domain/backtest';
import type { ScoringModelRules } from '../domain/scoring-model';

/** A backtest job (docs/features/scoring-models.md "Backtest"): the question, with both models as data. */
export interface BacktestJobInput {
  /** Leads captured in [from, to) (at most 366 days, checked by the API). */
  from: string;
  to: string;
  /** The baseline's rules (`scoring.modelVersion` is its published version). */
  baseline: ScoringModelRules;
  /** The candidate's rules: `scoring.modelVersion` 0 for an unpublished model. */
  candidate: ScoringModelRules;
  /** Leads read and re-scored per activity: one short statement each. */
  batchSize: number;
}

/** Where the next batch starts: after this lead (its capture time as Postgres wrote it, and its id). */
export type BacktestCursor = [createdAt: string, leadId: string];

/** What a job ends with: its progress (`done`) and the backtest's answer. */
export interface BacktestJobResult {
  progress: BacktestJobProgress;
  answer: BacktestAnswer;
}

/** A running job's progress (`GET /scoring-models/backtests/{id}`). */
export const backtestProgressQuery = defineQuery<BacktestJobProgress>('backtestProgress');
