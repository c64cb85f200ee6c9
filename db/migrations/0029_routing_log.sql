-- Up Migration

-- The routing log (docs/features/routing.md, "The routing log"): each routing decision with the rep
-- and team it chose, its outcome and its reason path (domain/routing-decision.ts), searchable by
-- rep, team and time. Written by the INSERT that already remembers the decision under its routing
-- key (db/routing.ts assignLead), so routing sends no statement more. Rows decided before this
-- migration get their rep, team and outcome from their assignment, and no path.
ALTER TABLE routing_decisions
  ADD COLUMN rep_id  text,
  ADD COLUMN team_id text,
  ADD COLUMN outcome text,
  ADD COLUMN path    jsonb;

UPDATE routing_decisions SET
  rep_id  = assignment->>'ownerId',
  team_id = assignment->>'teamId',
  outcome = CASE
    WHEN assignment->>'ownerId' IS NULL THEN 'unassigned'
    WHEN assignment->>'reason' LIKE 'account % is owned by %' THEN 'account_owner'
    ELSE 'round_robin'
  END;

ALTER TABLE routing_decisions
  ALTER COLUMN outcome SET NOT NULL,
  ADD CONSTRAINT routing_decisions_outcome_check CHECK (outcome IN ('account_owner', 'round_robin', 'unassigned'));

-- A rep's or a team's decisions, newest first; the whole log pages on routing_decisions_decided_idx (0022).
CREATE INDEX routing_decisions_rep_idx ON routing_decisions (rep_id, decided_at) WHERE rep_id IS NOT NULL;
CREATE INDEX routing_decisions_team_idx ON routing_decisions (team_id, decided_at) WHERE team_id IS NOT NULL;

-- Down Migration
DROP INDEX routing_decisions_team_idx;
DROP INDEX routing_decisions_rep_idx;
ALTER TABLE routing_decisions
  DROP CONSTRAINT routing_decisions_outcome_check,
  DROP COLUMN path,
  DROP COLUMN outcome,
  DROP COLUMN team_id,
  DROP COLUMN rep_id;
