import type { LeadStore } from '../db/lead-store';
import type { CadenceVersion } from '../domain/cadence';

/** What lead workflows ask of cadences. */
export function cadenceActivities(store: LeadStore['cadences']) {
  return {
    /** The version a lead entering `name` is enrolled on. */
    async currentCadence(name: string): Promise<CadenceVersion> {
      const cadence = await store.current(name);
      if (!cadence) throw new Error(`cadence ${name} has no published version and no default in the configuration`);
      return cadence;
    },
    /** A newer version the lead moves to at this step boundary, or null to stay on its own. */
    async cadenceMigration({ name, version }: { name: string; version: number }): Promise<CadenceVersion | null> {
      return (await store.migrationFrom(name, version)) ?? null;
    },
  };
}
