import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { Capture } from '../domain/capture';
import type { LeadPolicy } from '../domain/config';
import { leadIdFor } from '../domain/identity';
import type { LeadStatus } from '../domain/lead';
import { captureUpdate, searchAttributes } from '../workflows/definitions';
import type { leadWorkflow } from '../workflows/lead/workflow';

/**
 * How long a capture waits for the lead's workflow to take it. Normally milliseconds; with no worker
 * polling (all down) the workflow cannot answer, and the caller gets an error to retry rather than a hang.
 */
export const captureAnswerMs = 15_000;

export interface CaptureTaken {
  leadId: string;
  duplicate: boolean;
  status: LeadStatus;
}

/**
 * Hands one capture to its lead's workflow: the one path of every capture (`POST /leads`, the
 * form tools' webhooks, Meta's lead fetch). Update-with-start: one call starts the lead's workflow
 * or finds the running one, and waits for the workflow to take the capture. No Postgres on the way,
 * so captures go on through an outage. The update id (`captureId`) dedupes a capture sent twice.
 */
export async function takeCapture(
  temporal: Client,
  { taskQueue, policy }: { taskQueue: string; policy: LeadPolicy },
  { captureId, capture, receivedAt = new Date().toISOString() }: { captureId: string; capture: Capture; receivedAt?: string },
): Promise<CaptureTaken> {
  const leadId = leadIdFor(capture.email);
  const { duplicate, status } = await temporal.withDeadline(Date.now() + captureAnswerMs, () =>
    temporal.workflow.executeUpdateWithStart(captureUpdate, {
      updateId: captureId,
      args: [{ captureId, receivedAt, capture }],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof leadWorkflow>('leadWorkflow', {
        workflowId: leadId,
        taskQueue,
        args: [{ leadId, policy }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: searchAttributes.LeadStatus, value: 'new' },
          { key: searchAttributes.LeadSource, value: capture.source },
        ],
      }),
    }),
  );
  return { leadId, duplicate, status };
}
