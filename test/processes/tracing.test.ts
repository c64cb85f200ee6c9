import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encryptingDataConverter } from '../../codec/payload-codec';
import { testCodec } from '../support/codec';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';
import { eventually, requestTo } from '../support/helpers';
import { Mailbox } from '../support/mailbox';
import { startProcesses } from '../support/processes';
import { quietWorkflowBundle } from '../support/time-skipping';

// A made-up country no other test's team covers; with sqlAt 40 a demo request is sales-ready and routed.
const country = 'XT';

/** A span as the OTLP/HTTP JSON exporter sends it (opentelemetry-proto's trace.proto, ids in hex). */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  service: string;
}

/** A local OTLP/HTTP collector: keeps every span posted to /v1/traces, and the raw bodies. */
function startCollector() {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.url === '/v1/traces' && request.headers['content-type']?.startsWith('application/json')) {
        bodies.push(body);
        for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
          const service = resourceSpans.resource.attributes.find((a: { key: string }) => a.key === 'service.name')?.value.stringValue;
          for (const scope of resourceSpans.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push({ ...span, service });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans, bodies };
}

const attribute = (span: ReceivedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
};

/** Every span of `trace` but `root` has its parent in `trace`, and following parents leads to `root`. */
function expectTreeUnder(root: ReceivedSpan, trace: ReceivedSpan[]) {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  for (const span of trace) {
    let at = span;
    for (let depth = 0; at !== root; depth++) {
      expect(at.parentSpanId, `${span.name}: its parent ${at.parentSpanId} is in the trace`).toBeTruthy();
      expect(byId.has(at.parentSpanId!), `${span.name}: parent of ${at.name} was exported`).toBe(true);
      expect(depth).toBeLessThan(trace.length);
      at = byId.get(at.parentSpanId!)!;
    }
  }
}

const collector = startCollector();
// The rep's alert goes out by email to a real SMTP server in this process.
const mailbox = new Mailbox();
let stack: Awaited<ReturnType<typeof startProcesses>>;

beforeAll(async () => {
  await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}`;
  await mailbox.start();
  stack = await startProcesses({
    config: salesReadyDemoRequests,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, LOG_LEVEL: 'debug', SMTP_URL: mailbox.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await mailbox.stop();
  collector.server.closeAllConnections();
  await new Promise((resolve) => collector.server.close(resolve));
});

describe('traces over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
  it('shows a capture as one trace from POST /leads through the workflow, its activities and their statements, with no personal data', async () => {
    const request = requestTo(stack.apiUrl);
    const suffix = randomUUID().slice(0, 8);
    const email = `jane.traces.${suffix}@prospect-${suffix}.com`;
    const ops = { key: 'ops-dev' };
    const team = await request('POST', '/teams', {
      ...ops,
      body: { id: `team-t-${suffix}`, name: 'Traces', countries: [country], businessHours: hours },
    });
    const rep = await request('POST', '/reps', {
      ...ops,
      body: { id: `rep-t-${suffix}`, name: 'Rep Traces', email: `rep.t.${suffix}@example.com`, teamId: team.body.id },
    });
    expect(rep.status).toBe(201);

    const captured = await request('POST', '/leads', {
      body: { email, firstName: 'Janetraces', lastName: 'Doetraces', source: 'demo_request', country },
    });
    expect(captured.status).toBe(202);
    const { leadId } = captured.body;
    await eventually(async () =>
      expect((await request('GET', `/leads/${leadId}`, ops)).body).toMatchObject({ status: 'sql', ownerId: rep.body.id }),
    );

    // The capture's request span, and every span of its trace once the saving activity's statements have come in.
    const root = await eventually(() => {
      const found = collector.spans.find(
        (s) => s.name === 'POST /leads' && collector.spans.some((w) => w.traceId === s.traceId && w.name === 'RunWorkflow:leadWorkflow'),
      );
      expect(found).toBeDefined();
      return found!;
    });
    const trace = await eventually(() => {
      const spans = collector.spans.filter((s) => s.traceId === root.traceId);
      const activities = spans.filter((s) => s.name.startsWith('RunActivity:'));
      expect(activities.map((s) => s.name)).toContain('RunActivity:saveAndRouteLead');
      expect(
        spans.some((s) => attribute(s, 'db.system.name') === 'postgresql' && activities.some((a) => a.spanId === s.parentSpanId)),
      ).toBe(true);
      return spans;
    });

    // Named by the route pattern; the API's client, the worker's workflow and activities all in it.
    expect(root).toMatchObject({ service: 'lead-orchestration-api' });
    expect(attribute(root, 'http.route')).toBe('/leads');
    expect(root.parentSpanId ?? '').toBe('');
    const names = trace.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['StartWorkflow:leadWorkflow', 'RunWorkflow:leadWorkflow', 'StartActivity:saveAndRouteLead']),
    );
    const run = trace.find((s) => s.name === 'RunWorkflow:leadWorkflow')!;
    expect(run.service).toBe('lead-orchestration-worker');
    expect(attribute(run, 'workflowId')).toBe(leadId);

    // The parent links form one tree rooted at the request: every other span's parent is in the trace, and leads up to it.
    expectTreeUnder(root, trace);
    // A statement is named by its operation and table, never its text.
    const statements = trace.filter((s) => attribute(s, 'db.system.name') === 'postgresql');
    for (const s of statements) expect(s.name).toMatch(/^[A-Z]+( [a-z_]+)?$/);
    // The transaction that routes the lead (db/leads.ts) is the routing activity's.
    const routing = trace.find((s) => s.name === 'RunActivity:saveAndRouteLead')!;
    expect(statements.filter((s) => s.parentSpanId === routing.spanId).map((s) => s.name)).toEqual(
      expect.arrayContaining(['BEGIN', 'COMMIT']),
    );

    // The trace goes on to the rep's alert: the notifier's attempt at the assignment email is a span of
    // the capture's trace, under the activity that saved the routed lead and queued it, and the call
    // to the SMTP server a span of the attempt, which carries its outcome.
    await eventually(() => expect(mailbox.to(`rep.t.${suffix}@example.com`)).toHaveLength(1));
    const alerted = await eventually(() => {
      const spans = collector.spans.filter((s) => s.traceId === root.traceId);
      const notify = spans.find((s) => s.name === 'notify assignment' && attribute(s, 'notify.channel') === 'email');
      expect(notify).toBeDefined();
      const delivered = spans.find((s) => s.name === 'deliver email' && s.parentSpanId === notify!.spanId);
      expect(delivered).toBeDefined();
      return { spans, notify: notify!, delivered: delivered! };
    });
    expect(alerted.notify.service).toBe('lead-orchestration-worker');
    expect(alerted.spans.find((s) => s.spanId === alerted.notify.parentSpanId)?.name).toBe('RunActivity:saveLead');
    expect(attribute(alerted.notify, 'notify.outcome')).toBe('sent');
    expect(attribute(alerted.notify, 'lead.id')).toBe(leadId);
    // Marking it sent is a statement of the attempt's.
    expect(alerted.spans.some((s) => s.name === 'UPDATE notifications' && s.parentSpanId === alerted.notify.spanId)).toBe(true);
    expectTreeUnder(root, alerted.spans);

    // The request's log line carries the trace's id (the SDK's own lines about activities are written outside their spans: leadId only).
    expect(await stack.api!.line((l) => l.msg === 'request' && l.route === '/leads' && l.traceId === root.traceId)).toMatchObject({
      status: 202,
    });

    // A repeat capture (an update the running lead answers) is one trace too: the request, the client's update, the workflow's handler.
    const again = await request('POST', '/leads', { body: { email, source: 'webinar', country } });
    expect(again.body).toMatchObject({ leadId, duplicate: true });
    const repeat = await eventually(() => {
      const handled = collector.spans.find((s) => s.name === 'HandleUpdate:takeCapture' && s.traceId !== root.traceId);
      expect(handled).toBeDefined();
      const spans = collector.spans.filter((s) => s.traceId === handled!.traceId);
      expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['POST /leads', 'StartWorkflowUpdate:takeCapture']));
      return spans;
    });
    expectTreeUnder(
      repeat.find((s) => s.name === 'POST /leads')!,
      repeat,
    );

    // No personal data in any span sent: not the address, its local part or the lead's name (attributes and names alike).
    for (const body of collector.bodies)
      for (const personal of [email, email.split('@')[0]!, 'Janetraces', 'Doetraces', 'Rep Traces']) expect(body).not.toContain(personal);
  });

  it('leaves a history that replays with tracing off: a worker may be restarted without it', async () => {
    const request = requestTo(stack.apiUrl);
    const suffix = randomUUID().slice(0, 8);
    const captured = await request('POST', '/leads', {
      body: { email: `replay.traces.${suffix}@prospect-${suffix}.com`, source: 'webinar', country },
    });
    expect(captured.status).toBe(202);
    const { leadId } = captured.body;
    await eventually(async () =>
      expect((await request('GET', `/leads/${leadId}`, { key: 'ops-dev' })).body).toMatchObject({ status: 'mql' }),
    );
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection, dataConverter: encryptingDataConverter(testCodec) });
      const history = await client.workflow.getHandle(leadId).fetchHistory();
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: await quietWorkflowBundle(), dataConverter: encryptingDataConverter(testCodec) },
          history,
          `traced-${leadId}`,
        ),
      ).resolves.toBeUndefined();
    } finally {
      await connection.close();
    }
  });
});
