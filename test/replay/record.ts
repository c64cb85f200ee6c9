/**
 * Records the histories of real lead runs for the replay tests (`test/replay/replay.test.ts`): the real
 * worker and API on the time-skipping server and embedded Postgres, a few lifecycles that span
 * months, each history written as JSON under `test/replay/histories/<label>/`.
 *
 *   npm run histories:record -- <label>
 *
 * Record a new label with the workflow code of every release that changes the lead workflow, and
 * commit it: the replay tests then prove that later code still replays leads started on it
 * (docs/contributing.md, "Changing workflow code").
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import getPort from 'get-port';
import { resolveLeadConfig } from '../../config/load';
import type { CaptureSignal } from '../../domain/capture';
import { leadPolicy } from '../../domain/config';
import { captureSignal } from '../../contracts/lead';
import type { leadWorkflow } from '../../workflows/lead/workflow';
import { createSql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { testServerExecutable } from '../../stack/engine';
import { startEmbeddedPostgres } from '../../stack/postgres';
import { leadStackOn, skipTime, startTimeSkippingServer, terminateWhenQuiet, whenQuiet } from '../support/time-skipping';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';

const label = process.argv[2];
if (!label || !/^[a-z0-9-]+$/.test(label)) {
  console.error('usage: npm run histories:record -- <label>   (lower-case letters, digits and dashes)');
  process.exit(2);
}
const outDir = new URL(`./histories/${label}/`, import.meta.url);
const log = (line: string) => console.log(`record: ${line}`);

const dataDir = mkdtempSync(join(tmpdir(), 'lead-histories-'));
chmodSync(dataDir, 0o755); // as root, Postgres runs as the postgres user and must enter it
const [postgres, executable] = await Promise.all([
  startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: await getPort(), database: 'leads' }),
  testServerExecutable(log),
]);
const sql = createSql(postgres.url, { max: 5 });
// Recorded without the payload codec: committed histories must replay without a key (the codec passes plain payloads through).
const env = await startTimeSkippingServer(null, executable.type === 'existing-path' ? executable.path : undefined);
try {
  await migrate(postgres.url, log);
  // Made-up countries score "outside the target region" (−10): a webinar (+30) is an mql lead, a demo request (+50) a sales-ready one.
  const config = resolveLeadConfig(salesReadyDemoRequests);
  log('bundling the workflow code');
  const { worker, request, taskQueue } = await leadStackOn(env, { sql, config, name: 'histories', codec: null });
  const call = async (path: string, body: unknown, key: string) => {
    const { status, body: answer } = await request('POST', path, body, key);
    if (status >= 300) throw new Error(`${path}: ${status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const capture = async (source: string, country: string) =>
    (
      await call(
        '/leads',
        {
          email: `${source}.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`,
          source,
          country,
          consent: { email: 'opted_in' },
        },
        'capture-dev',
      )
    ).leadId as string;
  const repIn = async (country: string) => {
    const suffix = randomUUID().slice(0, 6);
    await call('/teams', { id: `team-${suffix}`, name: `Team ${country}`, countries: [country], businessHours: hours }, 'ops-dev');
    return call(
      '/reps',
      { id: `rep-${suffix}`, name: 'Rep', email: `rep-${suffix}@example.com`, teamId: `team-${suffix}` },
      'ops-dev',
    ) as Promise<{
      id: string;
      apiKey: string;
    }>;
  };

  /** A sales-ready lead routed to the only rep of its country's team, who accepts it. */
  const acceptedLead = async (country: string) => {
    const rep = await repIn(country);
    const leadId = await capture('demo_request', country);
    await skipTime(env, '1 minute', [leadId]);
    await call(`/leads/${leadId}/accept`, {}, rep.apiKey);
    return { leadId, rep };
  };

  /** Each scenario starts a lead, lives its months, and returns its id; its history is taken where it stands. */
  const only = process.argv.slice(3);
  const scenarios: Record<string, () => Promise<string>> = {
    // Captured again while open (an update the workflow answers as a duplicate), then once more as
    // the signal a capture becomes when no worker answers in time (capture/take.ts), the same capture twice.
    'captured-again': async () => {
      const email = `again.${randomUUID().slice(0, 8)}@prospect-${randomUUID().slice(0, 6)}.com`;
      const leadId = (await call('/leads', { email, source: 'webinar', country: 'XG' }, 'capture-dev')).leadId as string;
      await skipTime(env, '1 minute', [leadId]);
      await call('/leads', { email, source: 'content_download', country: 'XG' }, 'capture-dev');
      await skipTime(env, '1 minute', [leadId]);
      const signal: CaptureSignal = {
        captureId: `recorded-${randomUUID()}`,
        receivedAt: new Date(await env.currentTimeMs()).toISOString(),
        capture: { email, source: 'chat' },
      };
      const policy = leadPolicy(config);
      for (let i = 0; i < 2; i++) {
        await env.client.workflow.signalWithStart<typeof leadWorkflow, [CaptureSignal]>('leadWorkflow', {
          workflowId: leadId,
          taskQueue,
          args: [{ leadId, policy, capture: signal }],
          signal: captureSignal,
          signalArgs: [signal],
        });
      }
      await skipTime(env, '10 days', [leadId]);
      return leadId;
    },
    // Nurtured and never engaging again (since cadences: a hundred days into mql-nurture).
    'mql-quiet': async () => {
      const leadId = await capture('webinar', 'XM');
      await skipTime(env, '100 days', [leadId]);
      return leadId;
    },
    // Routed, accepted by the rep, then nothing logged.
    'accepted-quiet': async () => {
      const { leadId } = await acceptedLead('XA');
      await skipTime(env, '100 days', [leadId]);
      return leadId;
    },
    // Nurtured, engaging once mid-cadence, then migrated to a next_step version of its cadence.
    'mql-engaged-migrated': async () => {
      const leadId = await capture('webinar', 'XE');
      await skipTime(env, '12 days', [leadId]);
      await call(`/leads/${leadId}/activities`, { type: 'clicked_email_link', eventId: 'click-1' }, 'capture-dev');
      const steps = ['P3D', 'P7D', 'P30D', 'P30D'].map((after, i) => ({ after, channel: 'email', template: `recorded/${i + 1}` }));
      await call('/cadences/mql-nurture/versions', { steps, migrate: 'next_step' }, 'marketing-dev');
      await skipTime(env, '60 days', [leadId]);
      return leadId;
    },
    // Routed, accepted, recycled by the rep for timing, then nothing.
    'recycled-quiet': async () => {
      const { leadId, rep } = await acceptedLead('XR');
      await call(`/leads/${leadId}/recycle`, { reason: 'timing' }, rep.apiKey);
      await skipTime(env, '100 days', [leadId]);
      return leadId;
    },
    // Routed to a rep who never answers: reminder, breach and reassignment to the other rep, a second breach and escalation to the team manager.
    'sla-escalated': async () => {
      const manager = await repIn('XQ');
      const suffix = randomUUID().slice(0, 6);
      await call(
        '/teams',
        { id: `team-${suffix}`, name: 'Team XS', countries: ['XS'], businessHours: hours, managerId: manager.id },
        'ops-dev',
      );
      for (const n of [1, 2])
        await call(
          '/reps',
          {
            id: `rep-${suffix}-${n}`,
            name: `Rep ${n}`,
            email: `rep-${suffix}-${n}@example.com`,
            teamId: `team-${suffix}`,
            managerId: manager.id,
          },
          'ops-dev',
        );
      const leadId = await capture('demo_request', 'XS');
      await skipTime(env, '2 hours', [leadId]);
      return leadId;
    },
    // No team covers its country: the unassigned queue and its retries, then a team and rep appear, the lead is routed, touched and converted.
    'unassigned-routed-converted': async () => {
      const leadId = await capture('demo_request', 'XU');
      await skipTime(env, '3 hours', [leadId]);
      const rep = await repIn('XU');
      await skipTime(env, '1 minute', [leadId]);
      await call(`/leads/${leadId}/touches`, { channel: 'call', note: 'left a voicemail' }, rep.apiKey);
      await skipTime(env, '2 days', [leadId]);
      await call(`/leads/${leadId}/convert`, { opportunity: { name: 'Recorded deal', amount: 1000 } }, rep.apiKey);
      return leadId;
    },
    // Accepted, reassigned by ops to another rep, then disqualified by the new owner.
    'reassigned-disqualified': async () => {
      const { leadId } = await acceptedLead('XD');
      const other = await repIn('XO');
      await call(`/leads/${leadId}/reassign`, { ownerId: other.id }, 'ops-dev');
      await skipTime(env, '1 day', [leadId]);
      await call(`/leads/${leadId}/disqualify`, { reason: 'no_budget' }, other.apiKey);
      return leadId;
    },
    // A not-ready lead that engages until it is sales-ready: leaves marketing-pool, is routed, then sits unanswered past its ladder.
    'engaged-to-sql': async () => {
      await repIn('XN');
      const leadId = await capture('content_download', 'XN');
      await skipTime(env, '3 days', [leadId]);
      await call(`/leads/${leadId}/activities`, { type: 'visited_pricing_page', eventId: 'pricing-1' }, 'capture-dev');
      await skipTime(env, '1 day', [leadId]);
      await call(`/leads/${leadId}/activities`, { type: 'requested_demo', eventId: 'demo-1' }, 'capture-dev');
      await skipTime(env, '1 day', [leadId]);
      return leadId;
    },
    // Disqualified by its rep, then captured again: a new run reactivates it from Postgres.
    reactivated: async () => {
      const { leadId, rep } = await acceptedLead('XV');
      await call(`/leads/${leadId}/disqualify`, { reason: 'wrong_fit' }, rep.apiKey);
      await skipTime(env, '10 days', [leadId]);
      const email = ((await request('GET', `/leads/${leadId}`, undefined, 'ops-dev')).body as { email: string }).email;
      await call('/leads', { email, source: 'webinar', country: 'XV' }, 'capture-dev');
      // Long enough for the reopened lead's first ladder; a rep who never answers is offered it again and again.
      await skipTime(env, '1 hour', [leadId]);
      return leadId;
    },
    // Not ready (content download +10, outside the target region −10), then a scoring model version that values content
    // downloads is rolled out to the open leads: re-scored sales-ready and routed. Last: the versions it publishes score every later lead.
    'rolled-out-to-sql': async () => {
      await repIn('XW');
      const leadId = await capture('content_download', 'XW');
      await skipTime(env, '1 day', [leadId]);
      const models = (await request('GET', '/scoring-models', undefined, 'marketing-dev')).body as {
        models: { scoring: { rules: Record<string, number> } }[];
      };
      const { version: _, publishedAt: __, publishedBy: ___, ...current } = models.models.at(-1) as unknown as Record<string, unknown>;
      const body = current as { scoring: { rules: Record<string, number> } };
      const published = await call(
        '/scoring-models',
        { ...body, scoring: { ...body.scoring, rules: { ...body.scoring.rules, downloaded_content: 60 } }, rollout: 'open_leads' },
        'marketing-dev',
      );
      await env.client.workflow.getHandle((published as { rollout: { id: string } }).rollout.id).result();
      await skipTime(env, '1 day', [leadId]);
      return leadId;
    },
  };

  await worker.runUntil(async () => {
    mkdirSync(outDir, { recursive: true });
    for (const [name, scenario] of Object.entries(scenarios).filter(([name]) => only.length === 0 || only.includes(name))) {
      log(`${name}: running`);
      const leadId = await scenario();
      const handle = env.client.workflow.getHandle(leadId);
      // The history ends where the lead waits, after its last workflow task.
      await whenQuiet(env, [leadId]);
      const history = await handle.fetchHistory();
      writeFileSync(new URL(`${name}.json`, outDir), historyToJSON(history));
      log(`${name}: ${history.events?.length ?? 0} events → test/replay/histories/${label}/${name}.json`);
      await terminateWhenQuiet(env, [leadId], 'history recorded');
    }
  });
} finally {
  await env.teardown();
  await sql.end({ timeout: 5 });
  await postgres.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
