import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { actionFailureTypes } from '../../contracts/failures';
import { badDataReason } from './failures';
import { followStatus } from './nurture';
import { save, type LeadRun, type Work } from './run';

/**
 * Defence in depth behind the API's validation: an input the data store refuses for
 * good (a NUL byte, an out-of-range timestamp) must neither be retried forever nor freeze the
 * lead. The run goes back to its state before that input, records it as `rejected_input`,
 * alerts ops, and goes on with the next input.
 */

/** Which input it was, without its content (which may hold personal data). */
function describe(work: Work): { input: string; id: string | null } {
  switch (work.kind) {
    case 'capture':
      return { input: 'capture', id: work.signal.captureId };
    case 'engagement':
      return { input: 'engagement', id: work.signal.activityId };
    case 'consentConfirmation':
      return { input: 'consent confirmation', id: work.signal.confirmationId };
    case 'rescore':
      return { input: 'scoring model rollout', id: work.signal.rolloutId };
    case 'retryRouting':
      return { input: 'routing retry', id: null };
    case 'action':
      return { input: `action ${work.name}`, id: null };
  }
}

/** Quarantines `work`: the caller has restored the run to before it. */
export async function quarantine(run: LeadRun, work: Work, reason: string): Promise<void> {
  const { input, id } = describe(work);
  const message = `Lead ${run.leadId}: a ${input} was refused by the data store and quarantined (${reason})`;
  if (work.kind === 'action')
    work.reject(
      ApplicationFailure.create({
        type: actionFailureTypes.rejectedInput,
        message: `the ${input} was refused: ${reason}`,
        nonRetryable: true,
      }),
    );
  const alertOnly = () =>
    run.io().queueAlert({
      leadId: run.leadId,
      notification: {
        key: `${run.leadId}:rejected:${id ?? workflowInfo().runId}`,
        kind: 'rejected_input',
        recipient: 'ops',
        message,
        data: { leadId: run.leadId, input, id, reason },
      },
    });
  const lead = run.lead;
  // The lead's first capture: there is no lead to record it with, only ops to tell.
  if (!lead) return alertOnly();
  run.journal.record('rejected_input', { input, id, reason });
  run.journal.notify('rejected_input', 'ops', message, { input, id, reason });
  try {
    await followStatus(run, lead);
    await save(run, lead);
  } catch (error) {
    // The lead's own state is refused too (saved by code from before this check): tell ops at least.
    if (badDataReason(error) === undefined) throw error;
    run.journal.restore({ events: [], outbox: [] });
    await alertOnly();
  }
}
