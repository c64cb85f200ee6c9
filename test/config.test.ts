import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLeadConfig } from '../config/load';
import { durationMs } from '../domain/duration';

function overrideFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lead-config-')), 'override.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('lead configuration', () => {
  it('ships the seeds default of 90 days of inactivity before an open lead is closed', () => {
    expect(loadLeadConfig('').aging.inactiveDisqualifyAfter).toBe('P90D');
  });

  it('merges a LEAD_CONFIG file over the defaults', () => {
    const config = loadLeadConfig(overrideFile({ aging: { inactiveDisqualifyAfter: 'PT2M' } }));
    expect(durationMs(config.aging.inactiveDisqualifyAfter)).toBe(120_000);
  });

  it('stops with a message naming the key of a bad value', () => {
    expect(() => loadLeadConfig(overrideFile({ aging: { inactiveDisqualifyAfter: 'ninety days' } }))).toThrow(
      /aging\.inactiveDisqualifyAfter: must be a positive ISO-8601 duration/,
    );
  });

  it('rejects unknown keys, which are usually typos', () => {
    expect(() => loadLeadConfig(overrideFile({ agin: {} }))).toThrow(/agin|Unrecognized key/);
  });

  it('names the file when it is not JSON', () => {
    const path = overrideFile('{ not json');
    expect(() => loadLeadConfig(path)).toThrow(path);
  });
});
