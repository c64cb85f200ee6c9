import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stub vendor answers for a domain. */
export type StubBehaviour =
  | { kind: 'ok'; body: unknown }
  | { kind: 'not_found' }
  | { kind: 'fail'; status: number }
  /** Fails `times` times with 503, then answers `body`. */
  | { kind: 'flaky'; times: number; body: unknown }
  | { kind: 'slow'; delayMs: number; body: unknown }
  | { kind: 'garbage'; raw: string };

/**
 * A local HTTP stand-in for a vendor enrichment API (we cannot reach real vendors here): `POST /`
 * with `{ email, domain, fields }`, answering per domain as told.
 */
export class EnrichmentStub {
  readonly requests: { domain: string; authorization?: string; fields: string[] }[] = [];
  private readonly behaviours = new Map<string, StubBehaviour>();
  private readonly failures = new Map<string, number>();
  private server?: Server;
  url = '';

  on(domain: string, behaviour: StubBehaviour): this {
    this.behaviours.set(domain, behaviour);
    this.failures.delete(domain);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  countFor(domain: string): number {
    return this.requests.filter((r) => r.domain === domain).length;
  }

  private async handle(request: IncomingMessage, response: import('node:http').ServerResponse) {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const query = JSON.parse(raw) as { domain: string; fields: string[] };
    this.requests.push({ domain: query.domain, authorization: request.headers.authorization, fields: query.fields });
    const behaviour = this.behaviours.get(query.domain) ?? { kind: 'not_found' };
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    switch (behaviour.kind) {
      case 'ok':
        return json(200, behaviour.body);
      case 'not_found':
        return json(404, { error: 'unknown domain' });
      case 'fail':
        return json(behaviour.status, { error: 'vendor failure' });
      case 'flaky': {
        const failed = this.failures.get(query.domain) ?? 0;
        if (failed < behaviour.times) {
          this.failures.set(query.domain, failed + 1);
          return json(503, { error: 'try later' });
        }
        return json(200, behaviour.body);
      }
      case 'slow':
        setTimeout(() => json(200, behaviour.body), behaviour.delayMs).unref();
        return;
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(behaviour.raw);
    }
  }
}
