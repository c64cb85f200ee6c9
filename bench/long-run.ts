import { randomUUID } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import { resolveLeadConfig } from '../config/load';
import type { Sql } from '../db/client';
import { runSizes } from '../test/support/runs';
import { leadStackOn, skipTime, startTimeSkippingServer, terminateWhenQuiet } from '../test/support/time-skipping';

export interface LongRunHistory {
  months: number;
  runs: number;
  totalEvents: number;
  largestRun: number;
  limit: number;
}

export interface LongRuns {
  /** A nurtured lead: `marketing-pool` for the year, engaging every week. */
  nurture: LongRunHistory;
  /** The busiest lead there is: sales-ready but in the unassigned queue all year, retrying hourly. */
  unassigned: LongRunHistory;
}

/**
 * A year (`months`) in the life of two leads, on the time-skipping server, counting runs and the events
 * of each: continue-as-new must keep every run under the limit. The nurtured lead (not ready,
 * opted in) gets the twelve monthly steps of `marketing-pool` and opens an email every week. The
 * other waits all year in the unassigned queue (a made-up country no team covers), waking hourly to
 * retry routing: aging is stretched past the year so it stays open. Time is skipped with `skipTime`,
 * which waits for the lead to be idle first (the test server's CancelTimer race, sdk-java#2606).
 */
export async function measureLongRuns(sql: Sql, codec: PayloadCodec, log: (line: string) => void, months = 12): Promise<LongRuns> {
  const env = await startTimeSkippingServer(codec, undefined, log);
  try {
    const config = resolveLeadConfig({ qualification: { sqlAt: 40, mqlAt: 20 }, aging: { inactiveDisqualifyAfter: 'P400D' } });
    const { worker, request } = await leadStackOn(env, { sql, config, name: 'long-run', codec });
    const call = async (path: string, body: unknown) => (await request('POST', path, body)).body as { leadId: string };
    const email = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}@nowhere-${randomUUID().slice(0, 6)}.com`;
    const measure = async (leadId: string): Promise<LongRunHistory> => {
      const sizes = await runSizes(env.client, leadId);
      await terminateWhenQuiet(env, [leadId], 'long run measured');
      return {
        months,
        runs: sizes.length,
        totalEvents: sizes.reduce((a, b) => a + b, 0),
        largestRun: Math.max(...sizes),
        limit: config.history.maxEventsPerRun,
      };
    };

    return await worker.runUntil(async () => {
      // Newsletter, outside the target region: score 0, not ready, nurtured in marketing-pool.
      const nurtured = (
        await call('/leads', { email: email('nurtured'), source: 'newsletter', country: 'XN', consent: { email: 'opted_in' } })
      ).leadId;
      const weeks = Math.round((months * 365) / 12 / 7);
      for (let week = 1; week <= weeks; week++) {
        await skipTime(env, '7 days', [nurtured]);
        await call(`/leads/${nurtured}/activities`, { type: 'opened_email', eventId: `week-${week}` });
        if (week % 13 === 0) log(`  nurtured lead: week ${week} of ${weeks}`);
      }
      const nurture = await measure(nurtured);

      const waiting = (await call('/leads', { email: email('year'), source: 'demo_request', country: 'XY' })).leadId;
      for (let month = 1; month <= months; month++) {
        await skipTime(env, '30 days', [waiting]);
        if (month % 3 === 0) log(`  unassigned lead: month ${month} of ${months}`);
      }
      return { nurture, unassigned: await measure(waiting) };
    });
  } finally {
    await env.teardown();
  }
}
