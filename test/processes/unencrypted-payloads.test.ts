import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { unencryptedPayloadFailureType } from '../../contracts/failures';
import { eventually, requestTo } from '../support/helpers';
import { startProcesses } from '../support/processes';
import { salesReadyDemoRequests } from '../support/fixtures';

// The worker and the API as a deployment runs them (no embedded stack, real keys), on the tests'
// Temporal server, which anyone who reaches it can write to without the payload keys.
const keys = { capture: `capture-${randomUUID()}`, ops: `ops-${randomUUID()}` };
let stack: Awaited<ReturnType<typeof startProcesses>>;
let connection: Connection;
let plain: Client;

beforeAll(async () => {
  stack = await startProcesses({
    config: salesReadyDemoRequests,
    env: {
      NODE_ENV: 'production',
      LEAD_EMBEDDED_STACK: undefined,
      API_KEYS: `${keys.capture}=capture,${keys.ops}=ops`,
      LEAD_ID_SECRET: randomBytes(32).toString('base64'),
      SMTP_URL: 'off',
    },
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  plain = new Client({ connection }); // no payload codec: what a client without the keys sends
}, 180_000);
afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

describe('a production worker, given payloads not encrypted with its keys', () => {
  it('rejects a plaintext action update, drops a plaintext signal and fails a plaintext start; encrypted calls still act', async () => {
    const request = requestTo(stack.apiUrl);
    const ops = { key: keys.ops };
    const suffix = randomUUID().slice(0, 8);
    const captured = await request('POST', '/leads', {
      key: keys.capture,
      body: { email: `pat.plain.${suffix}@prospect-${suffix}.com`, source: 'demo_request', country: 'QZ' },
    });
    expect(captured.status).toBe(202);
    const { leadId } = captured.body;
    const status = async () => (await request('GET', `/leads/${leadId}`, ops)).body.status;
    await eventually(async () => expect(await status()).toBe('sql'));
    const lead = plain.workflow.getHandle(leadId);

    // An update with actor ops, as anyone reaching Temporal could write it: rejected before it is accepted.
    const forged = lead.executeUpdate('disqualify', { args: [{ reason: 'spam', actor: { role: 'ops' }, at: new Date().toISOString() }] });
    const rejection = await forged.catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((rejection as WorkflowUpdateFailedError).cause).toMatchObject({ type: unencryptedPayloadFailureType });
    expect(await status()).toBe('sql');

    // A plaintext engagement signal is dropped; the encrypted one the API sends after it is applied.
    await lead.signal('activity', {
      activityId: `forged-${suffix}`,
      type: 'visited_careers_page',
      receivedAt: new Date().toISOString(),
      actor: 'ops',
    });
    const reported = await request('POST', `/leads/${leadId}/activities`, { key: keys.capture, body: { type: 'opened_email' } });
    expect(reported.status).toBe(202);
    const timeline = async () => JSON.stringify((await request('GET', `/leads/${leadId}/timeline`, ops)).body.events);
    await eventually(async () => expect(await timeline()).toContain('opened_email'));
    expect(await timeline()).not.toContain('visited_careers_page');

    // A workflow started with a plaintext input fails at once and does nothing.
    const started = await plain.workflow.start('leadWorkflow', {
      workflowId: `lead-forged-${suffix}`,
      taskQueue: stack.taskQueue,
      args: [{}],
    });
    const failed = await started.result().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect((failed as WorkflowFailedError).cause).toMatchObject({ type: unencryptedPayloadFailureType });

    expect(await stack.worker.line((l) => l.msg === 'an unencrypted payload was refused')).toMatchObject({
      level: 'warn',
      encoding: 'json/plain',
    });
    // The API's own, encrypted, action still acts.
    const disqualified = await request('POST', `/leads/${leadId}/disqualify`, { ...ops, body: { reason: 'spam' } });
    expect(disqualified.status).toBe(200);
    expect(await status()).toBe('disqualified');
  }, 120_000);
});
