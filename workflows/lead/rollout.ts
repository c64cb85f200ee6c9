import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { rescoredSignal, type RescoreSignal } from '../../contracts/rollout';
import { closedStatuses } from '../../domain/lead';
import { bandOf } from '../../domain/qualification';
import type { RescoreReport } from '../../domain/rollout';
import { saveOrRoute } from './assignment';
import type { LeadRun } from './run';
import { rescore } from './scoring';

/**
 * The lead's side of a scoring model's rollout (workflows/rollout/workflow.ts). Apart from
 * scoring.ts: it routes (assignment.ts), and assignment.ts scores through nurture.ts.
 */

/**
 * A rolled-out model: the lead takes it for good and re-scores under it, once. A lead on
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
  return {
    leadId,
    outcome: 'rescored',
    from,
    to: bandOf(current.score!.score, model.qualification),
    salesReady: before !== 'sql' && current.status === 'sql',
  };
}

/** Tells the rollout what the lead did; a rollout that has ended (cancelled) no longer listens, which is fine. */
export async function reportRescore(rolloutId: string, report: RescoreReport) {
  await getExternalWorkflowHandle(rolloutId)
    .signal(rescoredSignal, report)
    .catch(() => undefined);
}
