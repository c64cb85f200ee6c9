import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * The SDK core's warnings about workflow tasks, as the worker logs them (one JSON line each on its
 * stdout): a task that ran longer than TEMPORAL_WORKFLOW_TASK_DURATION_WARN_SECONDS (5 s by
 * default; "[TMPRL1104] … Workflow task duration exceeded 5 seconds."), and a completion the server
 * no longer knew (the task had timed out on the server, 10 s, and was handed out again).
 */
export const workerWarnings = {
  durationExceeded: 'Workflow task duration exceeded',
  taskNotFound: 'Task not found when completing',
} as const;

export type WarningCounts = Record<keyof typeof workerWarnings, number>;

export interface WorkerLog {
  /** The counts since the worker started. */
  now(): WarningCounts;
  /** The counts since `before` (an earlier `now()`). */
  since(before: WarningCounts): WarningCounts;
}

/** Reads the worker's stdout to its end (so the pipe never fills), counting the warnings; prints nothing. */
export function countWorkerWarnings(stdout: Readable): WorkerLog {
  const counts: WarningCounts = { durationExceeded: 0, taskNotFound: 0 };
  const kinds = Object.entries(workerWarnings) as [keyof WarningCounts, string][];
  createInterface({ input: stdout, crlfDelay: Infinity }).on('line', (line) => {
    for (const [kind, text] of kinds) if (line.includes(text)) counts[kind]++;
  });
  return {
    now: () => ({ ...counts }),
    since: (before) => ({
      durationExceeded: counts.durationExceeded - before.durationExceeded,
      taskNotFound: counts.taskNotFound - before.taskNotFound,
    }),
  };
}

/** Whether there was any warning of either kind. */
export const anyWarnings = (w: WarningCounts) => w.durationExceeded + w.taskNotFound > 0;

export const warningText = (w: WarningCounts) =>
  `${w.durationExceeded} "duration exceeded", ${w.taskNotFound} "task not found when completing"`;
