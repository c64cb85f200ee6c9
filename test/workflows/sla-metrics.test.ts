import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSql } from '../../db/client';
import { createWorkerMetrics } from '../../worker/metrics';
import { storedTimeline, timeSkippingSuite } from '../support/helpers';
import { salesReadyDemoRequests } from '../support/fixtures';

// The SLA counters through the real workflow on the time-skipping server (minutes pass in milliseconds):
// the worker's metrics count the ladder's steps as the workflow stores them.
const sql = createSql(inject('databaseUrl'), { max: 1 });
const metrics = createWorkerMetrics(sql, { webhookConfigured: false });
// Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
const suite = timeSkippingSuite('metrics-sla', { config: salesReadyDemoRequests, metrics });
afterAll(async () => {
  await sql.end({ timeout: 5 });
});

/** A counter's value, summed over its label sets. */
async function counted(name: string): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric(name)!.get();
  return values.reduce((sum, { value }) => sum + value, 0);
}

describe('SLA metrics', () => {
  it('count reminders, breaches and the escalation of a lead nobody answers, and the captures', async () => {
    const call = (method: string, path: string, body: unknown, key = 'ops-dev') => suite.service.request(method, path, body, key);
    const suffix = randomUUID().slice(0, 6);
    const country = 'QM';
    const manager = (await call('POST', '/reps', { id: `mgr-m-${suffix}`, name: 'Manager', email: `mgr-${suffix}@example.com` })).body;
    const team = (
      await call('POST', '/teams', {
        id: `team-m-${suffix}`,
        name: 'Metrics ladder',
        countries: [country],
        managerId: manager.id,
        businessHours: { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
      })
    ).body;
    for (const name of ['a', 'b']) {
      expect(
        (await call('POST', '/reps', { id: `rep-m${name}-${suffix}`, name, email: `${name}-${suffix}@example.com`, teamId: team.id }))
          .status,
      ).toBe(201);
    }
    const captured = await call(
      'POST',
      '/leads',
      { email: `buyer.${suffix}@prospect-${suffix}.com`, source: 'demo_request', country },
      'capture-dev',
    );
    expect(captured.status).toBe(202);
    suite.started.push(captured.body.leadId);

    // P1: reminder at 2.5 min, breach at 5 (reassigned), reminder at 7.5, breach at 10: escalated to the team manager.
    await suite.sleep('12 minutes');
    const ladder = (await storedTimeline(suite.sql, captured.body.leadId)).map((e) => e.type);
    expect(ladder.filter((type) => type === 'sla_breached')).toHaveLength(2);
    expect(await counted('lead_captures_total')).toBe(1);
    expect(await counted('lead_sla_reminders_total')).toBe(ladder.filter((type) => type === 'sla_reminder').length);
    expect(await counted('lead_sla_reminders_total')).toBeGreaterThanOrEqual(2);
    expect(await counted('lead_sla_breaches_total')).toBe(2);
    expect(await counted('lead_sla_escalations_total')).toBe(1);
    expect(await counted('lead_speed_to_lead_seconds')).toBe(0);
  });
});
