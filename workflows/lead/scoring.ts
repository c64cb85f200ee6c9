import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { closedStatuses } from '../../domain/lead';
import type { LeadRecord } from '../../domain/lead-record';
import { bandOf, statusAfterScore } from '../../domain/qualification';
import type { RescoreReport } from '../../domain/rollout';
import { explain, scoreLead } from '../../domain/scoring';
import { rescoredSignal, type RescoreSignal } from '../../contracts/rollout';
import { saveOrRoute } from './assignment';
import type { LeadRun } from './run';

/**
 * Scores the lead on what it knows now (profile, engagement, time since the last engagement),
 * records a change with its explanation, and moves the lead between bands while marketing owns it.
 */
export function rescore(run: LeadRun, current: LeadRecord, reason: string) {
  const previous = current.score;
  const score = scoreLead({ ...current.profile }, current.engagement, new Date(), run.policy);
  current.score = score;
  if (!previous || previous.score !== score.score || previous.grade !== score.grade || previous.modelVersion !== score.modelVersion) {
    run.journal.record('score_changed', {
      score: score.score,
      previousScore: previous?.score ?? null,
      grade: score.grade,
      modelVersion: score.modelVersion,
      reason,
      explanation: explain(score),
      breakdown: score.breakdown,
    });
  }
  const status = statusAfterScore(current.status, score.score, run.policy.qualification);
  if (status !== current.status) run.setStatus(current, status, `score ${score.score} (${reason})`);
}

/**
 * A rolled-out model (issue 18): the lead takes it for good and re-scores under it, once. A lead on
 * this version or a newer one already (it started after the publish, or took this rollout's signal
 * before a crash) leaves its score alone, so each lead re-scores exactly once per version. A lead
 * the new model makes sales-ready is routed by the caller as any other re-score would.
 */
export async function onRescore(run: LeadRun, { model }: RescoreSignal): Promise<RescoreReport> {
  const current = run.lead;
  const leadId = run.leadId;
  if (!current || closedStatuses.includes(current.status)) return { leadId, outcome: 'skipped' };
  const version = model.scoring.modelVersion;
  if (run.policy.scoring.modelVersion >= version) return { leadId, outcome: 'current' };
  const from = current.score ? bandOf(current.score.score, run.policy.qualification) : null;
  const before = current.status;
  run.useModel(model);
  rescore(run, current, `scoring model version ${version} rolled out`);
  await saveOrRoute(run, current);
  return { leadId, outcome: 'rescored', from, to: bandOf(current.score!.score, model.qualification), salesReady: before !== 'sql' && current.status === 'sql' };
}

/** Tells the rollout what the lead did; a rollout that has ended (cancelled) no longer listens, which is fine. */
export async function reportRescore(rolloutId: string, report: RescoreReport) {
  await getExternalWorkflowHandle(rolloutId)
    .signal(rescoredSignal, report)
    .catch(() => undefined);
}
