import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newPayloadKey } from '../codec/payload-codec';
import { developmentPayloadKeyPrefix } from '../config/env';

/**
 * The embedded stack's payload key (`LEAD_PAYLOAD_KEYS` format), generated on first start and kept
 * beside the data it protects: Temporal's SQLite file holds histories only this key decrypts, so
 * losing the file loses them. The `dev-` id makes the processes refuse it outside the embedded stack.
 */
export function developmentPayloadKeys(dataDir: string, log: (line: string) => void): string {
  const file = join(dataDir, 'payload-keys');
  if (existsSync(file)) {
    log(`payload encryption: development key from ${file}`);
    return readFileSync(file, 'utf8').trim();
  }
  const keys = newPayloadKey(`${developmentPayloadKeyPrefix}${new Date().toISOString().slice(0, 10)}`);
  // Owner-only: the key is as sensitive as the histories it encrypts.
  writeFileSync(file, `${keys}\n`, { mode: 0o600, flag: 'wx' });
  log(
    `payload encryption: generated a development key in ${file} (Temporal histories of this stack are encrypted with it; keep it with the data)`,
  );
  return keys;
}
