import { describe, expect, it } from 'vitest';
import { MissCache, withMissCache } from './miss-cache';

describe('MissCache', () => {
  it('remembers a miss for its TTL only', () => {
    let now = 1000;
    const misses = new MissCache(30_000, 10, () => now);
    misses.add('src_a');
    expect(misses.has('src_a')).toBe(true);
    now += 29_999;
    expect(misses.has('src_a')).toBe(true);
    now += 1;
    expect(misses.has('src_a')).toBe(false);
    expect(misses.size).toBe(0);
  });

  it('holds at most maxEntries, forgetting the oldest first', () => {
    const misses = new MissCache(60_000, 3);
    for (const key of ['a', 'b', 'c', 'd']) misses.add(key);
    expect(misses.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((key) => misses.has(key))).toEqual([false, true, true, true]);
  });
});

describe('withMissCache', () => {
  it('looks an unknown key up once per TTL, a known one every time, and does not remember a failed lookup', async () => {
    let now = 0;
    const calls: string[] = [];
    let failing = false;
    const lookup = withMissCache(
      async (key: string) => {
        calls.push(key);
        if (failing) throw new Error('connection refused');
        return key === 'known' ? { id: key } : undefined;
      },
      new MissCache(1000, 100, () => now),
    );
    for (let i = 0; i < 5; i++) expect(await lookup('unknown')).toBeUndefined();
    expect(await lookup('known')).toEqual({ id: 'known' });
    expect(await lookup('known')).toEqual({ id: 'known' });
    expect(calls).toEqual(['unknown', 'known', 'known']);
    now = 1000;
    failing = true;
    await expect(lookup('other')).rejects.toThrow('connection refused');
    failing = false;
    expect(await lookup('other')).toBeUndefined();
    expect(await lookup('unknown')).toBeUndefined();
    expect(calls).toEqual(['unknown', 'known', 'known', 'other', 'other', 'unknown']);
  });
});
