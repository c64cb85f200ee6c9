import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpProvider } from '../../activities/enrichment/http';
import { encryptingDataConverter } from '../../codec/payload-codec';
import { resolveLeadConfig } from '../../config/load';
import { createSql, type Sql } from '../../db/client';
import { leadIdFor, leadIdSecret } from '../support/lead-ids';
import { createLeadWorker } from '../../worker/worker';
import { testCodec } from '../support/codec';
import { EnrichmentStub } from '../support/enrichment-stub';
import { eventually, namespace, requestTo, runWorker, workflowBundle } from '../support/helpers';
import { processEnv, startProcess, startProcesses } from '../support/processes';

let sql: Sql;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let stub: EnrichmentStub;
beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace, dataConverter: encryptingDataConverter(testCodec) });
  stub = await new EnrichmentStub().start();
  await workflowBundle();
});
afterAll(async () => {
  await stub?.stop();
  await connection?.close();
  await nativeConnection?.close();
  await sql?.end({ timeout: 5 });
});

/** Whether a new TCP connection to `port` is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

describe('graceful shutdown on SIGTERM', () => {
  it('the API refuses new connections, answers the request under way, and exits 0', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const api = startProcess('api/main.ts', processEnv({ taskQueue }));
    const { port } = await api.line((l) => typeof l.port === 'number');
    // No worker polls the task queue yet, so the capture waits in the API for its workflow to take it.
    const worker = await createLeadWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      sql,
      leadIdSecret,
      config: resolveLeadConfig({}),
      payloadCodecs: [testCodec],
      workflowBundle: await workflowBundle(),
    });
    const email = `shutdown.${randomUUID().slice(0, 8)}@example-${randomUUID().slice(0, 6)}.com`;
    const answer = requestTo(`http://127.0.0.1:${port}`)('POST', '/leads', { body: { email, source: 'webinar' } });
    await eventually(() => client.workflow.getHandle(leadIdFor(email)).describe());

    api.child.kill('SIGTERM');
    await api.line((l) => /SIGTERM/.test(l.msg ?? ''));
    expect(await refused(port)).toBe(true);
    const running = worker.run();
    try {
      const { status, body } = await answer;
      expect(status).toBe(202);
      expect(body).toMatchObject({ leadId: leadIdFor(email), duplicate: false });
      expect(await api.exited).toEqual({ code: 0, signal: null });
    } finally {
      worker.shutdown();
      await running;
    }
  });

  it('the worker lets the activity under way finish within the grace time, exits 0, and its work is kept, not done again', async () => {
    // Enrichment at capture runs as a local activity inside a workflow task, which the SDK finishes on
    // shutdown anyway; the re-enrichment after a failure runs as an ordinary activity from a timer,
    // which only the grace time lets finish. So: fail the first call, and make the retry slow.
    const domain = `slow-${randomUUID().slice(0, 6)}.test`;
    stub.on(domain, { kind: 'fail', status: 503 });
    const enrichment = { provider: 'http', budget: 'PT15S', retryAfter: 'PT1S', http: { url: stub.url, timeout: 'PT10S', retries: 0 } };
    const stack = await startProcesses({ config: { enrichment }, env: { SHUTDOWN_GRACE_SECONDS: '20' } });
    let replacement: Awaited<ReturnType<typeof runWorker>> | undefined;
    try {
      const request = requestTo(stack.apiUrl);
      const captured = await request('POST', '/leads', {
        body: { email: `jane.${randomUUID().slice(0, 8)}@${domain}`, source: 'webinar' },
      });
      expect(captured.status).toBe(202);
      const lead = () => request('GET', `/leads/${captured.body.leadId}`, { key: 'ops-dev' });
      await eventually(async () => expect((await lead()).body.enrichment).toBe('failed'));
      stub.on(domain, { kind: 'slow', delayMs: 4000, body: { companyName: 'Acme', employees: 250 } });
      // The vendor has the second request: the re-enrichment activity is under way.
      await eventually(() => expect(stub.countFor(domain)).toBe(2));

      const signalled = Date.now();
      stack.worker.child.kill('SIGTERM');
      expect(await stack.worker.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(20_000);

      // Another worker takes the lead over: the vendor's answer, taken before the first one stopped, is applied, and the vendor not asked again.
      replacement = await runWorker({
        connection: nativeConnection,
        taskQueue: stack.taskQueue,
        sql,
        config: resolveLeadConfig({ enrichment }),
        codec: testCodec,
        enrichment: httpProvider(enrichment.http),
      });
      await eventually(async () => expect((await lead()).body).toMatchObject({ enrichment: 'enriched', company: 'Acme' }));
      expect(stub.countFor(domain)).toBe(2);
    } finally {
      await replacement?.stop();
      await stack.stop();
    }
  });
});
