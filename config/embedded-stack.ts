import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The proof that a process runs on an embedded development stack (docs/operations/security.md): the
 * process that started Postgres and Temporal itself (`npm start`, `start:cluster`, the bench, the
 * tests) writes a per-start random token and the loopback addresses it started into a file of its
 * data directory, and gives its children the token (`LEAD_EMBEDDED_STACK`) and the directory
 * (`LEAD_DATA_DIR`). A copied variable proves nothing elsewhere: the file is not there, or names
 * other services than the ones the process was given.
 */
export interface EmbeddedStackProof {
  databaseUrl: string;
  temporalAddress: string;
}

const proofFile = (dataDir: string) => join(dataDir, 'embedded-stack.json');

/** Writes a new proof (a new token per start) and answers the variables the children need. */
export function writeEmbeddedStackProof(
  dataDir: string,
  started: EmbeddedStackProof,
): { LEAD_EMBEDDED_STACK: string; LEAD_DATA_DIR: string } {
  const token = randomBytes(32).toString('base64url');
  writeFileSync(proofFile(dataDir), JSON.stringify({ token, ...started }), { mode: 0o600 });
  return { LEAD_EMBEDDED_STACK: token, LEAD_DATA_DIR: dataDir };
}

/** Loopback only: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

const hostOfAddress = (address: string) => address.replace(/:\d+$/, '');

/**
 * Why the embedded stack is not proven, or undefined when it is: the token matches the file's, the
 * process's DATABASE_URL and TEMPORAL_ADDRESS are the ones the file names, and both are on loopback.
 */
export function embeddedStackUnproven(env: {
  LEAD_EMBEDDED_STACK?: string;
  LEAD_DATA_DIR?: string;
  DATABASE_URL?: string;
  TEMPORAL_ADDRESS?: string;
}): string | undefined {
  if (!env.LEAD_EMBEDDED_STACK) return 'LEAD_EMBEDDED_STACK is not set';
  if (!env.LEAD_DATA_DIR) return 'LEAD_EMBEDDED_STACK is set without LEAD_DATA_DIR';
  let proof: Partial<EmbeddedStackProof & { token: string }>;
  try {
    proof = JSON.parse(readFileSync(proofFile(env.LEAD_DATA_DIR), 'utf8'));
  } catch {
    return `LEAD_EMBEDDED_STACK is set but ${proofFile(env.LEAD_DATA_DIR)} (written by the process that starts the embedded stack) is missing`;
  }
  if (proof.token !== env.LEAD_EMBEDDED_STACK) return 'LEAD_EMBEDDED_STACK does not match the token of the embedded stack that was started';
  if (proof.databaseUrl !== env.DATABASE_URL || proof.temporalAddress !== env.TEMPORAL_ADDRESS) {
    return 'DATABASE_URL or TEMPORAL_ADDRESS is not the embedded stack that was started';
  }
  let databaseHost: string;
  try {
    databaseHost = new URL(proof.databaseUrl!).hostname;
  } catch {
    return 'DATABASE_URL is not a URL';
  }
  if (!isLoopbackHost(databaseHost) || !isLoopbackHost(hostOfAddress(proof.temporalAddress!))) {
    return 'DATABASE_URL or TEMPORAL_ADDRESS is not on loopback';
  }
  return undefined;
}
