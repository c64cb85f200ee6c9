import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Environment of every process (README, "Configuration"). Unset values fall back to the embedded development stack. */
const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('leads'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  API_KEYS: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  NOTIFY_WEBHOOK_URL: z.string().url().optional(),
  LEAD_CONFIG: z.string().optional(),
});
export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export const defaultTemporalAddress = 'localhost:7233';

/** How to reach Temporal: the dev server by default, or a cluster / Temporal Cloud (API key or mTLS). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer };
  apiKey?: string;
  metadata?: Record<string, string>;
}

export function temporalConnectionOptions(env: Env): TemporalConnectionOptions {
  const mtls = env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY;
  const tls =
    mtls || env.TEMPORAL_TLS_CA
      ? {
          clientCertPair: mtls
            ? { crt: readFileSync(env.TEMPORAL_TLS_CERT!), key: readFileSync(env.TEMPORAL_TLS_KEY!) }
            : undefined,
          serverRootCACertificate: env.TEMPORAL_TLS_CA ? readFileSync(env.TEMPORAL_TLS_CA) : undefined,
        }
      : env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY
        ? true
        : undefined;
  return {
    address: env.TEMPORAL_ADDRESS ?? defaultTemporalAddress,
    tls: env.TEMPORAL_TLS === 'false' ? false : tls,
    apiKey: env.TEMPORAL_API_KEY,
    metadata: env.TEMPORAL_API_KEY ? { 'temporal-namespace': env.TEMPORAL_NAMESPACE } : undefined,
  };
}

/** Base URL of the Temporal Web UI, for the `temporalUiUrl` of each lead. */
export function temporalUiUrl(env: Env): string {
  if (env.TEMPORAL_UI_URL) return env.TEMPORAL_UI_URL;
  return env.TEMPORAL_ADDRESS?.includes('.tmprl.cloud') ? 'https://cloud.temporal.io' : 'http://localhost:8233';
}
