import {
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { LeadPolicy } from '../domain/config';
import { durationMs } from '../domain/duration';
import type { CaptureSignal, LeadStatus } from '../domain/lead';
import type { createActivities } from '../activities';
import { captureSignal, leadStateQuery, searchAttributes, type LeadState } from './definitions';

const { recordCapture, recordStatusChange } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

export interface LeadWorkflowInput {
  leadId: string;
  policy: LeadPolicy;
  /** Captures that arrived while a previous run was closing; carried into this run so none is lost. */
  pendingCaptures?: CaptureSignal[];
}

export interface LeadOutcome {
  status: LeadStatus;
  reason?: string;
}

/** One lead, from its first capture until it closes. */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadOutcome> {
  const state: LeadState = {
    leadId: input.leadId,
    status: 'new',
    captures: 0,
    lastActivityAt: new Date().toISOString(),
  };
  const pending: CaptureSignal[] = [...(input.pendingCaptures ?? [])];
  setHandler(captureSignal, (capture) => {
    pending.push(capture);
  });
  setHandler(leadStateQuery, () => state);

  const publishState = () =>
    upsertSearchAttributes([
      { key: searchAttributes.LeadStatus, value: state.status },
      ...(state.source ? [{ key: searchAttributes.LeadSource, value: state.source }] : []),
    ]);

  const inactivityLimit = durationMs(input.policy.inactiveDisqualifyAfter);
  for (;;) {
    const engaged = await condition(() => pending.length > 0, inactivityLimit);
    if (!engaged) break;
    while (pending.length > 0) {
      const next = pending.shift()!;
      await recordCapture({ leadId: state.leadId, ...next });
      state.captures += 1;
      state.source ??= next.capture.source;
      state.lastActivityAt = new Date().toISOString();
    }
    publishState();
  }

  // DESIGN.md: 90 days with no activity closes any open lead with a reason.
  const outcome: LeadOutcome = { status: 'disqualified', reason: 'unresponsive' };
  await recordStatusChange({
    leadId: state.leadId,
    status: outcome.status,
    reason: outcome.reason,
    at: new Date().toISOString(),
    eventKey: `${workflowInfo().runId}:closed`,
  });
  state.status = outcome.status;
  publishState();
  await condition(allHandlersFinished);
  if (pending.length > 0) {
    // Someone was captured while the lead was closing: reactivate it rather than drop the capture.
    await continueAsNew<typeof leadWorkflow>({ ...input, pendingCaptures: pending });
  }
  return outcome;
}
