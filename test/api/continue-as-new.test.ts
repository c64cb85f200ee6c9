import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevServer, type RunningTemporal } from '../../stack/temporal';
import { eventually, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';
import { runSizes } from '../support/runs';

// A dev server of its own that suggests continue-as-new after 120 events (the default is thousands),
// so a lead's history is split into several runs within seconds.
const suggestAt = 120;
let temporal: RunningTemporal;
let service: ServiceUnderTest;

beforeAll(async () => {
  temporal = await startDevServer({ extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${suggestAt}`] });
  service = await startService({ temporalAddress: temporal.address });
});
afterAll(async () => {
  await service?.close();
  await temporal?.stop();
});

interface LeadState {
  lead: {
    status: string;
    score: { score: number };
    engagement: { openedEmails: number };
    cadence: { name: string; version: number; step: number; enrolledAt: string; nextStepAt: string };
  };
}

describe('bounded history: continue-as-new when the server suggests it', () => {
  it('splits a busy lead into runs near the suggested size and carries its state over intact', async () => {
    // Webinar +30, US +15 = 45: an mql lead in mql-nurture; opened emails add 8 once, at the third.
    const { leadId } = (
      await service.request('POST', '/leads', {
        body: { email: uniqueEmail('busy'), source: 'webinar', country: 'US', consent: { email: 'opted_in' } },
      })
    ).body;
    const handle = service.client.workflow.getHandle(leadId);
    const before = await eventually(async () => {
      const state = await handle.query<LeadState>('leadState');
      expect(state.lead.cadence).toBeDefined();
      return state.lead;
    });
    const firstRun = (await handle.describe()).runId;

    // Sixty engagement events, each applied before the next is sent: several runs' worth of events.
    const opens = 60;
    for (let i = 0; i < opens; i++) {
      const sent = await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'opened_email', eventId: `open-${i}` } });
      expect(sent.status).toBe(202);
      await eventually(async () => expect((await handle.query<LeadState>('leadState')).lead.engagement.openedEmails).toBe(i + 1));
    }
    // The same event again, after the hand-overs: still recognised and recorded once.
    await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'opened_email', eventId: 'open-0' } });

    const runs = await runSizes(service.client, leadId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect((await service.client.workflow.getHandle(leadId, firstRun).describe()).status.name).toBe('CONTINUED_AS_NEW');
    // A run ends at the first quiet moment after the suggestion: a few workflow tasks past it.
    for (const events of runs.slice(0, -1)) expect(events).toBeGreaterThanOrEqual(suggestAt);
    for (const events of runs) expect(events).toBeLessThan(suggestAt + 40);

    const after = (await handle.query<LeadState>('leadState')).lead;
    expect(after.engagement.openedEmails).toBe(opens);
    expect(after).toMatchObject({ status: 'mql', score: { score: 53 } });
    expect(after.cadence).toEqual(before.cadence); // same version, step and schedule
    const activities = await service.sql`SELECT count(*)::int AS n FROM lead_events WHERE lead_id = ${leadId} AND type = 'activity'`;
    expect(activities[0]!.n).toBe(opens);
  });

  it(
    'applies every engagement event exactly once while they keep coming across many continue-as-new boundaries',
    { timeout: 240_000 },
    async () => {
      // Webinar +30, US +15; opened emails +8 once, at the third: 53 however many there are.
      const { leadId } = (
        await service.request('POST', '/leads', { body: { email: uniqueEmail('stream'), source: 'webinar', country: 'US' } })
      ).body;
      const handle = service.client.workflow.getHandle(leadId);
      const events = 600;
      // Six senders, none waiting for the lead: each event is sent once and, for every fifth, an
      // earlier one is sent again (a client retrying), so redeliveries also cross the boundaries.
      const sends = Array.from({ length: events }, (_, i) => [`stream-${i}`, ...(i % 5 === 0 && i >= 7 ? [`stream-${i - 7}`] : [])]).flat();
      let next = 0;
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          while (next < sends.length) {
            const eventId = sends[next++]!;
            statuses.push(
              (await service.request('POST', `/leads/${leadId}/activities`, { body: { type: 'opened_email', eventId } })).status,
            );
          }
        }),
      );
      expect(statuses.every((status) => status === 202)).toBe(true);

      const stored = async () =>
        (await service.sql`SELECT count(*)::int AS n FROM lead_events WHERE lead_id = ${leadId} AND type = 'activity'`)[0]!.n as number;
      // Applied at a few dozen a second on a loaded machine, one run after another: be patient.
      await vi.waitFor(async () => expect(await stored()).toBe(events), { timeout: 120_000, interval: 500 });
      // The query is refused for a moment while a failed workflow task is retried: ask again.
      const lead = await eventually(async () => (await handle.query<LeadState>('leadState')).lead);
      expect(lead.engagement.openedEmails).toBe(events);
      expect(lead.score.score).toBe(53);
      expect((await service.request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body.score).toBe(53);
      expect((await runSizes(service.client, leadId)).length).toBeGreaterThanOrEqual(4);
      // Settled: nothing is applied again later.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await stored()).toBe(events);
      expect((await handle.query<LeadState>('leadState')).lead.engagement.openedEmails).toBe(events);
    },
  );
});
