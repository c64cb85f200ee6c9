import { readFileSync } from 'node:fs';
import { deepmergeCustom } from 'deepmerge-ts';
import { leadConfigSchema, type LeadConfig } from '../domain/config';
import defaults from './defaults.json' with { type: 'json' };

/** Arrays in an override replace the default list instead of extending it. */
const mergeConfig = deepmergeCustom({ mergeArrays: false });

export class ConfigError extends Error {}

/** Loads the defaults, merges the `LEAD_CONFIG` file (`overridePath`) over them and validates; a bad value names its key. */
export function loadLeadConfig(overridePath: string | undefined): LeadConfig {
  let override: unknown = {};
  if (overridePath) {
    try {
      override = JSON.parse(readFileSync(overridePath, 'utf8'));
    } catch (error) {
      throw new ConfigError(`LEAD_CONFIG ${overridePath}: ${(error as Error).message}`);
    }
  }
  return resolveLeadConfig(override, overridePath);
}

/** The defaults with `override` merged over them, validated. */
export function resolveLeadConfig(override: unknown, origin?: string): LeadConfig {
  const result = leadConfigSchema.safeParse(mergeConfig(defaults, override as object));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid lead configuration${origin ? ` (${origin})` : ''}:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
