import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import type { Capture, CaptureSignal } from '../domain/capture';
import type { LeadPolicy } from '../domain/config';
import { leadIdFor } from '../domain/identity';
import type { LeadStatus } from '../domain/lead';
import { captureSignal, captureUpdate, type LeadWorkflow } from '../contracts/lead';
import { searchAttributes } from '../contracts/search-attributes';

/**
 * How long a capture waits for Temporal in all. A new lead needs only the server (its start is
 * persisted, whether or not a worker is free); past this the server itself is out of reach, and
 * the caller gets an error to retry rather than a hang.
 */
export const captureAnswerMs = 15_000;

/**
 * How long a repeat capture of a running lead waits for the lead's workflow to say whether it is a
 * duplicate. Normally milliseconds; while workers are behind (a burst, a deploy) the capture goes
 * to the workflow as a signal instead, durable at once, and is answered as a duplicate.
 */
export const workflowAnswerMs = 1_000;

/**
 * The start request's id (the SDK's internal start options, @temporalio/client `internal.ts`):
 * the server answers a start that repeats the request id of the running workflow's start with
 * that run instead of an error, so a retried first capture starts the lead's workflow once.
 */
const startOptions = Symbol.for('__temporal_internal_client_workflow_start_options');

/** Attempts at start-or-update: more than one only while a lead's workflow closes in between. */
const attempts = 3;

/** What taking a capture needs besides Temporal: where new leads run, their policy, and the key of lead ids. */
export interface CaptureDeps {
  taskQueue: string;
  policy: LeadPolicy;
  /** config/env.ts `leadIdSecretFrom`. */
  leadIdSecret: string;
}

/**
 * The answer to a capture: the lead's id and whether the capture merged into an open lead. A
 * duplicate carries no status, so a capture key learns nothing of a lead beyond its id
 * (docs/operations/security.md); a new or reopened lead is `new`.
 */
export type CaptureTaken = { leadId: string; duplicate: false; status: LeadStatus } | { leadId: string; duplicate: true };

/**
 * Hands one capture to its lead's workflow: the one path of every capture (`POST /leads`, the
 * form tools' webhooks, Meta's lead fetch). No Postgres on the way, so captures go on through an
 * outage. The capture id dedupes a capture sent twice, whichever way it reaches the workflow.
 *
 * - A person with no running lead: the capture starts the lead's workflow, in its input, and is
 *   answered `duplicate: false, status: new` once the server has the start. The workflow's first
 *   task loads, scores, routes and saves. Of concurrent first captures one starts it; the others
 *   find it running.
 * - A running lead: the capture is an update, and the workflow answers whether it merges into an
 *   open lead (`duplicate`). If it does not answer within `workflowAnswerMs`, the capture is
 *   signalled instead and answered `duplicate: true`.
 */
export async function takeCapture(
  temporal: Client,
  { taskQueue, policy, leadIdSecret }: CaptureDeps,
  { captureId, capture, receivedAt = new Date().toISOString() }: { captureId: string; capture: Capture; receivedAt?: string },
): Promise<CaptureTaken> {
  const leadId = leadIdFor(capture.email, leadIdSecret);
  const signal: CaptureSignal = { captureId, receivedAt, capture };
  const start = {
    workflowId: leadId,
    taskQueue,
    // The capture before the policy: it is what ops look for in the Temporal UI's view of the input.
    args: [{ leadId, capture: signal, policy }],
    typedSearchAttributes: [
      { key: searchAttributes.LeadStatus, value: 'new' },
      { key: searchAttributes.LeadSource, value: capture.source },
    ],
  } satisfies WorkflowStartOptions<LeadWorkflow>;

  return temporal.withDeadline(Date.now() + captureAnswerMs, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await temporal.workflow.start<LeadWorkflow>(
          'leadWorkflow',
          Object.assign({ ...start, workflowIdConflictPolicy: 'FAIL' as const }, { [startOptions]: { requestId: captureId } }),
        );
        return { leadId, duplicate: false, status: 'new' as const };
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      try {
        const answer = await temporal.withDeadline(Date.now() + workflowAnswerMs, () =>
          temporal.workflow.getHandle(leadId).executeUpdate(captureUpdate, { updateId: captureId, args: [signal] }),
        );
        return answer.duplicate ? { leadId, duplicate: true } : { leadId, duplicate: false, status: answer.status };
      } catch (error) {
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) break;
        // The lead closed between the start and the update: start it again (it reopens).
        if (!(error instanceof WorkflowNotFoundError) || attempt >= attempts) throw error;
      }
    }
    // The workflow did not answer in time (workers behind): the capture waits in its history as a
    // signal, applied once (by capture id) however the update fares that may still reach it.
    await temporal.workflow.signalWithStart<LeadWorkflow, [CaptureSignal]>('leadWorkflow', {
      ...start,
      signal: captureSignal,
      signalArgs: [signal],
    });
    return { leadId, duplicate: true };
  });
}
