import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server standing in for a vendor's API (docs/contributing.md): it listens on a free
 * loopback port and hands each request, with its body read, to the stub's `handle`.
 */
export abstract class StubServer {
  private server?: Server;
  /** The base URL clients are given: the origin, then `basePath`. */
  url = '';

  constructor(private readonly basePath = '') {}

  get origin(): string {
    return new URL(this.url).origin;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.receive(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.basePath}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    await this.handle(request, response, raw);
  }

  protected abstract handle(request: IncomingMessage, response: ServerResponse, raw: string): Promise<void> | void;
}
