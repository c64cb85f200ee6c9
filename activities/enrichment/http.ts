import ky, { HTTPError } from 'ky';
import { durationMs } from '../../domain/duration';
import type { EnrichmentProvider } from './provider';
import { parseFirmographics } from './provider';

export interface HttpProviderOptions {
  url: string;
  apiKey?: string;
  /** Per attempt, ISO-8601. */
  timeout: string;
  retries: number;
}

/**
 * A vendor enrichment API: `POST url` with `{ email, domain, fields }`, bearer key, answering the
 * firmographics as JSON (404: unknown domain). Timeouts and 408/429/5xx are retried with backoff.
 */
export function httpProvider({ url, apiKey, timeout, retries }: HttpProviderOptions): EnrichmentProvider {
  const client = ky.create({
    timeout: durationMs(timeout),
    retry: { limit: retries, methods: ['post'], statusCodes: [408, 429, 500, 502, 503, 504], backoffLimit: 1000 },
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return {
    name: 'http',
    async enrich(query, signal) {
      try {
        const body: unknown = await client.post(url, { json: query, signal }).json();
        return parseFirmographics(body);
      } catch (error) {
        if (error instanceof HTTPError && error.response.status === 404) return null;
        throw error;
      }
    },
  };
}
