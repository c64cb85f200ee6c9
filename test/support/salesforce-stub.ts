import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StubServer } from './stub-server';

/**
 * The Salesforce endpoints the stub serves: the OAuth token endpoint, upserts by external id (and
 * updates by Id), SOQL queries and the SOAP API's convertLead.
 */
export type SalesforceEndpoint = 'token' | 'Lead' | 'Opportunity' | 'query' | 'convertLead';
type SObject = 'Lead' | 'Opportunity' | 'Account' | 'Contact';

/** How the stub fails a call: a status with Salesforce's errorCode (401 INVALID_SESSION_ID also expires the access token). */
export interface SalesforceFailure {
  status: number;
  errorCode?: string;
  /** Only upserts of this external id fail (default: any call to the endpoint). */
  externalId?: string;
  /** Never answer (an org behind a load balancer that accepts the connection); `status` is then only recorded. */
  hang?: boolean;
  /** convertLead: convert the Lead, then answer the failure (the answer lost after Salesforce did the work). */
  afterPerforming?: boolean;
}

export interface SalesforceRecord {
  Id: string;
  /** The external-id field and its value (made by an upsert; a record made otherwise has `Id` here). */
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
  readonly records: Record<SObject, SalesforceRecord[]> = { Lead: [], Opportunity: [], Account: [], Contact: [] };
  /** Lead conversions performed (not calls: a failed or refused call converts nothing, `afterPerforming` does). */
  readonly conversions: { leadId: string; accountId: string; contactId: string; opportunityId: string; request: Record<string, string> }[] =
    [];
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

  /** An Account of the org, as a rep made it (`Website` as they typed it). */
  addAccount(fields: { Name: string; Website: string }): SalesforceRecord {
    const record = this.made('Account', fields);
    return record;
  }

  private made(sobject: SObject, fields: Record<string, unknown>, externalId?: { field: string; value: string }): SalesforceRecord {
    const prefix = { Lead: '00Q', Opportunity: '006', Account: '001', Contact: '003' }[sobject];
    const Id = `${prefix}xx${String(this.nextId++).padStart(10, '0')}AAA`;
    const record = { Id, externalId: externalId ?? { field: 'Id', value: Id }, fields: { ...fields } };
    this.records[sobject].push(record);
    return record;
  }

  /** A SOQL query, as far as the pushes ask: a Lead by an external-id field, Accounts by Website. */
  private query(soql: string): Record<string, unknown>[] {
    const strings = (list: string) => [...list.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
    const lead = /^SELECT ([\w, ]+) FROM Lead WHERE (\w+__c) = ('(?:[^'\\]|\\.)*') LIMIT 1$/.exec(soql);
    if (lead) {
      const [value] = strings(lead[3]!);
      const record = this.records.Lead.find((r) => r.externalId.field === lead[2] && r.externalId.value === value);
      if (!record) return [];
      const row: Record<string, unknown> = {
        Id: record.Id,
        IsConverted: false,
        ConvertedOpportunityId: null,
        ConvertedContactId: null,
        ConvertedAccountId: null,
        ...record.fields,
      };
      return [Object.fromEntries(lead[1]!.split(',').map((f) => [f.trim(), row[f.trim()] ?? null]))];
    }
    const accounts = /^SELECT Id FROM Account WHERE Website IN \((.*)\) LIMIT (\d+)$/.exec(soql);
    if (accounts) {
      const websites = new Set(strings(accounts[1]!));
      return this.records.Account.filter((r) => websites.has(String(r.fields.Website)))
        .slice(0, Number(accounts[2]))
        .map((r) => ({ Id: r.Id }));
    }
    throw new Error(`the stub does not know this query: ${soql}`);
  }

  /** convertLead of one LeadConvert, as Salesforce does it: an Account (unless given), a Contact and an Opportunity; the Lead converted. */
  private convert(request: Record<string, string>): { result: Record<string, string | boolean>; performed: boolean } {
    const lead = this.records.Lead.find((r) => r.Id === request.leadId);
    const refused = (statusCode: string, message: string) => ({ result: { success: false, statusCode, message }, performed: false });
    if (!lead) return refused('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
    if (lead.fields.IsConverted) return refused('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead');
    if (request.accountId && !this.records.Account.some((a) => a.Id === request.accountId))
      return refused('INVALID_CROSS_REFERENCE_KEY', 'invalid account id');
    const ownerId = request.ownerId ?? lead.fields.OwnerId;
    const accountId = request.accountId ?? this.made('Account', { Name: lead.fields.Company, OwnerId: ownerId }).Id;
    const contactId = this.made('Contact', {
      FirstName: lead.fields.FirstName,
      LastName: lead.fields.LastName,
      Email: lead.fields.Email,
      AccountId: accountId,
      OwnerId: ownerId,
    }).Id;
    const opportunityId = this.made('Opportunity', {
      Name: request.opportunityName ?? `${String(lead.fields.Company)}-`,
      AccountId: accountId,
      OwnerId: ownerId,
    }).Id;
    Object.assign(lead.fields, {
      IsConverted: true,
      Status: request.convertedStatus,
      ConvertedAccountId: accountId,
      ConvertedContactId: contactId,
      ConvertedOpportunityId: opportunityId,
    });
    this.conversions.push({ leadId: lead.Id, accountId, contactId, opportunityId, request });
    return { result: { success: true, leadId: lead.Id, accountId, contactId, opportunityId }, performed: true };
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, raw: string) {
    const url = new URL(request.url ?? '/', 'http://stub');
    const path = url.pathname;
    const upsert = /^\/services\/data\/v\d+\.\d\/sobjects\/(Lead|Opportunity)\/([A-Za-z0-9_]+__c)\/([^/]+)$/.exec(path);
    const byId = /^\/services\/data\/v\d+\.\d\/sobjects\/(Lead|Opportunity)\/([A-Za-z0-9]{15,18})$/.exec(path);
    const soap = /^\/services\/Soap\/u\/\d+\.\d$/.test(path) && request.method === 'POST';
    const endpoint: SalesforceEndpoint | undefined =
      path === '/services/oauth2/token' && request.method === 'POST'
        ? 'token'
        : (upsert || byId) && request.method === 'PATCH'
          ? ((upsert ?? byId)![1] as 'Lead' | 'Opportunity')
          : /^\/services\/data\/v\d+\.\d\/query$/.test(path) && request.method === 'GET'
            ? 'query'
            : soap && /<convertLead>/.test(raw)
              ? 'convertLead'
              : undefined;
    const externalId = upsert ? decodeURIComponent(upsert[3]!) : undefined;
    const leadConvert =
      endpoint === 'convertLead'
        ? Object.fromEntries([...raw.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((m) => [m[1]!, unescapeXml(m[2]!)]))
        : undefined;
    const body =
      endpoint === 'token'
        ? Object.fromEntries(new URLSearchParams(raw))
        : endpoint === 'query'
          ? url.searchParams.get('q')
          : leadConvert
            ? leadConvert
            : raw
              ? JSON.parse(raw)
              : undefined;
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
      if (status === 204) return void response.writeHead(204).end();
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    // The SOAP API answers in an envelope; a fault is a 500 (its code qualified: sf:INVALID_SESSION_ID).
    const answerSoap = (status: number, bodyXml: string) => {
      recordCall(status);
      response.writeHead(status, { 'content-type': 'text/xml; charset=utf-8' });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${bodyXml}</soapenv:Body></soapenv:Envelope>`,
      );
    };
    const soapFault = (code: string, message: string) =>
      answerSoap(500, `<soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${code}: ${message}</faultstring></soapenv:Fault>`);
    if (!endpoint) return answer(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);

    const failure = this.failures.find((f) => f.endpoint === endpoint && f.times > 0 && (!f.externalId || f.externalId === externalId));
    if (failure && !failure.afterPerforming) {
      failure.times -= 1;
      if (failure.hang) {
        recordCall(0);
        return;
      }
      if (endpoint === 'token')
        return answer(failure.status, { error: failure.errorCode ?? 'server_error', error_description: 'failed on demand' });
      if (failure.status === 401) {
        this.tokens.clear();
        if (endpoint === 'convertLead') return soapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader');
        return answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      }
      const errorCode = failure.errorCode ?? (failure.status >= 500 ? 'UNKNOWN_EXCEPTION' : 'REQUIRED_FIELD_MISSING');
      if (endpoint === 'convertLead') return soapFault(errorCode, 'failed on demand');
      return answer(failure.status, [
        { message: `Required fields are missing: [LastName] (${String(body?.Email ?? '')})`, errorCode, fields: [] },
      ]);
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

    if (endpoint === 'convertLead') {
      const session = /<sessionId>([^<]*)<\/sessionId>/.exec(raw)?.[1];
      if (!session || !this.tokens.has(unescapeXml(session)))
        return soapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader');
      const { result, performed } = this.convert(leadConvert!);
      if (failure?.afterPerforming && performed) {
        failure.times -= 1;
        return soapFault(failure.errorCode ?? 'UNKNOWN_EXCEPTION', 'failed on demand, after converting');
      }
      const xml = result.success
        ? `<accountId>${result.accountId}</accountId><contactId>${result.contactId}</contactId><leadId>${result.leadId}</leadId><opportunityId>${result.opportunityId}</opportunityId><success>true</success>`
        : `<accountId xsi:nil="true"/><contactId xsi:nil="true"/><errors><message>${result.message}</message><statusCode>${result.statusCode}</statusCode></errors><leadId xsi:nil="true"/><opportunityId xsi:nil="true"/><success>false</success>`;
      return answerSoap(200, `<convertLeadResponse><result>${xml}</result></convertLeadResponse>`);
    }

    const bearer = request.headers.authorization?.replace(/^Bearer /, '');
    if (!bearer || !this.tokens.has(bearer))
      return answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    if (endpoint === 'query') {
      const records = this.query(String(body));
      return answer(200, { totalSize: records.length, done: true, records });
    }
    const store = this.records[endpoint];
    if (byId) {
      const record = store.find((r) => r.Id === byId[2]);
      if (!record) return answer(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
      if (record.fields.IsConverted)
        return answer(400, [{ errorCode: 'CANNOT_UPDATE_CONVERTED_LEAD', message: 'cannot reference converted lead' }]);
      Object.assign(record.fields, body);
      return answer(204, undefined);
    }
    const field = upsert![2]!;
    if (body && field in body)
      return answer(400, [{ message: `${field} is the external id: not in the body`, errorCode: 'INVALID_FIELD' }]);
    // A record made otherwise (a converted Lead's Opportunity) is found by the field once it holds the value.
    let record = store.find((r) => (r.externalId.field === field && r.externalId.value === externalId) || r.fields[field] === externalId);
    const created = !record;
    if (!record) record = this.made(endpoint, {}, { field, value: externalId! });
    else if (record.fields.IsConverted)
      return answer(400, [{ errorCode: 'CANNOT_UPDATE_CONVERTED_LEAD', message: 'cannot reference converted lead' }]);
    Object.assign(record.fields, body);
    return answer(created ? 201 : 200, { id: record.Id, success: true, errors: [], created });
  }
}

const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
