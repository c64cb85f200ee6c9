import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/**
 * The number of history events of every run of a workflow, oldest run first: its chain of
 * continue-as-new runs, walked back from the current one (for the benchmark and the tests).
 */
export async function runSizes(client: Client, workflowId: string): Promise<number[]> {
  const sizes: number[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    sizes.unshift(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return sizes;
}
