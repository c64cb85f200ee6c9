import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { backtestProgressQuery, type BacktestCursor, type BacktestJobInput, type BacktestJobResult } from '../../contracts/backtest';
import {
  backtestAnswer,
  emptyBacktestCounts,
  mergeBacktestCounts,
  type BacktestCounts,
  type BacktestJobProgress,
} from '../../domain/backtest';

type Activities = ReturnType<typeof createActivities>;
/**
 * Each batch is one short statement and a few thousand re-scores. A job is a report, not a lead:
 * through an outage it fails after a few attempts (the caller starts it again) rather than waiting
 * without end and holding its key's one running job.
 */
const data = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * A backtest as a job (docs/features/scoring-models.md "Backtest"): counts the window, then reads it
 * `batchSize` leads at a time in capture order (keyset pagination), each batch re-scored by both
 * models in an activity that answers only counts (no lead data reaches the history). The counts
 * merge here; the progress is a query. A worker that stops midway leaves the job at its last batch.
 */
export async function scoringBacktestWorkflow(input: BacktestJobInput): Promise<BacktestJobResult> {
  let progress: BacktestJobProgress = { state: 'queued', read: 0, total: null };
  // Before the first await: the API may ask for the progress as soon as the job starts.
  setHandler(backtestProgressQuery, () => progress);
  const window = { from: input.from, to: input.to };
  const total = await data.countBacktestLeads(window);
  progress = { state: 'running', read: 0, total };
  let counts = emptyBacktestCounts();
  let after: BacktestCursor | null = null;
  do {
    const page: { counts: BacktestCounts; next: BacktestCursor | null } = await data.backtestPage({
      ...window,
      after,
      limit: input.batchSize,
      baseline: input.baseline,
      candidate: input.candidate,
    });
    counts = mergeBacktestCounts(counts, page.counts);
    after = page.next;
    // Leads captured into the window since the count are read too.
    progress = { state: 'running', read: counts.leads, total: Math.max(total, counts.leads) };
  } while (after);
  const candidateVersion = input.candidate.scoring.modelVersion;
  // `done` only in the result: until the run has closed, a query answers `running` (the API reads `done` from a completed run, with its answer).
  return {
    progress: { state: 'done', read: counts.leads, total: counts.leads },
    answer: backtestAnswer(
      {
        ...window,
        baselineVersion: input.baseline.scoring.modelVersion,
        candidateVersion: candidateVersion === 0 ? null : candidateVersion,
      },
      counts,
    ),
  };
}
