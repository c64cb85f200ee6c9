import type { CrmKind, CrmLead } from '../domain/crm';
import type { OutboxNotification, TimelineEvent } from '../domain/lead-record';
import type { Sql } from './client';
import { findLead } from './leads';
import { insertNotifications } from './outbox';
import { insertEvents } from './timeline';

// CRM connections and the pushes to them (docs/features/crm.md). The credential is stored sealed
// (capture/secrets.ts); `CrmConnectionView` is what may leave the service and holds none.

/**
 * What is not secret about a connection: where its API is (Salesforce: the org's instance URL) and
 * where deals go (Salesforce: the Opportunity's StageName, `dealStage`).
 */
export interface CrmSettings {
  apiBaseUrl: string;
  /** hubspot only. */
  pipeline?: string;
  dealStage: string;
  /** salesforce: the Lead's external-id field holding our lead id. */
  leadIdField?: string;
  /** salesforce: the Opportunity's external-id field holding the handoff id. */
  handoffIdField?: string;
  /** salesforce: the Opportunity's CloseDate, in days after the conversion. */
  closeInDays?: number;
  /** salesforce: a conversion converts the Lead (convertLead) rather than upsert an Opportunity alone. */
  convertLeads?: boolean;
  /** salesforce, with convertLeads: the org's converted Lead Status. */
  convertedStatus?: string;
}

/** A Salesforce connection's sealed secret, as JSON: its connected app and the integration user's refresh token. */
export interface SalesforceCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

/** A connection as the API shows it: no secret. */
export interface CrmConnectionView {
  id: string;
  kind: CrmKind;
  name: string;
  settings: CrmSettings;
  createdAt: string;
  createdBy: string;
}

/** A connection with its sealed credential, for the worker's pushes. */
export interface StoredCrmConnection extends CrmConnectionView {
  secret: Buffer;
}

interface CrmConnectionRow {
  id: string;
  kind: CrmKind;
  name: string;
  settings: CrmSettings;
  secret: Buffer;
  created_at: Date;
  created_by: string;
}

const stored = (row: CrmConnectionRow): StoredCrmConnection => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  settings: row.settings,
  secret: row.secret,
  createdAt: row.created_at.toISOString(),
  createdBy: row.created_by,
});

/** Drops the credential: the only shape the API answers. */
export function crmConnectionView({ secret: _secret, ...view }: StoredCrmConnection): CrmConnectionView {
  return view;
}

export async function insertCrmConnection(sql: Sql, connection: Omit<StoredCrmConnection, 'createdAt'>): Promise<StoredCrmConnection> {
  const [row] = await sql<CrmConnectionRow[]>`
    INSERT INTO crm_connections (id, kind, name, settings, secret, created_by)
    VALUES (${connection.id}, ${connection.kind}, ${connection.name}, ${sql.json(connection.settings as never)}, ${connection.secret}, ${connection.createdBy})
    RETURNING *`;
  return stored(row!);
}

/** Every connection, oldest first (one or two: no paging). */
export async function listCrmConnections(sql: Sql): Promise<CrmConnectionView[]> {
  const rows = await sql<CrmConnectionRow[]>`SELECT * FROM crm_connections ORDER BY created_at, id`;
  return rows.map((row) => crmConnectionView(stored(row)));
}

export async function findCrmConnection(sql: Sql, id: string): Promise<StoredCrmConnection | undefined> {
  const [row] = await sql<CrmConnectionRow[]>`SELECT * FROM crm_connections WHERE id = ${id}`;
  return row && stored(row);
}

/** The lead as a push needs it, or undefined when it is gone (erased). */
export async function crmLead(sql: Sql, leadId: string): Promise<CrmLead | undefined> {
  const stored = await findLead(sql, leadId);
  if (!stored) return undefined;
  const [[owner], story] = await Promise.all([
    stored.routing.ownerId
      ? sql<{ crm_user_id: string | null }[]>`SELECT crm_user_id FROM reps WHERE id = ${stored.routing.ownerId}`
      : Promise.resolve([] as { crm_user_id: string | null }[]),
    // Bounded: the handoff note tells at most the latest 200 of them.
    sql<{ at: Date; type: string; actor: string; data: Record<string, unknown> }[]>`
      SELECT at, type, actor, data FROM (
        SELECT id, at, type, actor, data FROM lead_events
        WHERE lead_id = ${leadId} AND type IN ('captured', 'activity', 'touch')
        ORDER BY at DESC, id DESC LIMIT 200) latest
      ORDER BY at, id`,
  ]);
  return {
    lead: stored.lead,
    ownerId: stored.routing.ownerId,
    ownerCrmUserId: owner?.crm_user_id ?? null,
    priority: stored.routing.priority,
    dueAt: stored.routing.dueAt,
    story: story.map((e) => ({ ...e, at: e.at.toISOString() })),
  };
}

/** A CRM record a lead was pushed to, as `GET /leads/{id}` shows it. */
export interface CrmRecordView {
  connectionId: string;
  kind: CrmKind;
  object: 'contact' | 'deal';
  recordId: string;
  syncedAt: string;
}

/** The CRM records of a lead, from its `crm_synced` events: the latest push of each connection and object. */
export async function crmRecordsOfLead(sql: Sql, leadId: string): Promise<CrmRecordView[]> {
  const rows = await sql<{ connection_id: string; kind: CrmKind; object: 'contact' | 'deal'; record_id: string; at: Date }[]>`
    SELECT DISTINCT ON (data->>'connectionId', data->>'object')
           data->>'connectionId' AS connection_id, data->>'kind' AS kind, data->>'object' AS object, data->>'recordId' AS record_id, at
    FROM lead_events WHERE lead_id = ${leadId} AND type = 'crm_synced'
    ORDER BY data->>'connectionId', data->>'object', at DESC, id DESC`;
  return rows.map((r) => ({
    connectionId: r.connection_id,
    kind: r.kind,
    object: r.object,
    recordId: r.record_id,
    syncedAt: r.at.toISOString(),
  }));
}

/**
 * Writes what a push came to on the lead's timeline (`crm_synced`, `crm_sync_failed`) and, for a
 * failure, the ops alert, in one statement; an event already written (same key) is not written again.
 */
export async function recordCrmOutcome(sql: Sql, leadId: string, event: TimelineEvent, alert?: OutboxNotification): Promise<void> {
  await sql`
    WITH written AS (${insertEvents(sql, leadId, [event])})
    ${alert ? sql`, alerted AS (${insertNotifications(sql, leadId, [alert])})` : sql``}
    SELECT 1`;
}
