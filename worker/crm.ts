import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Client, DEFAULT_LIMITER_OPTIONS } from '@hubspot/api-client';
import type { PayloadCodec } from '@temporalio/common';
import { publicOnlyLookup } from '../activities/vendor-fetch';
import { openSecret } from '../capture/secrets';
import { crmLead, findCrmConnection, recordCrmOutcome, type StoredCrmConnection } from '../db/crm';
import type { Sql } from '../db/client';
import type { OutboxEntry } from '../db/outbox';
import {
  hubspotContactProperties,
  hubspotDealProperties,
  hubspotHandoffIdProperty,
  retryAfterSeconds,
  type CrmLead,
  type CrmPush,
  type Opportunity,
} from '../domain/crm';

/**
 * Pushes to the CRMs (docs/features/crm.md), as the notifier delivers the outbox's `crm` entries:
 * at least once, so every push is idempotent by a key of ours. A contact is upserted by email
 * (HubSpot's unique contact key), a deal by `lo_handoff_id` (the conversion's event), and the
 * association is a PUT: a retry, or a worker that died after HubSpot answered, finds the same
 * records. What a push came to is written on the lead's timeline.
 */

/** A push that failed: why (no personal data: HubSpot's messages quote property values), and whether retrying can help. */
export class CrmFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** The CRM's error category (HubSpot: VALIDATION_ERROR, …) or HTTP_<status>, or UNREACHABLE. */
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CrmFailure';
  }
}

/** A record a push wrote. */
export interface CrmRecord {
  object: 'contact' | 'deal';
  recordId: string;
  contactId: string;
}

export interface CrmDelivery {
  /** Pushes the entry's lead; skipped when its lead or connection is gone. Throws `CrmFailure`. */
  deliver(entry: OutboxEntry): Promise<{ synced: CrmRecord } | { skipped: string }>;
  /** The entry left the retry loop: quarantined on the lead's timeline and told to ops. */
  deadLettered(entry: OutboxEntry, code: string): Promise<void>;
}

/** A 4xx means the request itself is wrong (a validation error, a revoked token): retrying cannot help, except for timeouts and rate limits. */
const isPermanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** HubSpot's `ApiException`: the HTTP status, the error body and the response headers. */
interface HubspotError {
  code: number;
  body?: { category?: string; subCategory?: string };
  headers?: Record<string, string>;
}
const isHubspotError = (error: unknown): error is HubspotError => typeof (error as HubspotError | null)?.code === 'number';

/** What ops may read of a failure: the status and HubSpot's category, never its message (it quotes the lead's values). */
function hubspotFailure(error: unknown): CrmFailure {
  if (isHubspotError(error)) {
    const status = error.code;
    const code = error.body?.category ?? `HTTP_${status}`;
    const retryAfter = retryAfterSeconds(error.headers?.['retry-after'], new Date());
    return new CrmFailure(`hubspot answered ${status} ${code}`, isPermanent(status), code, retryAfter);
  }
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error);
  return new CrmFailure(`hubspot unreachable: ${name}: ${detail}`, false, 'UNREACHABLE');
}

/**
 * An HTTP agent whose sockets give up after `timeoutMs` without a byte: HubSpot's client passes no
 * timeout of its own, and a call that never answers must not hold the entry's lease. On https (the
 * real API; plain http is only a development origin) it connects to public addresses only
 * (docs/operations/security.md "Outbound calls").
 */
function boundedAgent(baseUrl: string, timeoutMs: number): http.Agent {
  // The agent's `timeout` stays on its sockets, also those reused from the pool; on it, the socket is destroyed.
  const options = { keepAlive: true, timeout: timeoutMs };
  const agent = baseUrl.startsWith('https:') ? new https.Agent({ ...options, lookup: publicOnlyLookup as never }) : new http.Agent(options);
  const create = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket;
  agent.createConnection = ((...args: unknown[]) => {
    const socket = create(...args);
    socket.on('timeout', () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    return socket;
  }) as typeof agent.createConnection;
  return agent;
}

/** The batch upsert's one result, or its error as a permanent failure (a 207 names the input it refused). */
function upserted(response: { results: { id: string }[]; errors?: { category?: string }[] }): string {
  const [result] = response.results;
  if (result) return result.id;
  const category = response.errors?.[0]?.category ?? 'NO_RESULT';
  throw new CrmFailure(`hubspot refused the upsert: ${category}`, true, category);
}

/**
 * Call options that make the client apply its configured middleware, the HTTP agent's among them:
 * in @hubspot/api-client 13 a call without call-time middleware runs none of the configured ones.
 */
const withConfiguredMiddleware = { middleware: [], middlewareMergeStrategy: 'append' as const };

interface HubspotOptions {
  /** A conversion's timeline link in the handoff note: `<publicBaseUrl>/leads/{id}/timeline`. */
  publicBaseUrl?: string;
}

async function pushToHubspot(
  client: Client,
  connection: StoredCrmConnection,
  lead: CrmLead,
  push: { push: CrmPush; handoffId: string; opportunity: Opportunity | null },
  { publicBaseUrl }: HubspotOptions,
): Promise<CrmRecord> {
  try {
    const contactId = upserted(
      await client.crm.contacts.batchApi.upsert(
        { inputs: [{ idProperty: 'email', id: lead.lead.profile.email, properties: hubspotContactProperties(lead) }] },
        withConfiguredMiddleware,
      ),
    );
    if (push.push === 'contact') return { object: 'contact', recordId: contactId, contactId };
    const { pipeline, dealStage } = connection.settings;
    const properties = hubspotDealProperties(lead, {
      handoffId: push.handoffId,
      opportunity: push.opportunity,
      placement: { pipeline: pipeline ?? 'default', dealStage },
      timelineUrl: publicBaseUrl ? `${publicBaseUrl.replace(/\/+$/, '')}/leads/${lead.lead.leadId}/timeline` : undefined,
    });
    const dealId = upserted(
      await client.crm.deals.batchApi.upsert({ inputs: [{ idProperty: hubspotHandoffIdProperty, id: push.handoffId, properties }] }, withConfiguredMiddleware),
    );
    await client.crm.associations.v4.basicApi.createDefault('deals', dealId, 'contacts', contactId, withConfiguredMiddleware);
    return { object: 'deal', recordId: dealId, contactId };
  } catch (error) {
    throw error instanceof CrmFailure ? error : hubspotFailure(error);
  }
}

export interface CrmDeliveryOptions extends HubspotOptions {
  sql: Sql;
  /** Opens the connections' sealed tokens (the payload codec). */
  codec: PayloadCodec;
  /** A call without a byte of answer for this long fails (and is retried). */
  timeoutMs?: number;
}

export function crmDelivery({ sql, codec, publicBaseUrl, timeoutMs = 10_000 }: CrmDeliveryOptions): CrmDelivery {
  // One client per connection: its limiter (HubSpot's default pace, about 9 calls a second, 6 at a
  // time) then spans every push to that portal. Connections never change once made.
  const clients = new Map<string, Promise<Client>>();
  const clientFor = (connection: StoredCrmConnection) => {
    let client = clients.get(connection.id);
    if (!client) {
      client = openSecret(codec, connection.secret).then(
        (accessToken) =>
          new Client({
            accessToken,
            basePath: connection.settings.apiBaseUrl,
            limiterOptions: { ...DEFAULT_LIMITER_OPTIONS, id: `hubspot-${connection.id}` },
            httpAgent: boundedAgent(connection.settings.apiBaseUrl, timeoutMs),
          }),
      );
      client.catch(() => clients.delete(connection.id));
      clients.set(connection.id, client);
    }
    return client;
  };
  const pushOf = (entry: OutboxEntry) => ({
    push: entry.data.push as CrmPush,
    // The entry's key holds the connection and the event: the deal is this conversion's in this portal.
    handoffId: entry.dedupe_key,
    opportunity: (entry.data.opportunity as Opportunity | null) ?? null,
  });

  return {
    async deliver(entry) {
      const connection = await findCrmConnection(sql, entry.recipient);
      if (!connection) return { skipped: `no CRM connection ${entry.recipient}` };
      const lead = entry.lead_id ? await crmLead(sql, entry.lead_id) : undefined;
      if (!lead) return { skipped: 'the lead is gone (erased)' };
      const push = pushOf(entry);
      const record = await pushToHubspot(await clientFor(connection), connection, lead, push, { publicBaseUrl });
      await recordCrmOutcome(sql, lead.lead.leadId, {
        key: `crm_synced:${entry.dedupe_key}`,
        at: new Date().toISOString(),
        type: 'crm_synced',
        actor: `crm:${connection.id}`,
        data: { connectionId: connection.id, kind: connection.kind, push: push.push, event: entry.data.event ?? null, ...record },
      });
      return { synced: record };
    },

    async deadLettered(entry, code) {
      if (!entry.lead_id || !(await crmLead(sql, entry.lead_id))) return;
      const data = { connectionId: entry.recipient, push: entry.data.push ?? null, event: entry.data.event ?? null, code, attempts: entry.attempts };
      await recordCrmOutcome(
        sql,
        entry.lead_id,
        { key: `crm_sync_failed:${entry.dedupe_key}`, at: new Date().toISOString(), type: 'crm_sync_failed', actor: `crm:${entry.recipient}`, data },
        {
          key: `crm_sync_failed:${entry.dedupe_key}`,
          kind: 'crm_sync_failed',
          recipient: 'ops',
          message: `The CRM push of lead ${entry.lead_id} to ${entry.recipient} failed for good (${code}): see GET /notifications?status=dead`,
          data: { connectionId: entry.recipient, code },
        },
      );
    },
  };
}
