import type { IncomingMessage, ServerResponse } from 'node:http';
import { StubServer } from './stub-server';

/** The HubSpot CRM endpoints the stub serves. */
export type HubspotEndpoint = 'contacts' | 'deals' | 'associations';

/** How the stub fails a call: a status, with `Retry-After` (429) or HubSpot's error category (400). */
export interface HubspotFailure {
  status: number;
  retryAfter?: number;
  category?: string;
  /** Only calls about this contact's email fail (default: any call to the endpoint). */
  email?: string;
  /** Never answer (HubSpot down behind a load balancer that accepts the connection); `status` is then only recorded. */
  hang?: boolean;
}

export interface HubspotRecord {
  id: string;
  properties: Record<string, string>;
}

export interface HubspotCall {
  endpoint: HubspotEndpoint;
  method: string;
  path: string;
  authorization?: string;
  body: any;
  at: number;
  status: number;
}

/**
 * A local stand-in for HubSpot's CRM v3/v4 API (we cannot reach it here): batch upserts of contacts
 * (by email or another unique property) and deals (by a unique property), and default associations,
 * kept in memory as HubSpot would keep them. It records every call with its status, and fails on
 * demand: `fail('contacts', { status: 429, retryAfter: 3 })` fails the next matching call once
 * (`hang` never answers it). A 400 carries HubSpot's validation message, which quotes the lead's values, as HubSpot's does.
 */
export class HubspotStub extends StubServer {
  readonly calls: HubspotCall[] = [];
  readonly contacts: HubspotRecord[] = [];
  readonly deals: HubspotRecord[] = [];
  /** `dealId→contactId`. */
  readonly associations = new Set<string>();
  private readonly failures: (HubspotFailure & { endpoint: HubspotEndpoint; times: number })[] = [];
  private nextId = 1000;
  /** The next `times` calls to `endpoint` (about `failure.email`, if given) fail as told. */
  fail(endpoint: HubspotEndpoint, failure: HubspotFailure, times = 1): this {
    this.failures.push({ ...failure, endpoint, times });
    return this;
  }

  callsTo(endpoint: HubspotEndpoint, email?: string): HubspotCall[] {
    return this.calls.filter((c) => c.endpoint === endpoint && (!email || c.body?.inputs?.[0]?.id === email));
  }

  contact(email: string): HubspotRecord | undefined {
    return this.contacts.find((c) => c.properties.email === email);
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, raw: string) {
    const body = raw ? JSON.parse(raw) : undefined;
    const path = new URL(request.url ?? '/', 'http://stub').pathname;
    const association = /^\/crm\/v4\/objects\/deals\/([^/]+)\/associations\/default\/contacts\/([^/]+)$/.exec(path);
    const endpoint: HubspotEndpoint | undefined =
      path === '/crm/v3/objects/contacts/batch/upsert'
        ? 'contacts'
        : path === '/crm/v3/objects/deals/batch/upsert'
          ? 'deals'
          : association
            ? 'associations'
            : undefined;
    /** Records the call as answered with `status` (0: never answered). */
    const record = (status: number) =>
      endpoint &&
      this.calls.push({
        endpoint,
        method: request.method ?? '',
        path,
        authorization: request.headers.authorization,
        body,
        at: Date.now(),
        status,
      });
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record(status);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(payload));
    };
    if (!endpoint) return answer(404, { status: 'error', message: 'not found', category: 'OBJECT_NOT_FOUND' });

    const email = endpoint === 'contacts' ? body?.inputs?.[0]?.id : undefined;
    const failure = this.failures.find((f) => f.endpoint === endpoint && f.times > 0 && (!f.email || f.email === email));
    if (failure) {
      failure.times -= 1;
      if (failure.hang) {
        record(0);
        return;
      }
      const category =
        failure.category ?? (failure.status === 429 ? 'RATE_LIMITS' : failure.status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR');
      const headers: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
      const quoted = body?.inputs?.[0]?.properties?.email ?? '';
      return answer(
        failure.status,
        { status: 'error', message: `Property values were not valid: ${quoted}`, correlationId: 'stub', category },
        headers,
      );
    }

    const now = new Date().toISOString();
    if (association) {
      this.associations.add(`${association[1]}→${association[2]}`);
      return answer(200, {
        status: 'COMPLETE',
        results: [
          {
            from: { id: association[1] },
            to: { id: association[2] },
            associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 },
          },
        ],
        startedAt: now,
        completedAt: now,
      });
    }
    const store = endpoint === 'contacts' ? this.contacts : this.deals;
    const results = (body.inputs as { idProperty: string; id: string; properties: Record<string, string> }[]).map((input) => {
      let record = store.find((r) => r.properties[input.idProperty] === input.id);
      const created = !record;
      if (!record) {
        record = { id: String(this.nextId++), properties: { [input.idProperty]: input.id } };
        store.push(record);
      }
      Object.assign(record.properties, input.properties);
      return { id: record.id, properties: record.properties, createdAt: now, updatedAt: now, archived: false, new: created };
    });
    return answer(200, { status: 'COMPLETE', results, startedAt: now, completedAt: now });
  }
}
