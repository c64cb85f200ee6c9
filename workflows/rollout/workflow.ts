import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { rescoredSignal, rescoreSignal, rolloutProgressQuery, type ScoringRolloutInput } from '../../contracts/rollout';
import { durationMs } from '../../domain/duration';
import {
  counted,
  finish,
  pagingDone,
  pauseAfterBatch,
  startProgress,
  tallyReport,
  tallySignaled,
  type RolloutProgress,
} from '../../domain/rollout';

type Activities = ReturnType<typeof createActivities>;
/** Paging reads Postgres: retried without end through an outage, the rollout simply waits. */
const data = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Rolls a published scoring model out to the open leads: pages through them by lead id,
 * signals each lead's workflow `rescore` with the model, a batch at a time at a bounded rate, and
 * counts the leads' answers (`rescored` signals) into its progress. Its state is its history: a
 * worker that crashes midway leaves it where it was, and the next worker goes on from the last page.
 * Cancelling it stops the paging; leads signaled before keep their new score.
 */
export async function scoringRolloutWorkflow(input: ScoringRolloutInput): Promise<RolloutProgress> {
  const { workflowId } = workflowInfo();
  const version = input.model.scoring.modelVersion;
  let after = input.carried?.after ?? null;
  let progress =
    input.carried?.progress ??
    startProgress({ id: workflowId, version, leadsPerSecond: input.leadsPerSecond, startedAt: new Date().toISOString(), total: 0 });
  // Before the first await: the API may ask for the progress as soon as the rollout starts.
  setHandler(rolloutProgressQuery, () => progress);
  setHandler(rescoredSignal, (report) => void (progress = tallyReport(progress, report)));
  if (!input.carried) progress = counted(progress, await data.countRolloutLeads({ version }));

  try {
    while (!progress.paged) {
      const leads = await data.rolloutLeadsPage({ version, after, limit: input.batchSize });
      if (leads.length > 0) {
        const sent = await Promise.allSettled(
          leads.map((leadId) => getExternalWorkflowHandle(leadId).signal(rescoreSignal, { rolloutId: workflowId, model: input.model })),
        );
        // A signal cancelled with the rollout never reached its lead; one refused did (no such running workflow): skipped.
        const delivered = sent.filter((result) => result.status === 'fulfilled' || !isCancellation(result.reason)).length;
        const refused = sent.filter((result) => result.status === 'rejected' && !isCancellation(result.reason)).length;
        progress = tallySignaled(progress, delivered, refused);
        after = leads.at(-1)!;
      }
      if (leads.length < input.batchSize) {
        progress = pagingDone(progress);
        break;
      }
      await sleep(pauseAfterBatch(leads.length, input.leadsPerSecond));
      if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= input.maxEventsPerRun) {
        await continueAsNew<typeof scoringRolloutWorkflow>({ ...input, carried: { progress, after } });
      }
    }
    await condition(() => progress.done >= progress.signaled, durationMs(input.reportWait));
    progress = finish(progress, 'completed', new Date().toISOString());
  } catch (error) {
    if (!isCancellation(error)) throw error;
    progress = finish(progress, 'cancelled', new Date().toISOString());
  }
  return progress;
}
