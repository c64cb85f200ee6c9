/** Routing choices (docs/design.md, "Routing"): pure, so they are tested without Postgres or Temporal. */

export const segments = ['smb', 'mid_market', 'enterprise'] as const;
export type Segment = (typeof segments)[number];

/** `smb` < 100 employees, `mid_market` 100–999, `enterprise` ≥ 1000; unknown size counts as `smb`. */
export function segmentOf(employees: number | undefined): Segment {
  if (employees === undefined || employees < 100) return 'smb';
  return employees < 1000 ? 'mid_market' : 'enterprise';
}

export interface TerritoryTeam {
  id: string;
  /** Empty: any country. */
  countries: string[];
  /** Empty: any segment. */
  segments: Segment[];
}

/** Why a team does not take a lead: its countries or its segments leave the lead out. */
export type TeamMismatch = 'not_in_territory' | 'not_in_segment';

/** Why `team` does not cover the lead, or undefined when it does. */
export function teamMismatch(team: TerritoryTeam, country: string | undefined, segment: Segment): TeamMismatch | undefined {
  if (team.countries.length > 0 && (country === undefined || !team.countries.includes(country))) return 'not_in_territory';
  if (team.segments.length > 0 && !team.segments.includes(segment)) return 'not_in_segment';
  return undefined;
}

/** The first team, in the given order, whose territory and segments cover the lead. */
export function matchTeam<T extends TerritoryTeam>(teams: T[], country: string | undefined, segment: Segment): T | undefined {
  return teams.find((team) => teamMismatch(team, country, segment) === undefined);
}

export interface RepAvailability {
  active: boolean;
  outOfOfficeUntil: Date | null;
  openLeads: number;
  capacity: number;
}

export type Unavailability = 'inactive' | 'out_of_office' | 'at_capacity';

/** Why a rep is passed over: unavailable, just breached the SLA on this lead (the caller excludes it), or no rep of that id. */
export type RepSkip = Unavailability | 'breached_sla' | 'unknown';

const skipWords: Record<RepSkip, string> = {
  inactive: 'inactive',
  out_of_office: 'out of office',
  at_capacity: 'at capacity',
  breached_sla: 'just breached the SLA',
  unknown: 'unknown',
};

/** A skip as the routing reason words it (`rep-a out of office`). */
export const skipText = (why: RepSkip): string => skipWords[why];

/** Why a rep cannot take a lead now, or undefined when it can. */
export function unavailability(rep: RepAvailability, now: Date): Unavailability | undefined {
  if (!rep.active) return 'inactive';
  if (rep.outOfOfficeUntil && rep.outOfOfficeUntil > now) return 'out_of_office';
  if (rep.openLeads >= rep.capacity) return 'at_capacity';
  return undefined;
}

export interface RoundRobinSlot {
  id: string;
  weight: number;
  /** The rep's virtual time: grows by 1/weight with each lead it takes. */
  virtualTime: number;
  /** When the rep last took a lead (a rising counter): ties go to whoever waited longest. */
  lastAssignment: number;
}

export interface RoundRobinPick {
  repId: string;
  repVirtualTime: number;
  teamVirtualTime: number;
}

/**
 * Weighted round robin over eligible reps by start-time fair queuing: each rep's turn comes at
 * max(its own virtual time, the team's), the earliest turn wins, and taking a lead moves the rep
 * on by 1/weight. Over many assignments each rep's share matches its weight. A rep who was
 * unavailable starts again from the team's virtual time, so it accrues no credit while away and
 * gets no burst of catch-up leads when it returns. Ties go to the rep who has waited longest.
 */
export function pickRep(eligible: RoundRobinSlot[], teamVirtualTime: number): RoundRobinPick | undefined {
  let best: (RoundRobinSlot & { start: number }) | undefined;
  for (const rep of eligible) {
    const start = Math.max(rep.virtualTime, teamVirtualTime);
    if (
      !best ||
      start < best.start - 1e-12 ||
      (Math.abs(start - best.start) <= 1e-12 &&
        (rep.lastAssignment < best.lastAssignment || (rep.lastAssignment === best.lastAssignment && rep.id < best.id)))
    ) {
      best = { ...rep, start };
    }
  }
  return best && { repId: best.id, repVirtualTime: best.start + 1 / best.weight, teamVirtualTime: best.start };
}
