/**
 * Changes to the lead workflow that leads already running depend on, each guarded with
 * `patched()` (README, "Changing workflow code"). A run started before a change keeps the old
 * behaviour to its end; its next run (continue-as-new, reactivation) takes the new one.
 */
export const workflowPatches = {
  /** Nurture cadences, recycling with re-engagement and archiving, and the 30-day rule for accepted leads (issue #5). */
  nurtureCadences: 'nurture-cadences-and-recycling',
  /**
   * An input the data store refuses for good (bad data) is quarantined and the lead goes on; data
   * access that keeps failing alerts ops and retries more slowly (issue #13). Checked where a
   * failure is caught: runs recorded before never failed there (they retried forever).
   */
  quarantineBadInput: 'quarantine-bad-input',
  /**
   * Local data access backs off on workflow timers past a second (issue 12), so the workflow task
   * is not held through an outage and answers to captures and queries go out. Runs before it
   * retried within the task for up to a minute's backoff.
   */
  localRetryTimers: 'local-retry-timers',
  /**
   * A steady stream of signals (issue 12): a lead continues as new with its queue carried over
   * (before, only once its queue was empty, which a steady stream never allows), completes its
   * workflow task every few inputs, a new run reads its lead with an ordinary activity, and a run
   * answers its updates in a task before the one that ends it. Checked where continue-as-new is
   * due while signals wait, at every few inputs of a batch, where a run loads its lead, and where
   * it ends.
   */
  steadyStream: 'steady-stream',
  /**
   * Engagement events that reach a lead while it closes are recorded in its timeline (issue 12);
   * before, they were dropped after their 202. Checked only when such an event is queued at the end.
   */
  eventsWhileClosing: 'events-while-closing',
  /**
   * Scoring models as data (issue 18): a new run takes the newest published model with the lead it
   * loads (before, the model of its input policy: the configuration's), and a running lead takes a
   * rolled-out model from the `rescore` signal. Checked where a run that was not carried over
   * starts, and where a `rescore` signal arrives (a run that predates it never reacts to one).
   */
  scoringModelData: 'scoring-model-data',
} as const;
