import type { IncomingMessage, ServerResponse } from 'node:http';
import { StubServer } from './stub-server';

/** One Web API call as the stub received it: the method, the bearer token, and the arguments (JSON-valued ones parsed). */
export interface SlackCall {
  method: string;
  authorization?: string;
  args: Record<string, any>;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** How the stub fails the next call of a method: an HTTP 429 with Retry-After, or Slack's `ok: false` with an error code. */
export type SlackFailure = { rateLimitedFor: number } | { error: string };

/**
 * A local stand-in for Slack's Web API (we cannot reach it here), what WebClient's `slackApiUrl`
 * points at: `chat.postMessage` and `chat.update` answer as Slack does (a direct message to a member
 * id lands in a `D…` conversation), every call is recorded, and a method fails on demand. It also
 * takes the `response_url` posts of interactions, under `/actions/…`.
 */
export class SlackStub extends StubServer {
  readonly calls: SlackCall[] = [];
  /** JSON bodies posted to response URLs, with the path they were posted to. */
  readonly responses: { path: string; body: Record<string, any> }[] = [];
  private readonly failures: { method: string; match: (args: Record<string, any>) => boolean; failure: SlackFailure }[] = [];
  private seq = 0;

  /** `url` is the Web API's base URL (`…/api/`), as SLACK_API_URL. */
  constructor() {
    super('/api/');
  }
  /** The next calls of `method` whose arguments `match` fail, one per failure given, in order. */
  failNext(method: string, match: (args: Record<string, any>) => boolean, ...failures: SlackFailure[]): this {
    this.failures.push(...failures.map((failure) => ({ method, match, failure })));
    return this;
  }

  /** A response URL for an interaction payload. */
  responseUrl(id: string): string {
    return `${this.origin}/actions/T0STUB/${id}`;
  }

  callsOf(method: string, where: (args: Record<string, any>) => boolean = () => true): SlackCall[] {
    return this.calls.filter((call) => call.method === method && where(call.args));
  }

  protected async handle(request: IncomingMessage, response: ServerResponse, raw: string) {
    const url = new URL(request.url ?? '/', 'http://stub');
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith('/actions/')) {
      this.responses.push({ path: url.pathname, body: JSON.parse(raw) });
      return json(200, { ok: true });
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const args: Record<string, any> = {};
    for (const [key, value] of new URLSearchParams(raw)) {
      args[key] = ['blocks', 'attachments', 'metadata'].includes(key) ? JSON.parse(value) : value;
    }
    this.calls.push({ method, authorization: request.headers.authorization, args, at: Date.now() });
    const index = this.failures.findIndex((f) => f.method === method && f.match(args));
    const failure = index >= 0 ? this.failures.splice(index, 1)[0]!.failure : undefined;
    if (failure && 'rateLimitedFor' in failure)
      return json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.rateLimitedFor) });
    if (failure) return json(200, { ok: false, error: failure.error });
    if (method === 'chat.postMessage') {
      const channel = String(args.channel ?? '');
      // A member id as the channel is the app's direct message with that user.
      const conversation = /^[UW]/.test(channel) ? `D${channel.slice(1)}` : channel;
      return json(200, {
        ok: true,
        channel: conversation,
        ts: `1700000000.${String(++this.seq).padStart(6, '0')}`,
        message: { text: args.text },
      });
    }
    if (method === 'chat.update') return json(200, { ok: true, channel: args.channel, ts: args.ts, text: args.text });
    return json(200, { ok: false, error: 'unknown_method' });
  }
}
