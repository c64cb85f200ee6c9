import { randomUUID } from 'node:crypto';
import { developmentLeadIdSecret } from '../config/env';
import { leadIdFor } from '../domain/identity';
import { summary, type Summary } from './stats';

/** One HTTP attempt of a capture: its answer (null: a network error or no answer within the attempt's timeout) and how long it took. */
export interface Attempt {
  status: number | null;
  ms: number;
}

/** One capture as a form tool delivers it: every attempt under one Idempotency-Key, the same body each time. */
export interface Delivery {
  leadId: string;
  /** Epoch ms of the first attempt. */
  firstSentAt: number;
  /** First attempt sent → last attempt answered (retry waits included). */
  totalMs: number;
  attempts: Attempt[];
  /** The last attempt's status: 202 taken; null when every attempt failed on the network. */
  status: number | null;
  /** The last answer was a replay of the key's first answer (`Idempotent-Replayed: true`). */
  replayed: boolean;
}

export interface CaptureClientOptions {
  api: string;
  /** The capture API key. */
  key?: string;
  /** Attempts in all per capture (first included). */
  maxAttempts?: number;
  /** An attempt not answered by then is abandoned and counted as a network error. */
  attemptTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A client as a well-behaved form tool: `POST /leads` with an `Idempotency-Key`, retrying with the
 * same key and body after 429 and 503 (waiting their `Retry-After`), after 409
 * `idempotency_key_in_use` (an earlier attempt still being answered, `Retry-After` too) and after
 * network errors or attempts past `attemptTimeoutMs` (1 s), up to `maxAttempts` attempts.
 */
export function captureClient({ api, key = 'capture-dev', maxAttempts = 8, attemptTimeoutMs = 30_000 }: CaptureClientOptions) {
  return async function deliver(
    body: { email: string } & Record<string, unknown>,
    idempotencyKey: string = randomUUID(),
  ): Promise<Delivery> {
    const payload = JSON.stringify(body);
    const attempts: Attempt[] = [];
    const firstSentAt = Date.now();
    const first = performance.now();
    let replayed = false;
    for (;;) {
      const sent = performance.now();
      let status: number | null = null;
      let waitMs = 1000;
      try {
        const r = await fetch(`${api}/leads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: payload,
          signal: AbortSignal.timeout(attemptTimeoutMs),
        });
        const answer = await r.text();
        status = r.status;
        replayed = r.headers.get('idempotent-replayed') === 'true';
        const retryAfter = Number(r.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = retryAfter * 1000;
        if (status === 409 && !answer.includes('idempotency_key_in_use')) waitMs = -1; // a conflict of another kind: final
      } catch {
        // A network error or the attempt's timeout: retried like a 503.
      }
      attempts.push({ status, ms: performance.now() - sent });
      const retryable = status === null || status === 429 || status === 503 || (status === 409 && waitMs >= 0);
      if (!retryable || attempts.length >= maxAttempts) {
        return {
          leadId: leadIdFor(body.email, developmentLeadIdSecret),
          firstSentAt,
          totalMs: performance.now() - first,
          attempts,
          status,
          replayed,
        };
      }
      await sleep(waitMs);
    }
  };
}

export interface DeliveryFigures {
  captures: number;
  /** Finally taken (202). */
  accepted: number;
  /** Given up: out of attempts, or a final error answer. */
  failed: number;
  attempts: number;
  /** Answers by status among all attempts ("network": no answer). */
  answers: Record<string, number>;
  answers503: number;
  /** Final answers that were replays of the key's first answer. */
  replayed: number;
  /** Each attempt answered (any status): send → answer. */
  perAttempt: Summary;
  /** Each capture finally taken: first send → the 202, retries and their waits included. */
  endToEnd: Summary;
}

export function deliveryFigures(deliveries: Delivery[]): DeliveryFigures {
  const answers: Record<string, number> = {};
  for (const d of deliveries) for (const a of d.attempts) answers[a.status ?? 'network'] = (answers[a.status ?? 'network'] ?? 0) + 1;
  const accepted = deliveries.filter((d) => d.status === 202);
  return {
    captures: deliveries.length,
    accepted: accepted.length,
    failed: deliveries.length - accepted.length,
    attempts: deliveries.reduce((n, d) => n + d.attempts.length, 0),
    answers,
    answers503: answers['503'] ?? 0,
    replayed: deliveries.filter((d) => d.replayed).length,
    perAttempt: summary(deliveries.flatMap((d) => d.attempts.filter((a) => a.status !== null).map((a) => a.ms))),
    endToEnd: summary(accepted.map((d) => d.totalMs)),
  };
}

/** "1000 captures, 1032 attempts (503: 30, network: 2), 998 taken, 2 given up, 12 replayed". */
export function deliveryText(f: DeliveryFigures): string {
  const others = Object.entries(f.answers).filter(([status]) => status !== '202');
  return (
    `${f.captures} captures, ${f.attempts} attempts${others.length ? ` (${others.map(([s, n]) => `${s}: ${n}`).join(', ')})` : ''}, ` +
    `${f.accepted} taken, ${f.failed} given up${f.replayed ? `, ${f.replayed} answered by replay` : ''}`
  );
}
