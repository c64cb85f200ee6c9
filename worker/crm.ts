import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Client, DEFAULT_LIMITER_OPTIONS } from '@hubspot/api-client';
import type { PayloadCodec } from '@temporalio/common';
import { Connection } from 'jsforce';
import { ApiSchemas } from 'jsforce/lib/api/soap/schema';
import { SOAP, type SOAPOptions } from 'jsforce/lib/soap';
import { publicOnlyLookup } from '../activities/vendor-fetch';
import { openSecret } from '../capture/secrets';
import { crmLead, findCrmConnection, recordCrmOutcome, type SalesforceCredentials, type StoredCrmConnection } from '../db/crm';
import type { Sql } from '../db/client';
import { emailDomainOf } from '../domain/scoring';
import type { OutboxEntry } from '../db/outbox';
import {
  accountByWebsiteQuery,
  hubspotContactProperties,
  hubspotDealProperties,
  hubspotHandoffIdProperty,
  leadConversionQuery,
  retryAfterSeconds,
  salesforceLeadFields,
  salesforceOpportunityFields,
  type CrmLead,
  type CrmPush,
  type Opportunity,
} from '../domain/crm';

/**
 * Pushes to the CRMs (docs/features/crm.md), as the notifier delivers the outbox's `crm` entries:
 * at least once, so every push is idempotent by a key of ours. HubSpot: a contact is upserted by
 * email (HubSpot's unique contact key), a deal by `lo_handoff_id` (the conversion's event), and the
 * association is a PUT. Salesforce: a Lead is upserted by the external-id field holding our lead id,
 * an Opportunity by the one holding the handoff id. A retry, or a worker that died after the CRM
 * answered, finds the same records. What a push came to is written on the lead's timeline.
 */

/** A push that failed: why (no personal data: HubSpot's messages quote property values), and whether retrying can help. */
export class CrmFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** The CRM's error code (HubSpot's category: VALIDATION_ERROR; Salesforce's errorCode: REQUIRED_FIELD_MISSING; an OAuth error: invalid_grant), HTTP_<status>, or UNREACHABLE. */
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
  /** HubSpot's contact; Salesforce's Lead, or the Contact a converted Lead became. */
  contactId: string;
  /** Salesforce, a converted Lead: its Account. */
  accountId?: string;
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

interface SalesforceOptions extends HubspotOptions {
  timeoutMs: number;
  /** Email domains that name no company (the ICP's `personalDomains`): a converted Lead of one is matched to no Account. */
  personalDomains: readonly string[];
}

/** What `leadConversionQuery` answers of a Lead. */
interface LeadConversion {
  Id: string;
  IsConverted: boolean;
  ConvertedOpportunityId: string | null;
  ConvertedContactId: string | null;
  ConvertedAccountId: string | null;
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
      await client.crm.deals.batchApi.upsert(
        { inputs: [{ idProperty: hubspotHandoffIdProperty, id: push.handoffId, properties }] },
        withConfiguredMiddleware,
      ),
    );
    await client.crm.associations.v4.basicApi.createDefault('deals', dealId, 'contacts', contactId, withConfiguredMiddleware);
    return { object: 'deal', recordId: dealId, contactId };
  } catch (error) {
    throw error instanceof CrmFailure ? error : hubspotFailure(error);
  }
}

/** The REST API version of the Salesforce pushes: from 46.0 an upsert that updates answers the record's id. */
const salesforceApiVersion = '62.0';

/** Salesforce error codes that say "later", not "never": its 5xx, lock contention and API limits. */
const salesforceTransientCodes: ReadonlySet<string> = new Set([
  'UNKNOWN_EXCEPTION',
  'SERVER_UNAVAILABLE',
  'UNABLE_TO_LOCK_ROW',
  'REQUEST_LIMIT_EXCEEDED',
]);
/** Salesforce sends no `Retry-After` with REQUEST_LIMIT_EXCEEDED (its API limits, docs/features/crm.md): at least a minute. */
const salesforceLimitBackoffSeconds = 60;
/** How our refresh function tells its failure through jsforce (which keeps only the message of a refresh's error). */
const refreshFailed = 'salesforce token refresh failed:';

/**
 * What ops may read of a Salesforce failure: its errorCode, never its message (it quotes the
 * lead's values). jsforce's errors carry Salesforce's `errorCode` (`ERROR_HTTP_<status>` when the
 * body has none) but not the status, so the code decides: a known transient one, a 5xx, 408 or 429
 * is retried; any other code is the request itself refused (REQUIRED_FIELD_MISSING, INVALID_FIELD).
 * A refresh refused by the token endpoint (invalid_grant: the refresh token was revoked) is permanent too.
 */
function salesforceFailure(error: unknown): CrmFailure {
  const message = error instanceof Error ? error.message : String(error);
  const refresh = message.indexOf(refreshFailed);
  if (refresh >= 0) {
    const code =
      message
        .slice(refresh + refreshFailed.length)
        .trim()
        .split(/\s/)[0] || 'UNKNOWN';
    const transient = code === 'UNREACHABLE' || code === 'TIMEOUT' || /^ERROR_HTTP_(5\d\d|408|429)$/.test(code);
    return new CrmFailure(`salesforce token refresh failed: ${code}`, !transient, code);
  }
  // A SOAP fault's code is qualified (sf:INVALID_FIELD, soapenv:Client): its name is what the REST API would answer.
  const errorCode = (error as { errorCode?: unknown } | null)?.errorCode;
  const code = typeof errorCode === 'string' ? errorCode.replace(/^[A-Za-z]+:/, '') : errorCode;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,80}$/.test(code) && (error as Error).name !== 'FetchError') {
    const limited = code === 'REQUEST_LIMIT_EXCEEDED' || code === 'ERROR_HTTP_429';
    const transient = limited || salesforceTransientCodes.has(code) || /^ERROR_HTTP_(5\d\d|408)$/.test(code);
    return new CrmFailure(`salesforce answered ${code}`, !transient, code, limited ? salesforceLimitBackoffSeconds : undefined);
  }
  const name = error instanceof Error ? error.name : 'Error';
  const detail =
    error instanceof Error
      ? ((error as { code?: string; type?: string }).code ?? (error as { type?: string }).type ?? 'no answer')
      : 'no answer';
  return new CrmFailure(`salesforce unreachable: ${name}: ${detail}`, false, 'UNREACHABLE');
}

/** `promise`, or a rejection after `ms`: jsforce's token refresh takes no timeout of its own. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('TIMEOUT')), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The OAuth error of a failed refresh, as a code: the token endpoint's `error`, ERROR_HTTP_<status>, or UNREACHABLE / TIMEOUT. */
function oauthCode(error: unknown): string {
  if (!(error instanceof Error)) return 'UNREACHABLE';
  if (error.message === 'TIMEOUT') return 'TIMEOUT';
  if (error.name === 'FetchError' || error.name === 'AbortError' || error.name === 'Error') return 'UNREACHABLE';
  return /^[A-Za-z0-9_]{1,80}$/.test(error.name) ? error.name : 'UNKNOWN';
}

/** The external id of a conversion's Opportunity: a digest of the entry's key (which holds `:`), so it is safe in the upsert's URL. */
export const salesforceHandoffId = (handoffId: string) => createHash('sha256').update(handoffId).digest('hex').slice(0, 40);

/**
 * A connection's access token, kept between pushes, and the refresh under way: pushes delivered
 * together (a batch of 50) that all find the token expired share one call to the token endpoint.
 */
interface SalesforceSession {
  accessToken?: string;
  refreshing?: Promise<string>;
}

async function pushToSalesforce(
  connection: StoredCrmConnection,
  credentials: SalesforceCredentials,
  session: SalesforceSession,
  lead: CrmLead,
  push: { push: CrmPush; handoffId: string; opportunity: Opportunity | null; convertedAt: string },
  { publicBaseUrl, timeoutMs, personalDomains }: SalesforceOptions,
): Promise<CrmRecord> {
  const { apiBaseUrl, leadIdField, handoffIdField, dealStage, closeInDays, convertLeads, convertedStatus } = connection.settings;
  // A connection per push: its refresh function counts this push's refreshes. jsforce refreshes on a
  // 401 and calls again; a second 401 right after a refresh is not an expired token (the user lost
  // access), and would otherwise loop.
  let refreshes = 0;
  const conn = new Connection({
    version: salesforceApiVersion,
    instanceUrl: apiBaseUrl,
    loginUrl: apiBaseUrl,
    accessToken: session.accessToken,
    refreshToken: credentials.refreshToken,
    oauth2: { clientId: credentials.clientId, clientSecret: credentials.clientSecret, loginUrl: apiBaseUrl },
    refreshFn: (c, callback) => {
      refreshes += 1;
      if (refreshes > 1) return void callback(new Error(`${refreshFailed} INVALID_SESSION_ID after a refresh`));
      // Another push got a new token since this one's call went out: use it.
      if (session.accessToken && session.accessToken !== c.accessToken) return void callback(undefined, session.accessToken);
      sharedRefresh(c).then((accessToken) => callback(undefined, accessToken), callback);
    },
  });
  // One call to the token endpoint at a time per connection, whichever push asks.
  function sharedRefresh(c: Connection): Promise<string> {
    session.refreshing ??= within(c.oauth2.refreshToken(credentials.refreshToken), timeoutMs)
      .then((token) => (session.accessToken = token.access_token))
      .catch((error: unknown) => Promise.reject(new Error(`${refreshFailed} ${oauthCode(error)}`)))
      .finally(() => (session.refreshing = undefined));
    return session.refreshing;
  }
  // No token yet (the worker just started): get one first rather than have every push of the batch answered 401.
  if (!session.accessToken)
    conn.accessToken = await sharedRefresh(conn).catch((error: unknown) => Promise.reject(salesforceFailure(error)));
  // conn.request rather than sobject().upsert(): it takes a timeout (the upsert helper sets none:
  // jsforce's default is 30 minutes). The external-id field is in the URL, its value URL-safe.
  const upsert = async (sobject: 'Lead' | 'Opportunity', field: string, id: string, fields: Record<string, unknown>) => {
    const result = await conn.request<{ id?: string }>(
      {
        method: 'PATCH',
        url: `/sobjects/${sobject}/${field}/${encodeURIComponent(id)}`,
        body: JSON.stringify(fields),
        headers: { 'content-type': 'application/json' },
      },
      { timeout: timeoutMs, noContentResponse: {} },
    );
    if (!result?.id) throw new CrmFailure(`salesforce answered no ${sobject} id`, true, 'NO_RESULT');
    return result.id;
  };
  const query = async <T>(soql: string) =>
    (await conn.request<{ records: T[] }>({ method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` }, { timeout: timeoutMs })).records;
  const update = (sobject: 'Opportunity', id: string, fields: Record<string, unknown>) =>
    conn.request(
      { method: 'PATCH', url: `/sobjects/${sobject}/${id}`, body: JSON.stringify(fields), headers: { 'content-type': 'application/json' } },
      { timeout: timeoutMs, noContentResponse: {} },
    );
  // What conn.soap.convertLead sends (the partner API's convertLead), on a SOAP endpoint given our
  // timeout: jsforce's own sets none (its default is 30 minutes). The endpoint hands its options to
  // the transport with each request (lib/http-api.js `request`), which takes `timeout`; SOAPOptions does not declare it.
  const soapOptions = {
    xmlns: 'urn:partner.soap.sforce.com',
    endpointUrl: `${conn.instanceUrl}/services/Soap/u/${conn.version}`,
    timeout: timeoutMs,
  };
  const convertLead = (leadConvert: Record<string, unknown>) =>
    new SOAP(conn, soapOptions as SOAPOptions).invoke(
      'convertLead',
      { leadConverts: [leadConvert] },
      { result: [ApiSchemas.LeadConvertResult] },
      ApiSchemas,
    ) as Promise<{
      result: {
        success: boolean;
        accountId?: string | null;
        contactId?: string | null;
        opportunityId?: string | null;
        errors: { statusCode?: string }[];
      }[];
    }>;

  /**
   * The conversion, exactly once (docs/features/crm.md "Converting the Lead"): convertLead is no
   * upsert, so the Lead is read first by our lead id; one a retry finds converted (the worker died
   * after Salesforce answered, or the answer was lost) is not converted again, its records are taken.
   * A company's Account is matched by its Website, when exactly one has the lead's email domain.
   */
  async function converted(fields: Record<string, unknown>): Promise<{ opportunityId: string; contactId: string; accountId: string }> {
    const [found] = await query<LeadConversion>(leadConversionQuery(leadIdField!, lead.lead.leadId));
    let conversion: { accountId?: string | null; contactId?: string | null; opportunityId?: string | null };
    if (found?.IsConverted) {
      conversion = {
        accountId: found.ConvertedAccountId,
        contactId: found.ConvertedContactId,
        opportunityId: found.ConvertedOpportunityId,
      };
    } else {
      const leadRecordId = await upsert('Lead', leadIdField!, lead.lead.leadId, salesforceLeadFields(lead));
      const domain = emailDomainOf(lead.lead.profile.email);
      const accounts = personalDomains.includes(domain) ? [] : await query<{ Id: string }>(accountByWebsiteQuery(domain));
      const {
        result: [result],
      } = await convertLead({
        leadId: leadRecordId,
        convertedStatus: convertedStatus ?? 'Closed - Converted',
        ...(accounts.length === 1 ? { accountId: accounts[0]!.Id } : {}),
        ...(lead.ownerCrmUserId ? { ownerId: lead.ownerCrmUserId } : {}),
        opportunityName: fields.Name,
        doNotCreateOpportunity: false,
        overwriteLeadSource: false,
        sendNotificationEmail: false,
      });
      if (!result?.success) {
        const code = result?.errors?.[0]?.statusCode ?? 'NO_RESULT';
        throw new CrmFailure(`salesforce refused the conversion: ${code}`, !salesforceTransientCodes.has(code), code);
      }
      conversion = result;
    }
    if (!conversion.contactId || !conversion.accountId)
      throw new CrmFailure('salesforce answered no converted Contact or Account', true, 'NO_RESULT');
    // Converted in Salesforce without an Opportunity (by hand, before this push): this conversion's, with the Account.
    const opportunityId =
      conversion.opportunityId ??
      (await upsert('Opportunity', handoffIdField!, salesforceHandoffId(push.handoffId), { ...fields, AccountId: conversion.accountId }));
    return { opportunityId, contactId: conversion.contactId, accountId: conversion.accountId };
  }
  try {
    const fields = () =>
      salesforceOpportunityFields(lead, {
        opportunity: push.opportunity,
        placement: { stageName: dealStage, closeInDays: closeInDays ?? 30 },
        convertedAt: push.convertedAt,
        timelineUrl: publicBaseUrl ? `${publicBaseUrl.replace(/\/+$/, '')}/leads/${lead.lead.leadId}/timeline` : undefined,
      });
    // Converting upserts the Lead itself, and only while it is not converted: Salesforce refuses to edit a converted Lead.
    if (push.push === 'deal' && convertLeads) {
      const { opportunityId, contactId, accountId } = await converted(fields());
      // The converted Opportunity gets the amount, the note and our handoff id (by its Id: it has no handoff id yet).
      await update('Opportunity', opportunityId, { ...fields(), [handoffIdField!]: salesforceHandoffId(push.handoffId) });
      return { object: 'deal', recordId: opportunityId, contactId, accountId };
    }
    let leadRecordId: string;
    try {
      leadRecordId = await upsert('Lead', leadIdField!, lead.lead.leadId, salesforceLeadFields(lead));
    } catch (error) {
      // Converted (by our conversion, delivered before this push, or by a rep in Salesforce): the Lead
      // takes no more edits, its Contact is the person's record now. Nothing to push, nothing refused.
      if (salesforceFailure(error).code !== 'CANNOT_UPDATE_CONVERTED_LEAD') throw error;
      const [found] = await query<LeadConversion>(leadConversionQuery(leadIdField!, lead.lead.leadId));
      if (push.push !== 'contact' || !found?.IsConverted) throw error;
      return { object: 'contact', recordId: found.Id, contactId: found.ConvertedContactId ?? found.Id };
    }
    if (push.push === 'contact') return { object: 'contact', recordId: leadRecordId, contactId: leadRecordId };
    const opportunityId = await upsert('Opportunity', handoffIdField!, salesforceHandoffId(push.handoffId), fields());
    return { object: 'deal', recordId: opportunityId, contactId: leadRecordId };
  } catch (error) {
    throw error instanceof CrmFailure ? error : salesforceFailure(error);
  }
}

export interface CrmDeliveryOptions extends HubspotOptions {
  sql: Sql;
  /** Opens the connections' sealed tokens (the payload codec). */
  codec: PayloadCodec;
  /** A call without a byte of answer for this long fails (and is retried). */
  timeoutMs?: number;
  /** Email domains that name no company (the ICP's `personalDomains`): no Account is matched by them. */
  personalDomains?: readonly string[];
}

export function crmDelivery({ sql, codec, publicBaseUrl, timeoutMs = 10_000, personalDomains = [] }: CrmDeliveryOptions): CrmDelivery {
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
  // Salesforce: the connection's credentials (sealed) and its access token, kept between pushes.
  const salesforce = new Map<string, Promise<{ credentials: SalesforceCredentials; session: SalesforceSession }>>();
  const salesforceFor = (connection: StoredCrmConnection) => {
    let opened = salesforce.get(connection.id);
    if (!opened) {
      opened = openSecret(codec, connection.secret).then((secret) => ({
        credentials: JSON.parse(secret) as SalesforceCredentials,
        session: {},
      }));
      opened.catch(() => salesforce.delete(connection.id));
      salesforce.set(connection.id, opened);
    }
    return opened;
  };
  const pushOf = (entry: OutboxEntry) => ({
    push: entry.data.push as CrmPush,
    // The entry's key holds the connection and the event: the deal is this conversion's in this portal.
    handoffId: entry.dedupe_key,
    opportunity: (entry.data.opportunity as Opportunity | null) ?? null,
    convertedAt: entry.created_at.toISOString(),
  });

  return {
    async deliver(entry) {
      const connection = await findCrmConnection(sql, entry.recipient);
      if (!connection) return { skipped: `no CRM connection ${entry.recipient}` };
      const lead = entry.lead_id ? await crmLead(sql, entry.lead_id) : undefined;
      if (!lead) return { skipped: 'the lead is gone (erased)' };
      const push = pushOf(entry);
      let record: CrmRecord;
      if (connection.kind === 'salesforce') {
        const { credentials, session } = await salesforceFor(connection);
        record = await pushToSalesforce(connection, credentials, session, lead, push, { publicBaseUrl, timeoutMs, personalDomains });
      } else {
        record = await pushToHubspot(await clientFor(connection), connection, lead, push, { publicBaseUrl });
      }
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
      const data = {
        connectionId: entry.recipient,
        push: entry.data.push ?? null,
        event: entry.data.event ?? null,
        code,
        attempts: entry.attempts,
      };
      await recordCrmOutcome(
        sql,
        entry.lead_id,
        {
          key: `crm_sync_failed:${entry.dedupe_key}`,
          at: new Date().toISOString(),
          type: 'crm_sync_failed',
          actor: `crm:${entry.recipient}`,
          data,
        },
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
