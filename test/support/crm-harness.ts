import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { loadLeadConfig } from '../../config/load';
import { crmDelivery } from '../../worker/crm';
import { startNotifier } from '../../worker/notifier';
import { testCodec } from './codec';
import { alwaysOpen as hours, salesReadyDemoRequests } from './fixtures';
import { freshDatabase, startService, type ServiceUnderTest } from './helpers';

export interface OpsAlert {
  kind: string;
  recipient: string;
  leadId: string | null;
  text: string;
  at: number;
}

/**
 * What the CRM handoff tests run on (docs/features/crm.md): the service on a database of its own
 * (so the notifier here delivers every due entry in it), the worker's notifier pushing the `crm`
 * channel to a CRM stub at `vendorOrigin` and alerts to a local webhook, and a team in `country`
 * (XC by default) with one rep mapped to the CRM user `crmUserId`.
 */
export async function startCrmHarness({
  database,
  vendorOrigin,
  crmUserId,
  country = 'XC',
}: {
  database: string;
  vendorOrigin: string;
  crmUserId: string;
  country?: string;
}) {
  const ops = { key: 'ops-dev' };
  const suffix = randomUUID().slice(0, 6);
  const alerts: OpsAlert[] = [];
  const logLines: string[] = [];
  const webhook: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      alerts.push({ ...JSON.parse(body), at: Date.now() });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready here.
  const service: ServiceUnderTest = await startService({
    databaseUrl: await freshDatabase(database),
    extraVendorOrigins: [vendorOrigin],
    config: salesReadyDemoRequests,
  });
  const notifier = startNotifier({
    sql: service.sql,
    webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
    crm: crmDelivery({
      sql: service.sql,
      codec: testCodec,
      publicBaseUrl: service.baseUrl,
      timeoutMs: 1500,
      personalDomains: loadLeadConfig('').icp.personalDomains,
    }),
    deadAfter: loadLeadConfig('').notify.deadAfter,
    pollMs: 100,
    log: (line) => logLines.push(line),
  });
  const team = await service.request('POST', '/teams', {
    ...ops,
    body: { id: `team-${suffix}`, name: 'CRM', countries: [country], businessHours: hours },
  });
  expect(team.status).toBe(201);
  const rep = await service.request('POST', '/reps', {
    ...ops,
    body: { name: 'Ana', email: `ana-${suffix}@example.com`, teamId: team.body.id, crmUserId },
  });
  expect(rep.status).toBe(201);
  return {
    service,
    notifier,
    alerts,
    logLines,
    rep: rep.body as { id: string; crmUserId: string | null },
    async stop() {
      await notifier.stop();
      await service.close();
      await new Promise((resolve) => webhook.close(resolve));
    },
  };
}
