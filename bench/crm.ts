import { randomUUID } from 'node:crypto';
import type { HubspotStub } from '../test/support/hubspot-stub';
import { captureClient, type Delivery } from './capture-client';
import { assignedAt, call, salesReady, sleep, waitAssigned, type Bench } from './context';
import { msText, pool, summary, type Summary } from './stats';

export interface CrmFigures {
  leads: number;
  inFlight: number;
  /** Capture sent → owner assigned, `leads` routed at once with no CRM connected: the first burst. */
  first: Summary;
  /** The same, the second burst without a CRM, just before the one with it. */
  without: Summary;
  /** The same with a HubSpot connection (the stub): every routing queues a contact push. */
  with: Summary;
  /** with ÷ without (the second burst): 1 is "unchanged". */
  ratio: { p50: number; p99: number };
  /** second ÷ first burst, both without a CRM: what a later burst costs by itself. */
  drift: { p50: number; p99: number };
  pushes: {
    /** Contacts upserted in the stub (one per lead routed with the connection). */
    contacts: number;
    /** Contacts upserted a second, from the first upsert to the last. */
    perSecond: number;
    /** First capture sent → the last contact upserted; null when not all were within the wait. */
    allSeconds: number | null;
    /** Calls the stub answered with an error (none expected: it fails only on demand). */
    failedCalls: number;
  };
}

/** Routes `leads` sales-ready leads at once (`inFlight` captures at a time): each lead's capture → assigned, in ms. */
async function routeAtOnce(
  bench: Bench,
  prefix: string,
  leads: number,
  inFlight: number,
): Promise<{ latencies: number[]; ids: string[]; firstSentAt: number }> {
  const deliver = captureClient({ api: bench.api });
  const deliveries: Delivery[] = [];
  const run = randomUUID().slice(0, 8);
  await pool(
    Array.from({ length: leads }, (_, i) => i),
    inFlight,
    async (i) => {
      deliveries.push(await deliver(salesReady(prefix, i), `${prefix}-${run}-${i}`));
      if (deliveries.length % 250 === 0) bench.log(`  ${deliveries.length}/${leads} captured`);
    },
  );
  const taken = deliveries.filter((d) => d.status === 202);
  const ids = taken.map((d) => d.leadId);
  await waitAssigned(bench.sql, ids, 180_000);
  const times = await assignedAt(bench.sql, ids);
  const latencies = taken.flatMap((d) => (times.get(d.leadId) ? [times.get(d.leadId)!.getTime() - d.firstSentAt] : []));
  return { latencies, ids, firstSentAt: Math.min(...deliveries.map((d) => d.firstSentAt)) };
}

/**
 * The CRM handoff under load (docs/features/crm.md "Measured"): `leads` sales-ready leads routed at
 * once with no CRM connected (twice), then a HubSpot connection to a local stub (test/support/hubspot-stub.ts)
 * and `leads` more routed at once: speed-to-lead both ways (the pushes are outbox entries delivered
 * by the worker's notifier, off the routing path), and the contact pushes a second until all are
 * upserted (HubSpot's client paces each connection at about 9 calls a second).
 */
export async function measureCrm(
  bench: Bench,
  hubspot: HubspotStub,
  { leads, inFlight = 100, pushTimeoutMs = Math.max(300_000, leads * 300) }: { leads: number; inFlight?: number; pushTimeoutMs?: number },
): Promise<CrmFigures> {
  const { log } = bench;
  // Each burst leaves its leads open (SLA timers, cached workflows), so a later burst runs on a
  // fuller stack. Two bursts without a CRM measure that drift; the one with it is compared with
  // the second, its immediate predecessor.
  log(`  without a CRM: ${leads} leads routed at once, twice…`);
  const first = await routeAtOnce(bench, 'crm-off-a', leads, inFlight);
  const firstSummary = summary(first.latencies);
  log(`  ${first.latencies.length}/${leads} routed, capture → assigned ${msText(firstSummary)}`);
  const without = await routeAtOnce(bench, 'crm-off-b', leads, inFlight);
  const withoutSummary = summary(without.latencies);
  log(`  ${without.latencies.length}/${leads} routed, capture → assigned ${msText(withoutSummary)}`);

  const connected = await call(bench, 'POST', '/crm-connections', {
    kind: 'hubspot',
    name: 'Bench HubSpot',
    accessToken: `pat-bench-${randomUUID()}`,
    apiBaseUrl: hubspot.url,
  });
  if (connected.status !== 201) throw new Error(`POST /crm-connections answered ${connected.status}: ${await connected.text()}`);
  log(`  with HubSpot connected (stub ${hubspot.origin}): ${leads} leads routed at once…`);
  const before = hubspot.callsTo('contacts').length;
  const withCrm = await routeAtOnce(bench, 'crm-on', leads, inFlight);
  const withSummary = summary(withCrm.latencies);
  log(`  ${withCrm.latencies.length}/${leads} routed, capture → assigned ${msText(withSummary)}; waiting for the contacts…`);

  // Only this burst's contacts: a lead of an earlier section routed meanwhile is pushed too.
  const upserted = () =>
    hubspot
      .callsTo('contacts')
      .slice(before)
      .filter((c) => c.status === 200 && String(c.body?.inputs?.[0]?.id).startsWith('crm-on-'));
  const deadline = Date.now() + pushTimeoutMs;
  let lastLogged = 0;
  while (upserted().length < withCrm.ids.length && Date.now() < deadline) {
    const n = upserted().length;
    if (n - lastLogged >= 100) {
      log(`  ${n}/${withCrm.ids.length} contacts upserted`);
      lastLogged = n;
    }
    await sleep(500);
  }
  const calls = upserted();
  const spanSeconds = calls.length > 1 ? (calls.at(-1)!.at - calls[0]!.at) / 1000 : NaN;
  const complete = calls.length >= withCrm.ids.length;
  const pushes = {
    contacts: new Set(calls.map((c) => c.body?.inputs?.[0]?.id)).size,
    perSecond: (calls.length - 1) / spanSeconds,
    allSeconds: complete ? (calls.at(-1)!.at - withCrm.firstSentAt) / 1000 : null,
    failedCalls: hubspot.calls.slice(before).filter((c) => c.status !== 200).length,
  };
  const ratio = { p50: withSummary.p50 / withoutSummary.p50, p99: withSummary.p99 / withoutSummary.p99 };
  const drift = { p50: withoutSummary.p50 / firstSummary.p50, p99: withoutSummary.p99 / firstSummary.p99 };
  log(
    `  ${pushes.contacts}/${withCrm.ids.length} contacts upserted, ${pushes.perSecond.toFixed(1)} pushes/s, ` +
      `all ${pushes.allSeconds === null ? 'not within the wait' : `${pushes.allSeconds.toFixed(1)} s after the first capture`}; ` +
      `speed-to-lead with ÷ without: p50 ×${ratio.p50.toFixed(2)}, p99 ×${ratio.p99.toFixed(2)} ` +
      `(second ÷ first without: p50 ×${drift.p50.toFixed(2)}, p99 ×${drift.p99.toFixed(2)})`,
  );
  return { leads, inFlight, first: firstSummary, without: withoutSummary, with: withSummary, ratio, drift, pushes };
}
