import type { Sql } from './client';
import type { LeadSource } from '../domain/lead';
import type { FieldMapping, Vendor } from '../contracts/vendors';

// Capture sources and what their deliveries came to. Secrets are stored sealed or
// hashed (capture/secrets.ts); `SourceView` is what may leave the service and holds none.

/** A source as the API shows it: no secret of any kind. */
export interface SourceView {
  id: string;
  vendor: Vendor;
  name: string;
  leadSource: LeadSource;
  fieldMapping: FieldMapping;
  graphApiUrl: string | null;
  createdAt: string;
  createdBy: string;
}

/** A source with its stored secrets, for verifying its deliveries. */
export interface StoredSource extends SourceView {
  secret: Buffer | null;
  tokenHash: string | null;
  accessToken: Buffer | null;
  verifyTokenHash: string | null;
}

export type NewSource = Omit<StoredSource, 'createdAt'>;

interface SourceRow {
  id: string;
  vendor: Vendor;
  name: string;
  lead_source: LeadSource;
  field_mapping: FieldMapping;
  secret: Buffer | null;
  token_hash: string | null;
  graph_api_url: string | null;
  access_token: Buffer | null;
  verify_token_hash: string | null;
  created_at: Date;
  created_by: string;
}

function stored(row: SourceRow): StoredSource {
  return {
    id: row.id,
    vendor: row.vendor,
    name: row.name,
    leadSource: row.lead_source,
    fieldMapping: row.field_mapping,
    graphApiUrl: row.graph_api_url,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    secret: row.secret,
    tokenHash: row.token_hash,
    accessToken: row.access_token,
    verifyTokenHash: row.verify_token_hash,
  };
}

/** Drops the secrets: the only shape the API answers. */
export function sourceView({ secret: _s, tokenHash: _t, accessToken: _a, verifyTokenHash: _v, ...view }: StoredSource): SourceView {
  return view;
}

export async function insertSource(sql: Sql, source: NewSource): Promise<StoredSource> {
  const [row] = await sql<SourceRow[]>`
    INSERT INTO sources (id, vendor, name, lead_source, field_mapping, secret, token_hash, graph_api_url, access_token, verify_token_hash, created_by)
    VALUES (${source.id}, ${source.vendor}, ${source.name}, ${source.leadSource}, ${sql.json(source.fieldMapping)}, ${source.secret},
            ${source.tokenHash}, ${source.graphApiUrl}, ${source.accessToken}, ${source.verifyTokenHash}, ${source.createdBy})
    RETURNING *`;
  return stored(row!);
}

export async function findSource(sql: Sql, id: string): Promise<StoredSource | undefined> {
  const [row] = await sql<SourceRow[]>`SELECT * FROM sources WHERE id = ${id}`;
  return row && stored(row);
}

/** Every source, oldest first (a handful per team: no paging). */
export async function listSources(sql: Sql): Promise<SourceView[]> {
  const rows = await sql<SourceRow[]>`SELECT * FROM sources ORDER BY created_at, id`;
  return rows.map((row) => sourceView(stored(row)));
}

export type DeliveryOutcome = 'captured' | 'rejected';

export interface Delivery {
  eventId: string;
  outcome: DeliveryOutcome;
  leadId: string | null;
  reason: string | null;
  receivedAt: string;
}

/** The delivery of this vendor event, when one was recorded. */
export async function findDelivery(sql: Sql, sourceId: string, eventId: string): Promise<Delivery | undefined> {
  const [row] = await sql<
    { event_id: string; outcome: DeliveryOutcome; lead_id: string | null; reason: string | null; received_at: Date }[]
  >`
    SELECT event_id, outcome, lead_id, reason, received_at FROM source_deliveries WHERE source_id = ${sourceId} AND event_id = ${eventId}`;
  return (
    row && {
      eventId: row.event_id,
      outcome: row.outcome,
      leadId: row.lead_id,
      reason: row.reason,
      receivedAt: row.received_at.toISOString(),
    }
  );
}

/** Records what a delivery came to; the first record of an event id stays (a redelivery changes nothing). */
export async function recordDelivery(
  sql: Sql,
  sourceId: string,
  delivery: { eventId: string; outcome: DeliveryOutcome; leadId?: string; reason?: string },
): Promise<void> {
  await sql`
    INSERT INTO source_deliveries (source_id, event_id, outcome, lead_id, reason)
    VALUES (${sourceId}, ${delivery.eventId}, ${delivery.outcome}, ${delivery.leadId ?? null}, ${delivery.reason ?? null})
    ON CONFLICT (source_id, event_id) DO NOTHING`;
}

/** A source's rejected deliveries, newest first. */
export async function listRejections(sql: Sql, sourceId: string, limit: number): Promise<Delivery[]> {
  const rows = await sql<{ event_id: string; lead_id: string | null; reason: string | null; received_at: Date }[]>`
    SELECT event_id, lead_id, reason, received_at FROM source_deliveries
    WHERE source_id = ${sourceId} AND outcome = 'rejected'
    ORDER BY received_at DESC, event_id LIMIT ${limit}`;
  return rows.map((row) => ({
    eventId: row.event_id,
    outcome: 'rejected',
    leadId: row.lead_id,
    reason: row.reason,
    receivedAt: row.received_at.toISOString(),
  }));
}
