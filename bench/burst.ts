import { randomUUID } from 'node:crypto';
import { captureClient, deliveryFigures, deliveryText, type Delivery, type DeliveryFigures } from './capture-client';
import { allAssignedAfter, salesReady, sleep, waitAssigned, type Bench } from './context';
import { problemsText, workflowTaskProblems, type TaskProblems } from './histories';
import { msText, pool, summary, type Summary } from './stats';
import { warningText, type WarningCounts } from './worker-log';

export interface BurstFigures {
  registrants: number;
  inFlight: number;
  /**
   * The engine's own answer to as many starts as there are registrants, as many in flight, sent by
   * the bench straight to the server (a workflow no worker runs, no payload): what the burst's
   * answers are bounded by on this machine, measured the same hour.
   */
  engineStarts: Summary;
  /** The webinar tool's deliveries: answers per attempt, and per registrant from its first send to its 202. */
  delivery: DeliveryFigures;
  /** Registrants with an owner (`leads.assigned_at`) at the end of the wait. */
  routed: number;
  /** First send → the last registrant's `assigned_at`; null when not all were routed within the wait. */
  allRoutedSeconds: number | null;
  /** Registrants whose lead has more than one `captured` event in `lead_events` (a capture applied twice). */
  capturedMoreThanOnce: number;
  /** The worker's workflow-task warnings during the burst (first send → all routed). */
  workerWarnings: WarningCounts;
  /** Workflow-task timeouts and failures in the registrants' histories. */
  histories: TaskProblems;
}

/**
 * A webinar tool posting its sales-ready registrants all at once: `registrants` captures (unique
 * emails), `inFlight` at a time, each with its own Idempotency-Key, retried after 429/503/network
 * errors with the same key and body (bench/capture-client.ts).
 */
export async function measureBurst(
  bench: Bench,
  { registrants, inFlight = 100, routeTimeoutMs = 180_000 }: { registrants: number; inFlight?: number; routeTimeoutMs?: number },
): Promise<BurstFigures> {
  const { sql, client, workerLog, log } = bench;
  const deliver = captureClient({ api: bench.api });
  const engineStarts = await measureEngineStarts(bench, registrants, inFlight);
  log(`  the engine alone, ${registrants} starts, ${inFlight} in flight, straight to the server: ${msText(engineStarts)}`);
  const warningsBefore = workerLog.now();
  const startedAt = Date.now();
  const deliveries: Delivery[] = [];
  const webinar = randomUUID().slice(0, 8);
  await pool(
    Array.from({ length: registrants }, (_, i) => i),
    inFlight,
    async (i) => {
      deliveries.push(await deliver(salesReady('webinar', i), `webinar-${webinar}-${i}`));
      if (deliveries.length % 250 === 0) log(`  ${deliveries.length}/${registrants} answered`);
    },
  );
  const delivery = deliveryFigures(deliveries);
  log(`  ${deliveryText(delivery)}; per registrant ${msText(delivery.endToEnd)}`);

  const ids = [...new Set(deliveries.map((d) => d.leadId))];
  const firstSend = Math.min(...deliveries.map((d) => d.firstSentAt));
  const routed = await waitAssigned(sql, ids, routeTimeoutMs);
  const allRoutedSeconds = await allAssignedAfter(sql, ids, firstSend);
  const workerWarnings = workerLog.since(warningsBefore);
  const [{ n: capturedMoreThanOnce }] = (await sql`
    SELECT count(*)::int AS n FROM (
      SELECT lead_id FROM lead_events WHERE type = 'captured' AND lead_id IN ${sql(ids)} GROUP BY lead_id HAVING count(*) > 1) twice`) as unknown as [
    { n: number },
  ];
  const histories = await workflowTaskProblems(client, ids, startedAt);
  log(
    `  ${routed}/${ids.length} routed, all ${allRoutedSeconds === null ? 'not within the wait' : `${allRoutedSeconds.toFixed(1)} s after the first send`}; ` +
      `${capturedMoreThanOnce} captured more than once; worker: ${warningText(workerWarnings)}; ${problemsText(histories)}`,
  );
  return { registrants, inFlight, engineStarts, delivery, routed, allRoutedSeconds, capturedMoreThanOnce, workerWarnings, histories };
}

/**
 * `count` starts of a workflow type no worker polls for, `inFlight` at a time, each timed from its
 * request to the server's answer. They time out after a second; the wait after them lets the
 * server close them before the burst.
 */
async function measureEngineStarts({ client }: Bench, count: number, inFlight: number): Promise<Summary> {
  const run = randomUUID().slice(0, 8);
  const answered: number[] = [];
  await pool(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async (i) => {
      const sent = performance.now();
      await client.workflow.start('engineBaseline', {
        taskQueue: `bench-engine-${run}`,
        workflowId: `engine-${run}-${i}`,
        workflowExecutionTimeout: '1 second',
      });
      answered.push(performance.now() - sent);
    },
  );
  await sleep(5000);
  return summary(answered);
}
