import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stub answers for one lead: its fields, after failing `failures` times with `status`. */
export interface GraphBehaviour {
  body: unknown;
  /** Answer 302 to this location instead. */
  redirect?: string;
  failures?: number;
  status?: number;
}

/**
 * A local stand-in for Meta's Graph API (we cannot reach it here): `GET /{leadgen_id}` answers
 * the lead as told, failing first when told to, and records every request with its Authorization.
 */
export class GraphStub {
  readonly requests: { leadgenId: string; authorization?: string; fields: string | null }[] = [];
  private readonly leads = new Map<string, GraphBehaviour & { failed: number }>();
  private server?: Server;
  url = '';
  /** `scheme://host:port` of `url`: what EXTRA_VENDOR_ORIGINS lists for it. */
  get origin(): string {
    return new URL(this.url).origin;
  }

  lead(leadgenId: string, behaviour: GraphBehaviour): this {
    this.leads.set(leadgenId, { ...behaviour, failed: 0 });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v21.0`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  requestsFor(leadgenId: string) {
    return this.requests.filter((r) => r.leadgenId === leadgenId);
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://stub');
    const leadgenId = url.pathname.replace(/^\/v21\.0\//, '');
    this.requests.push({ leadgenId, authorization: request.headers.authorization, fields: url.searchParams.get('fields') });
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const lead = this.leads.get(leadgenId);
    if (!lead) return json(404, { error: { message: 'Unsupported get request', type: 'GraphMethodException', code: 100 } });
    if (lead.redirect) {
      response.writeHead(302, { location: lead.redirect });
      return response.end();
    }
    if (lead.failed < (lead.failures ?? 0)) {
      lead.failed += 1;
      return json(lead.status ?? 503, {
        error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true },
      });
    }
    return json(200, lead.body);
  }
}
