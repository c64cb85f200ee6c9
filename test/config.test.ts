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

  it('ships the recycling schedule and the default cadences, and takes a two-minute recycle for acceptance runs', () => {
    const defaults = loadLeadConfig('');
    expect(defaults.recycling.reengagement.map((touch) => touch.at)).toEqual(['P30D', 'P60D', 'P90D']);
    expect(defaults.recycling.archiveAfter).toBe('P90D');
    expect(defaults.aging.acceptedIdleAfter).toBe('P30D');
    expect(defaults.cadences['mql-nurture']!.reduce((days, step) => days + durationMs(step.after) / 86_400_000, 0)).toBe(180);
    expect(defaults.cadences['marketing-pool']).toHaveLength(12);
    const quick = loadLeadConfig(overrideFile({ recycling: { reengagement: [{ at: 'PT1M', channel: 'email', template: 'quick' }], archiveAfter: 'PT2M' } }));
    expect(quick.recycling).toEqual({ reengagement: [{ at: 'PT1M', channel: 'email', template: 'quick' }], archiveAfter: 'PT2M' });
  });

  it('names the key of a bad cadence step or an unordered re-engagement schedule', () => {
    expect(() => loadLeadConfig(overrideFile({ cadences: { 'mql-nurture': [{ after: 'P3D', channel: 'fax', template: 'x' }] } }))).toThrow(/cadences\.mql-nurture\.0\.channel/);
    const unordered = [{ at: 'P60D', channel: 'email', template: 'a' }, { at: 'P30D', channel: 'email', template: 'b' }];
    expect(() => loadLeadConfig(overrideFile({ recycling: { reengagement: unordered } }))).toThrow(/recycling\.reengagement: must be in increasing order/);
  });
});
