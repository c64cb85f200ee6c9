import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { pool } from './stats';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
const { EventType, TimeoutType } = proto.temporal.api.enums.v1;

/** "WorkflowTaskCompleted" for EVENT_TYPE_WORKFLOW_TASK_COMPLETED. */
export const eventTypeName = (type: number | null | undefined) =>
  (EventType[type ?? 0] ?? String(type))
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/**
 * The events of a workflow's runs that started at or after `sinceMs`: its current run, then the runs
 * it continued from (walked back through `continuedExecutionRunId`) while they are that recent.
 */
export async function recentEvents(client: Client, workflowId: string, sinceMs = 0): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let runId: string | undefined;
  for (;;) {
    const run = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    events.unshift(...run.filter((e) => !e.eventTime || tsToMs(e.eventTime) >= sinceMs));
    const started = run[0];
    runId = started?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId || !started?.eventTime || tsToMs(started.eventTime) < sinceMs) return events;
  }
}

export interface TaskProblems {
  /** Workflows read. */
  workflows: number;
  /** WorkflowTaskTimedOut events, of either kind below. */
  timedOut: number;
  /** The worker took the task but did not complete it within its start-to-close timeout (10 s). */
  startToClose: number;
  /** The task waited on the worker's sticky queue past its schedule-to-start timeout (5 s), and went back to the shared queue. */
  scheduleToStart: number;
  /** WorkflowTaskFailed events (the worker failed the task: an error in workflow code, a non-determinism, a reset). */
  failed: number;
  /** Workflows with at least one of either. */
  workflowsAffected: number;
}

/** Workflow-task timeouts and failures in the histories of `workflowIds` since `sinceMs` (20 read at a time). */
export async function workflowTaskProblems(client: Client, workflowIds: string[], sinceMs: number): Promise<TaskProblems> {
  const problems: TaskProblems = { workflows: 0, timedOut: 0, startToClose: 0, scheduleToStart: 0, failed: 0, workflowsAffected: 0 };
  await pool(workflowIds, 20, async (id) => {
    const events = await recentEvents(client, id, sinceMs).catch(() => []);
    const timeouts = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
    const timedOut = timeouts.length;
    const failed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
    problems.workflows++;
    problems.timedOut += timedOut;
    for (const e of timeouts) {
      if (e.workflowTaskTimedOutEventAttributes?.timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) problems.scheduleToStart++;
      else problems.startToClose++;
    }
    problems.failed += failed;
    if (timedOut + failed > 0) problems.workflowsAffected++;
  });
  return problems;
}

export const problemsText = (p: TaskProblems) =>
  `${p.timedOut} WorkflowTaskTimedOut (${p.startToClose} start-to-close, ${p.scheduleToStart} sticky schedule-to-start), ${p.failed} WorkflowTaskFailed in ${p.workflows} histories`;
