import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { alwaysOpen as hours } from './fixtures';
import { eventually, requestTo } from './helpers';

/**
 * One lead's whole way through a running API on development keys: a team in `country` (one no
 * other test's team covers) with one rep, a sales-ready capture there, routed to that rep and
 * accepted by it. What a scrape of the processes' metrics after one lead reads.
 */
export async function captureRouteAndAccept(apiUrl: string, { country, tag }: { country: string; tag: string }) {
  const request = requestTo(apiUrl);
  const ops = { key: 'ops-dev' };
  const suffix = randomUUID().slice(0, 6);
  const team = await request('POST', '/teams', {
    ...ops,
    body: { id: `team-${tag}-${suffix}`, name: `Team ${tag}`, countries: [country], businessHours: hours },
  });
  expect(team.status).toBe(201);
  const rep = await request('POST', '/reps', {
    ...ops,
    body: { id: `rep-${tag}-${suffix}`, name: `Rep ${tag}`, email: `rep-${suffix}@example.com`, teamId: team.body.id },
  });
  expect(rep.status).toBe(201);
  const captured = await request('POST', '/leads', {
    body: { email: `buyer.${suffix}@prospect-${suffix}.com`, source: 'demo_request', country },
  });
  expect(captured.status).toBe(202);
  const leadId: string = captured.body.leadId;
  await eventually(async () =>
    expect((await request('GET', `/leads/${leadId}`, ops)).body).toMatchObject({ status: 'sql', ownerId: rep.body.id }),
  );
  expect((await request('POST', `/leads/${leadId}/accept`, { body: {}, key: rep.body.apiKey })).status).toBe(200);
  return { leadId, repId: rep.body.id as string };
}
