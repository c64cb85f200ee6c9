import { randomUUID } from 'node:crypto';
import { captureClient, deliveryFigures, deliveryText, type Delivery, type DeliveryFigures } from './capture-client';
import { allAssignedAfter, assignedAt, call, salesReady, sleep, waitAssigned, type Bench } from './context';
import { problemsText, workflowTaskProblems, type TaskProblems } from './histories';
import { msText, pool, summary, type Summary } from './stats';
import { warningText, type WarningCounts } from './worker-log';

export interface StormOptions {
  /** Sales-ready leads waiting in the unassigned queue when the edits begin. */
  waiting: number;
  /** `PATCH /reps/{id}` calls, one after another. */
  edits: number;
  /** New captures a second during the edits (open loop). */
  rate?: number;
  /** The captures go on this long after the last edit. */
  tailSeconds?: number;
  /** A country the capture schema accepts (ISO alpha-2) that no team of the bench covers. */
  country?: string;
}

export interface StormFigures {
  waiting: number;
  edits: number;
  rate: number;
  country: string;
  /** First edit → last edit answered. */
  editSeconds: number;
  /** Each PATCH: sent → answered (the waiting leads it could serve are woken in the background). */
  editAnswers: Summary;
  editErrors: number;
  /** The captures that arrived meanwhile (US, routable): answers per attempt, 503s among them. */
  captures: DeliveryFigures;
  /** Each of those captures: its first send → `leads.assigned_at`. */
  captureToAssigned: Summary;
  /** The last capture's first send → the last of them routed; null when not all were within the wait. */
  settledSeconds: number | null;
  /** The worker's workflow-task warnings from the first edit until the captures settled. */
  workerWarnings: WarningCounts;
  /** Workflow-task timeouts and failures since the first edit, in the histories of the captures and of the waiting leads. */
  histories: TaskProblems;
  /** Afterwards a team for `country` is added: its queue routed this long after (null: not within the wait). */
  drainedSeconds: number | null;
}

/**
 * A storm of routing-data edits: `waiting` sales-ready leads in the unassigned queue (a country no
 * team covers), then `edits` rep edits one after another as an import script makes them (each
 * toggles one bench rep's capacity between 9,999 and 10,000, so routing of US leads never changes;
 * every edit wakes the whole queue to retry routing), while new sales-ready US captures arrive at
 * `rate`/s, open loop, through the retrying client, for the edits' duration plus `tailSeconds`.
 * Afterwards the queue is drained by a team for its country, so its leads do not wake on their own
 * backoff during the later sections.
 */
export async function measureStorm(bench: Bench, options: StormOptions): Promise<StormFigures> {
  const { sql, client, workerLog, log, repIds } = bench;
  const { waiting, edits, rate = 2, tailSeconds = 10, country = 'DE' } = options;
  const deliver = captureClient({ api: bench.api });

  const queued: Delivery[] = [];
  await pool(
    Array.from({ length: waiting }, (_, i) => i),
    50,
    async (i) => void queued.push(await deliver(salesReady('queued', i, country))),
  );
  const waitingIds = [...new Set(queued.map((d) => d.leadId))];
  const deadline = Date.now() + 300_000;
  for (let n = 0; ; await sleep(500)) {
    [{ n }] =
      (await sql`SELECT count(*)::int AS n FROM leads WHERE lead_id IN ${sql(waitingIds)} AND status = 'sql' AND owner_id IS NULL`) as unknown as [
        { n: number },
      ];
    if (n === waitingIds.length) break;
    if (Date.now() > deadline) throw new Error(`storm: only ${n} of ${waitingIds.length} leads reached the unassigned queue in 5 minutes`);
  }
  log(`  ${waitingIds.length} leads (${country}) stored as unassigned; ${edits} rep edits with captures at ${rate}/s…`);

  const warningsBefore = workerLog.now();
  const stormStart = Date.now();
  const captures: Promise<Delivery>[] = [];
  let stopAt = Infinity;
  const arrivals = (async () => {
    const start = performance.now();
    const tag = randomUUID().slice(0, 8);
    for (let i = 0; ; i++) {
      const due = start + (i * 1000) / rate;
      while (performance.now() < Math.min(due, stopAt)) await sleep(Math.min(due, stopAt) - performance.now());
      if (due > stopAt) return;
      captures.push(deliver(salesReady('storm', i), `storm-${tag}-${i}`));
    }
  })();

  const editAnswers: number[] = [];
  let editErrors = 0;
  for (let i = 0; i < edits; i++) {
    const repId = repIds[i % repIds.length]!;
    const capacity = Math.floor(i / repIds.length) % 2 === 0 ? 9_999 : 10_000;
    const sent = performance.now();
    const r = await call(bench, 'PATCH', `/reps/${repId}`, { capacity }).catch(() => null);
    await r?.text();
    editAnswers.push(performance.now() - sent);
    if (r?.status !== 200) editErrors++;
    if ((i + 1) % 10 === 0) log(`  ${i + 1}/${edits} edits`);
  }
  const editSeconds = (Date.now() - stormStart) / 1000;
  stopAt = performance.now() + tailSeconds * 1000;
  await arrivals;
  const deliveries = await Promise.all(captures);
  const figures = deliveryFigures(deliveries);
  log(
    `  edits ${msText(summary(editAnswers))} each, ${editErrors} failed, ${editSeconds.toFixed(1)} s in all; captures: ${deliveryText(figures)}; answered ${msText(figures.perAttempt)}`,
  );

  const ids = [...new Set(deliveries.map((d) => d.leadId))];
  const lastSent = Math.max(...deliveries.map((d) => d.firstSentAt));
  await waitAssigned(sql, ids, 180_000);
  const settledSeconds = await allAssignedAfter(sql, ids, lastSent);
  const times = await assignedAt(sql, ids);
  const captureToAssigned = summary(
    deliveries.flatMap((d) => (times.get(d.leadId) ? [times.get(d.leadId)!.getTime() - d.firstSentAt] : [])),
  );
  const workerWarnings = workerLog.since(warningsBefore);
  const histories = await workflowTaskProblems(client, [...ids, ...waitingIds], stormStart);
  log(
    `  settled ${settledSeconds === null ? 'not within the wait' : `${settledSeconds.toFixed(1)} s after the last capture`}; capture → assigned ${msText(captureToAssigned)}; ` +
      `worker: ${warningText(workerWarnings)}; ${problemsText(histories)}`,
  );

  // Drain the queue: a team for its country, with one rep.
  const drainStart = Date.now();
  const team = `storm-${randomUUID().slice(0, 6)}`;
  await call(bench, 'POST', '/teams', {
    id: team,
    name: `Storm ${country}`,
    countries: [country],
    businessHours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  }).then((r) => r.text());
  await call(bench, 'POST', '/reps', {
    id: `${team}-rep`,
    name: 'Storm rep',
    email: `${team}@example.com`,
    teamId: team,
    capacity: 10_000,
  }).then((r) => r.text());
  await waitAssigned(sql, waitingIds, 300_000);
  const drainedSeconds = await allAssignedAfter(sql, waitingIds, drainStart);
  log(`  queue drained by a team for ${country}: ${drainedSeconds === null ? 'not within 5 minutes' : `${drainedSeconds.toFixed(1)} s`}`);

  return {
    waiting: waitingIds.length,
    edits,
    rate,
    country,
    editSeconds,
    editAnswers: summary(editAnswers),
    editErrors,
    captures: figures,
    captureToAssigned,
    settledSeconds,
    workerWarnings,
    histories,
    drainedSeconds,
  };
}
