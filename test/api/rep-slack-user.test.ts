import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceUnderTest } from '../support/helpers';

/** A rep's Slack member id, where Slack alerts go (docs/api.md "Reps"): stored, shown, changed and cleared. */

let service: ServiceUnderTest;
const ops = 'ops-dev';

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

describe('reps, slackUserId', () => {
  it('is stored with the rep, shown in its view, changed and cleared by a patch', async () => {
    const created = await service.request('POST', '/reps', {
      key: ops,
      body: { name: 'Ana', email: 'ana@example.com', slackUserId: 'U024BE7LH' },
    });
    expect(created.status).toBe(201);
    expect(created.body.slackUserId).toBe('U024BE7LH');
    const id = created.body.id;
    const changed = await service.request('PATCH', `/reps/${id}`, { key: ops, body: { slackUserId: 'W0123ABCD' } });
    expect(changed.body.slackUserId).toBe('W0123ABCD');
    const cleared = await service.request('PATCH', `/reps/${id}`, { key: ops, body: { slackUserId: null } });
    expect(cleared.body.slackUserId).toBeNull();
    const [row] = await service.sql`SELECT slack_user_id FROM reps WHERE id = ${id}`;
    expect(row?.slack_user_id).toBeNull();
  });

  it('is optional, and refused with a 400 naming the field when it is not a Slack member id', async () => {
    const plain = await service.request('POST', '/reps', { key: ops, body: { name: 'Bo', email: 'bo@example.com' } });
    expect(plain.body.slackUserId).toBeNull();
    const bad = await service.request('POST', '/reps', {
      key: ops,
      body: { name: 'Cy', email: 'cy@example.com', slackUserId: '<!channel>' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['slackUserId']);
  });
});
