import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPayloadKeys } from '../support/codec';
import { eventually, requestTo } from '../support/helpers';
import { startProcesses, type LogLine } from '../support/processes';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

// A made-up country no other test's team covers; with sqlAt 40 a demo request is sales-ready and routed.
const country = 'QP';
let stack: Awaited<ReturnType<typeof startProcesses>>;
// A Slack-style webhook (its token is in the path) that refuses every delivery, quoting the path back as receivers do.
const hookToken = `T0${randomUUID().slice(0, 6)}/B0${randomUUID().slice(0, 6)}/${randomUUID().replaceAll('-', '')}`;
let hook: Server;

beforeAll(async () => {
  hook = createServer((request, response) => response.writeHead(500).end(`no such hook: ${request.url}`));
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/services/${hookToken}`;
  // Debug: the SDK's own lines about each workflow task and activity are logged too.
  stack = await startProcesses({ config: salesReadyDemoRequests, env: { LOG_LEVEL: 'debug', NOTIFY_WEBHOOK_URL: webhookUrl } });
});
afterAll(async () => {
  await stack?.stop();
  hook?.closeAllConnections();
  await new Promise((resolve) => hook?.close(resolve));
});

describe('structured logs of the API and the worker processes', () => {
  it('are JSON lines: a request id on every API line, the lead id on every worker line about a lead, no personal data and no secret', async () => {
    const request = requestTo(stack.apiUrl);
    const suffix = randomUUID().slice(0, 8);
    const email = `jane.logs.${suffix}@prospect-${suffix}.com`;
    const repEmail = `rep.logs.${suffix}@example.com`;
    const ops = { key: 'ops-dev' };
    const team = await request('POST', '/teams', {
      ...ops,
      body: { id: `team-l-${suffix}`, name: 'Logs', countries: [country], businessHours: hours },
    });
    const rep = await request('POST', '/reps', {
      ...ops,
      body: { id: `rep-l-${suffix}`, name: 'Rep Logs', email: repEmail, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);

    // A request id the caller sent is kept and echoed; one without gets its own.
    const ours = `req-${suffix}`;
    const captured = await request('POST', '/leads', {
      body: { email, firstName: 'Janelogs', phone: '+1 555 0100', source: 'demo_request', country },
      headers: { 'x-request-id': ours },
    });
    expect(captured.status).toBe(202);
    expect(captured.headers.get('x-request-id')).toBe(ours);
    const { leadId } = captured.body;
    const read = await eventually(async () => {
      const view = await request('GET', `/leads/${leadId}`, ops);
      expect(view.body).toMatchObject({ status: 'sql', ownerId: rep.body.id });
      return view;
    });
    const generated = read.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // Something that fails on the server side is logged with its request id too.
    const missing = await request('GET', `/leads/${email}`, ops);
    expect(missing.status).toBe(400);

    const api = await stack.api!.line((l) => l.requestId === generated && l.msg === 'request');
    expect(api).toMatchObject({ level: 'info', name: 'api', method: 'GET', route: '/leads/:id', status: 200, leadId });
    expect(await stack.api!.line((l) => l.requestId === ours && l.msg === 'request')).toMatchObject({
      method: 'POST',
      route: '/leads',
      status: 202,
    });
    expect(await stack.api!.line((l) => l.status === 400 && l.route === '/leads/:id')).not.toHaveProperty('leadId');

    // The worker: the SDK's lines about the lead's workflow tasks and activities carry its lead id.
    const about = (l: LogLine) => l.leadId === leadId;
    await stack.worker.line((l) => about(l) && l.activityType === 'saveAndRouteLead');
    await stack.worker.line((l) => about(l) && l.workflowType === 'leadWorkflow');

    // The assignment alert fails: logged as a warning about the lead, the webhook's token scrubbed from the receiver's answer.
    const failed = await stack.worker.line((l) => about(l) && /notifier: delivery of .* failed/.test(l.msg ?? ''));
    expect(failed).toMatchObject({ level: 'warn' });
    expect(failed.msg).toContain('webhook answered 500');
    expect(failed.msg).toContain('<webhook URL>');

    const lines = [...stack.api!.lines, ...stack.worker.lines];
    const { key } = testPayloadKeys.older;
    for (const line of lines) {
      // Every line is JSON with a level, a time and the process's name.
      expect(line, line.raw).toMatchObject({
        level: expect.any(String),
        time: expect.any(String),
        name: expect.stringMatching(/^(api|worker)$/),
      });
      // No personal data anywhere: not the lead's address, name or phone, nor the rep's address.
      for (const personal of [email, 'Janelogs', '555 0100', repEmail, email.split('@')[0]!]) expect(line.raw).not.toContain(personal);
      // Nor the webhook's token (a credential), nor the payload key in any form (the SDK's "Creating worker" line would show the worker's whole options).
      expect(line.raw).not.toContain(hookToken.split('/').at(-1));
      expect(line.raw).not.toContain(key.toString('base64'));
      expect(line.raw).not.toContain(JSON.stringify([...key]).slice(1, 40));
    }
    for (const line of stack.api!.lines.filter((l) => l.route !== undefined)) expect(line.requestId, line.raw).toEqual(expect.any(String));
    for (const line of stack.worker.lines.filter((l) => l.workflowType !== undefined || l.activityType !== undefined)) {
      expect(line.leadId, line.raw).toMatch(/^lead-[0-9a-f]{24}$/);
    }
  });
});
