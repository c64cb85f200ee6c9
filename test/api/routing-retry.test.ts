import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RouteRequest } from '../../activities/routing';
import type { LeadSave } from '../../db/leads';
import { startService, storedTimeline, type ServiceUnderTest } from '../support/helpers';
import { alwaysOpen as hours, salesReadyDemoRequests, captureUntil } from '../support/fixtures';

// Routing that committed but whose answer never reached the workflow: the worker's
// connection drops after the routing transaction commits, as when a worker dies before its workflow
// task completes. The workflow asks again for the same decision; the real worker, Temporal server
// and Postgres run, and only the first answer for the chosen addresses is lost on its way back.
const lostAnswers = vi.hoisted(() => new Set<string>());
vi.mock('../../activities/routing', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../activities/routing')>();
  return {
    ...original,
    routingActivities: (...args: Parameters<typeof original.routingActivities>) => {
      const activities = original.routingActivities(...args);
      return {
        ...activities,
        async saveAndRouteLead(input: { save: LeadSave; route: RouteRequest }) {
          const assignment = await activities.saveAndRouteLead(input);
          if (lostAnswers.delete(input.route.email)) throw new Error('connection lost after the routing transaction committed');
          return assignment;
        },
      };
    },
  };
});

let service: ServiceUnderTest;
// Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
beforeAll(async () => {
  service = await startService({ config: salesReadyDemoRequests });
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };

const capture = (email: string) =>
  captureUntil<{ ownerId: string }>(
    service,
    { email, source: 'demo_request', country: 'QS' },
    { status: 'sql', ownerId: expect.any(String) },
  );

describe('routing asked again for the same decision', () => {
  it('keeps the owner it took the first time and moves the round robin once', async () => {
    const suffix = randomUUID().slice(0, 6);
    const team = await service.request('POST', '/teams', {
      ...ops,
      body: { id: `team-${suffix}`, name: `Team QS ${suffix}`, countries: ['QS'], businessHours: hours },
    });
    expect(team.status).toBe(201);
    for (const i of [0, 1]) {
      const rep = await service.request('POST', '/reps', {
        ...ops,
        body: { id: `rep-${i}-${suffix}`, name: `Rep ${i}`, email: `rep${i}-${suffix}@example.com`, teamId: team.body.id },
      });
      expect(rep.status).toBe(201);
    }
    const email = `buyer.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`;
    lostAnswers.add(email);

    const lead = await capture(email);
    expect(lostAnswers.has(email)).toBe(false); // the first answer was lost: routing was asked twice
    // One pick: the owner is the rep the first (committed) routing took, and the team counted one assignment.
    const [teamRow] = await service.sql<{ assignments: string }[]>`SELECT assignments FROM teams WHERE id = ${team.body.id}`;
    expect(Number(teamRow!.assignments)).toBe(1);
    const [picked] = await service.sql<{ id: string }[]>`SELECT id FROM reps WHERE team_id = ${team.body.id} AND last_assignment = 1`;
    expect(lead.ownerId).toBe(picked!.id);
    const assigned = (await storedTimeline(service.sql, lead.leadId)).filter((e) => e.type === 'assigned');
    expect(assigned.map((e) => e.data.ownerId)).toEqual([lead.ownerId]);

    // The next lead is the other rep's turn: the first lead's routing counted once.
    const next = await capture(`buyer.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`);
    expect(next.ownerId).not.toBe(lead.ownerId);
    expect(next.ownerId).toMatch(new RegExp(`^rep-[01]-${suffix}$`));
  });
});
