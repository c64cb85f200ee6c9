import type { LeadRecord } from '../../domain/lead-record';
import { statusAfterScore } from '../../domain/qualification';
import { explain, scoreLead } from '../../domain/scoring';
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
