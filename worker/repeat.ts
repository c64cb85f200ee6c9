/**
 * Runs `task` now and then `everyMs` after each run ends (never two at once), until stopped; a
 * failed run is reported to `onError` and the next one runs as usual. `stop()` waits for the run
 * under way. The worker's background loops (the outbox, the report's day sums) share it.
 */
export function repeat(task: () => Promise<unknown>, everyMs: number, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const loop = () => {
    if (stopped) return;
    running = task()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, everyMs);
      });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
