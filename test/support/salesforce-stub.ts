import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StubServer } from './stub-server';

/** The Salesforce endpoints the stub serves: the OAuth token endpoint and upserts by external id. */
export type SalesforceEndpoint = 'token' | 'Lead' | 'Opportunity';

/** How the stub fails a call: a status with Salesforce's errorCode (401 INVALID_SESSION_ID also expires the access token). */
export interface SalesforceFailure {
  status: number;
  errorCode?: string;
  /** Only upserts of this external id fail (default: any call to the endpoint). */
  externalId?: string;
  /** Never answer (an org behind a load balancer that accepts the connection); `status` is then only recorded. */
  hang?: boolean;
}

export interface SalesforceRecord {
  Id: string;
  /** The external-id field and its value. */
  externalId: { field: string; value: string };
  fields: Record<string, unknown>;
}

export interface SalesforceCall {
  endpoint: SalesforceEndpoint;
  method: string;
  path: string;
  externalId?: string;
  authorization?: string;
  body: any;
  at: number;
  status: number;
}

/**
 * A local stand-in for a Salesforce org's REST API (we cannot reach one here), speaking what jsforce
 * calls: `POST /services/oauth2/token` (grant_type=refresh_token, checking the client and the refresh
 * token) and `PATCH /services/data/vXX.X/sobjects/<Lead|Opportunity>/<field>/<value>`, an upsert by
 * external id (201 created, 200 updated), with a Bearer token it issued. It records every call with
 * its status and fails on demand: `fail('Lead', { status: 401 })` expires the access token once
 * (INVALID_SESSION_ID), `hang` never answers, `{ status: 500 }` answers UNKNOWN_EXCEPTION, `{ status: 400, errorCode:
 * 'REQUIRED_FIELD_MISSING' }` a validation error whose message quotes the lead's email, as Salesforce's does.
 */
export class SalesforceStub extends StubServer {
  readonly calls: SalesforceCall[] = [];
  readonly records: Record<'Lead' | 'Opportunity', SalesforceRecord[]> = { Lead: [], Opportunity: [] };
  private readonly failures: (SalesforceFailure & { endpoint: SalesforceEndpoint; times: number })[] = [];
  private readonly tokens = new Set<string>();
  private nextId = 1;

  constructor(readonly client: { clientId: string; clientSecret: string; refreshToken: string }) {
    super();
  }

  /** The next `times` calls to `endpoint` (about `failure.externalId`, if given) fail as told. */
  fail(endpoint: SalesforceEndpoint, failure: SalesforceFailure, times = 1): this {
    this.failures.push({ ...failure, endpoint, times });
    return this;
  }

  /** Revokes the refresh token: the token endpoint answers invalid_grant from now on. */
  revokeRefreshToken(): void {
    this.client.refreshToken = `revoked-${randomUUID()}`;
  }

  callsTo(endpoint: SalesforceEndpoint, externalId?: string): SalesforceCall[] {
    return this.calls.filter((c) => c.endpoint === endpoint && (!externalId || c.externalId === externalId));
  }

  lead(leadId: string): SalesforceRecord | undefined {
    return this.records.Lead.find((r) => r.externalId.value === leadId);
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, raw: string) {
    const path = new URL(request.url ?? '/', 'http://stub').pathname;
    const upsert = /^\/services\/data\/v\d+\.\d\/sobjects\/(Lead|Opportunity)\/([A-Za-z0-9_]+__c)\/([^/]+)$/.exec(path);
    const endpoint: SalesforceEndpoint | undefined =
      path === '/services/oauth2/token' && request.method === 'POST'
        ? 'token'
        : upsert && request.method === 'PATCH'
          ? (upsert[1] as 'Lead' | 'Opportunity')
          : undefined;
    const externalId = upsert ? decodeURIComponent(upsert[3]!) : undefined;
    const body = endpoint === 'token' ? Object.fromEntries(new URLSearchParams(raw)) : raw ? JSON.parse(raw) : undefined;
    const recordCall = (status: number) =>
      this.calls.push({
        endpoint: endpoint!,
        method: request.method ?? '',
        path,
        externalId,
        authorization: request.headers.authorization,
        body,
        at: Date.now(),
        status,
      });
    const answer = (status: number, payload: unknown) => {
      if (endpoint) recordCall(status);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    if (!endpoint) return answer(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);

    const failure = this.failures.find((f) => f.endpoint === endpoint && f.times > 0 && (!f.externalId || f.externalId === externalId));
    if (failure) {
      failure.times -= 1;
      if (failure.hang) {
        recordCall(0);
        return;
      }
      if (endpoint === 'token') return answer(failure.status, { error: failure.errorCode ?? 'server_error', error_description: 'failed on demand' });
      if (failure.status === 401) {
        this.tokens.clear();
        return answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      }
      const errorCode = failure.errorCode ?? (failure.status >= 500 ? 'UNKNOWN_EXCEPTION' : 'REQUIRED_FIELD_MISSING');
      return answer(failure.status, [{ message: `Required fields are missing: [LastName] (${String(body?.Email ?? '')})`, errorCode, fields: [] }]);
    }

    if (endpoint === 'token') {
      const { grant_type, client_id, client_secret, refresh_token } = body as Record<string, string>;
      if (client_id !== this.client.clientId || client_secret !== this.client.clientSecret)
        return answer(400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      if (grant_type !== 'refresh_token' || refresh_token !== this.client.refreshToken)
        return answer(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
      const accessToken = `00Dstub!${randomUUID()}`;
      this.tokens.add(accessToken);
      return answer(200, {
        access_token: accessToken,
        instance_url: this.url,
        id: `${this.url}/id/00Dxx0000000001EAA/005xx0000000001AAA`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
        signature: 'stub',
        scope: 'api refresh_token',
      });
    }

    const bearer = request.headers.authorization?.replace(/^Bearer /, '');
    if (!bearer || !this.tokens.has(bearer)) return answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const store = this.records[endpoint];
    const field = upsert![2]!;
    if (body && field in body) return answer(400, [{ message: `${field} is the external id: not in the body`, errorCode: 'INVALID_FIELD' }]);
    let record = store.find((r) => r.externalId.field === field && r.externalId.value === externalId);
    const created = !record;
    if (!record) {
      record = {
        Id: `${endpoint === 'Lead' ? '00Q' : '006'}xx${String(this.nextId++).padStart(10, '0')}AAA`,
        externalId: { field, value: externalId! },
        fields: {},
      };
      store.push(record);
    }
    Object.assign(record.fields, body);
    return answer(created ? 201 : 200, { id: record.Id, success: true, errors: [], created });
  }
}
