import { ApplicationFailure, Context } from '@temporalio/activity';
import type { LeadConfig } from '../../domain/config';
import type { Firmographics } from '../../domain/profile';
import { httpProvider } from './http';
export { localProvider } from './local';
import { localProvider } from './local';
import { InvalidEnrichmentResponse, type EnrichmentProvider, type EnrichmentQuery } from './provider';

export type { EnrichmentProvider } from './provider';

/** The provider the configuration names; `apiKey` (`ENRICHMENT_API_KEY`) is the HTTP provider's key. */
export function enrichmentProviderFrom(config: LeadConfig['enrichment'], apiKey?: string): EnrichmentProvider {
  if (config.provider === 'http') {
    return httpProvider({ url: config.http.url!, apiKey, timeout: config.http.timeout, retries: config.http.retries });
  }
  return localProvider();
}

export interface EnrichmentResult {
  provider: string;
  /** null: the provider knows nothing of this lead. */
  firmographics: Firmographics | null;
}

export function enrichmentActivities(provider: EnrichmentProvider) {
  return {
    /** Asks the provider; a garbled answer fails at once (retrying would not help), other failures may be retried. */
    async enrichLead(query: EnrichmentQuery): Promise<EnrichmentResult> {
      try {
        return { provider: provider.name, firmographics: await provider.enrich(query, Context.current().cancellationSignal) };
      } catch (error) {
        if (error instanceof InvalidEnrichmentResponse || error instanceof SyntaxError) {
          throw ApplicationFailure.nonRetryable(
            `${provider.name} enrichment answered garbage: ${error.message}`,
            'InvalidEnrichmentResponse',
          );
        }
        throw error;
      }
    },
  };
}
