/**
 * Keys a lookup found nothing for (an unknown source id, an unknown API key's hash), remembered
 * for `ttlMs` so that a flood of the same unknown key costs one lookup, not one per request
 * (docs/operations/security.md "Floods"). Bounded: past `maxEntries` the oldest is forgotten.
 * Only misses are kept, never what was found: a rotated key or a removed source is not served
 * from here, and a source created later is found once its miss has expired.
 */
export class MissCache {
  /** Key → when its miss expires (ms); a Map iterates in insertion order, oldest first. */
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(key: string): boolean {
    const expires = this.misses.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.misses.delete(key);
    return false;
  }

  add(key: string): void {
    this.misses.delete(key);
    while (this.misses.size >= this.maxEntries) this.misses.delete(this.misses.keys().next().value!);
    this.misses.set(key, this.now() + this.ttlMs);
  }

  delete(key: string): void {
    this.misses.delete(key);
  }

  clear(): void {
    this.misses.clear();
  }

  get size(): number {
    return this.misses.size;
  }
}

/**
 * `lookup` behind a miss cache: a key missed within the TTL is answered undefined without a
 * lookup; `looked` is told of every lookup made (the API's `lead_api_lookups_total`). A failed
 * lookup (Postgres down) is not a miss and is not remembered.
 */
export function withMissCache<T>(lookup: (key: string) => Promise<T | undefined>, misses: MissCache, looked: () => void = () => {}) {
  return async (key: string): Promise<T | undefined> => {
    if (misses.has(key)) return undefined;
    looked();
    const found = await lookup(key);
    if (found === undefined) misses.add(key);
    return found;
  };
}
