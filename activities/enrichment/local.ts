import { readFileSync } from 'node:fs';
import type { EnrichmentProvider } from './provider';
import { parseFirmographics } from './provider';

const datasetPath = new URL('./dataset.json', import.meta.url);

/** Enrichment from the project's own dataset of company domains (`dataset.json`), loaded once. */
export function localProvider(path: URL | string = datasetPath): EnrichmentProvider {
  let companies: Record<string, unknown> | undefined;
  return {
    name: 'local',
    async enrich({ domain }) {
      companies ??= (JSON.parse(readFileSync(path, 'utf8')) as { companies: Record<string, unknown> }).companies;
      const entry = companies[domain];
      return entry ? parseFirmographics(entry) : null;
    },
  };
}
