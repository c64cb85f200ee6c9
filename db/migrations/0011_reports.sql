-- Up Migration

-- Reports (docs/features/reports.md): one narrow row per lead with what the funnel report reads, so that it scans
-- this table alone and fast (100,000 leads well under 200 ms) instead of the wide lead rows joined
-- to every timeline event with JSON lookups. Two triggers keep it: one copies the lead's status,
-- source, team, owner, priority and breaches from `leads` when they change; one keeps the
-- milestones of its life from `lead_events` as the timeline is written (the earliest time wins, so a
-- reactivated lead keeps its first funnel pass, and events may arrive in any order). No personal data.
CREATE TABLE lead_milestones (
  lead_id           text PRIMARY KEY REFERENCES leads (lead_id) ON DELETE CASCADE,
  -- Copied from leads.
  created_at        timestamptz NOT NULL,
  source            text NOT NULL,
  status            text NOT NULL,
  status_reason     text,
  team_id           text,
  owner_id          text,
  priority          text,
  sla_breaches      integer NOT NULL DEFAULT 0,
  -- From the timeline.
  mql_at            timestamptz,             -- first status_changed to mql, or to sql (a lead scored straight to sales-ready passes MQL then)
  sql_at            timestamptz,             -- first status_changed to sql
  accepted_at       timestamptz,             -- first status_changed to accepted
  converted_at      timestamptz,             -- first status_changed to converted
  amount            numeric,                 -- opportunity amount of the first `converted` event, when given
  first_assigned_at timestamptz,             -- first `assigned` event: the lead given to an owner with an SLA clock
  first_response_at timestamptz,             -- first `responded` event: the owner's accept or touch
  touches           integer NOT NULL DEFAULT 0,  -- `touch` events logged by reps
  -- Worked out once when written rather than for every lead of every report.
  response_ms         double precision GENERATED ALWAYS AS (date_part('epoch', first_response_at - first_assigned_at) * 1000) STORED,
  mql_to_sql_ms       double precision GENERATED ALWAYS AS (date_part('epoch', sql_at - mql_at) * 1000) STORED,
  sql_to_converted_ms double precision GENERATED ALWAYS AS (date_part('epoch', converted_at - sql_at) * 1000) STORED,
  first_assigned_day  date GENERATED ALWAYS AS ((first_assigned_at AT TIME ZONE 'UTC')::date) STORED
) WITH (fillfactor = 80);  -- room in each page for the row's next versions (heap-only updates: the timeline columns are not indexed)
-- The window (leads captured in [from, to)), a rep's own leads, and aging (open leads by status and age).
CREATE INDEX lead_milestones_created_idx ON lead_milestones (created_at);
CREATE INDEX lead_milestones_owner_idx ON lead_milestones (owner_id, created_at) WHERE owner_id IS NOT NULL;
CREATE INDEX lead_milestones_status_idx ON lead_milestones (status, created_at);
-- Rep load and the unassigned queue: the few open sales-ready leads, not every lead.
CREATE INDEX lead_milestones_open_owner_idx ON lead_milestones (owner_id) WHERE status IN ('sql', 'accepted');
CREATE INDEX lead_milestones_unassigned_idx ON lead_milestones (created_at, lead_id) WHERE owner_id IS NULL AND status = 'sql';

CREATE FUNCTION lead_milestones_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lead_milestones (lead_id, created_at, source, status, status_reason, team_id, owner_id, priority, sla_breaches)
  VALUES (NEW.lead_id, NEW.created_at, NEW.source, NEW.status, NEW.status_reason, NEW.team_id, NEW.owner_id, NEW.priority, NEW.sla_breaches)
  ON CONFLICT (lead_id) DO UPDATE SET
    created_at = EXCLUDED.created_at, source = EXCLUDED.source, status = EXCLUDED.status, status_reason = EXCLUDED.status_reason,
    team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, priority = EXCLUDED.priority, sla_breaches = EXCLUDED.sla_breaches;
  RETURN NULL;
END $$;
CREATE TRIGGER lead_milestones_insert AFTER INSERT ON leads
  FOR EACH ROW EXECUTE FUNCTION lead_milestones_copy();
-- Every save rewrites the whole lead row: copy only when a reported column changed.
CREATE TRIGGER lead_milestones_update AFTER UPDATE ON leads
  FOR EACH ROW WHEN ((OLD.created_at, OLD.source, OLD.status, OLD.status_reason, OLD.team_id, OLD.owner_id, OLD.priority, OLD.sla_breaches)
                     IS DISTINCT FROM (NEW.created_at, NEW.source, NEW.status, NEW.status_reason, NEW.team_id, NEW.owner_id, NEW.priority, NEW.sla_breaches))
  EXECUTE FUNCTION lead_milestones_copy();

CREATE FUNCTION lead_milestones_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_status text;
  new_amount numeric;
BEGIN
  IF NEW.type = 'status_changed' THEN new_status := NEW.data->>'status'; END IF;
  IF NEW.type = 'converted' AND jsonb_typeof(NEW.data->'opportunity'->'amount') = 'number' THEN
    new_amount := (NEW.data->'opportunity'->>'amount')::numeric;
  END IF;
  -- The row exists: the lead's insert made it (an event references its lead), before this migration the backfill below.
  UPDATE lead_milestones m SET
    -- LEAST ignores nulls: each column keeps its earliest time.
    mql_at = LEAST(m.mql_at, CASE WHEN new_status IN ('mql', 'sql') THEN NEW.at END),
    sql_at = LEAST(m.sql_at, CASE WHEN new_status = 'sql' THEN NEW.at END),
    accepted_at = LEAST(m.accepted_at, CASE WHEN new_status = 'accepted' THEN NEW.at END),
    converted_at = LEAST(m.converted_at, CASE WHEN new_status = 'converted' THEN NEW.at END),
    amount = COALESCE(m.amount, new_amount),
    first_assigned_at = LEAST(m.first_assigned_at, CASE WHEN NEW.type = 'assigned' THEN NEW.at END),
    first_response_at = LEAST(m.first_response_at, CASE WHEN NEW.type = 'responded' THEN NEW.at END),
    touches = m.touches + CASE WHEN NEW.type = 'touch' THEN 1 ELSE 0 END
  WHERE m.lead_id = NEW.lead_id;
  RETURN NULL;
END $$;
CREATE TRIGGER lead_milestones_track AFTER INSERT ON lead_events
  FOR EACH ROW WHEN (NEW.type IN ('status_changed', 'converted', 'assigned', 'responded', 'touch'))
  EXECUTE FUNCTION lead_milestones_track();

-- The same, set-based, from the leads and timelines already written.
CREATE FUNCTION lead_milestones_rebuild() RETURNS void LANGUAGE sql AS $$
  INSERT INTO lead_milestones (lead_id, created_at, source, status, status_reason, team_id, owner_id, priority, sla_breaches,
    mql_at, sql_at, accepted_at, converted_at, amount, first_assigned_at, first_response_at, touches)
  SELECT l.lead_id, l.created_at, l.source, l.status, l.status_reason, l.team_id, l.owner_id, l.priority, l.sla_breaches,
    e.mql_at, e.sql_at, e.accepted_at, e.converted_at, e.amount, e.first_assigned_at, e.first_response_at, COALESCE(e.touches, 0)
  FROM leads l LEFT JOIN (
    SELECT lead_id,
      min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' IN ('mql', 'sql')) AS mql_at,
      min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'sql') AS sql_at,
      min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'accepted') AS accepted_at,
      min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'converted') AS converted_at,
      (array_agg((data->'opportunity'->>'amount')::numeric ORDER BY at, id)
         FILTER (WHERE type = 'converted' AND jsonb_typeof(data->'opportunity'->'amount') = 'number'))[1] AS amount,
      min(at) FILTER (WHERE type = 'assigned') AS first_assigned_at,
      min(at) FILTER (WHERE type = 'responded') AS first_response_at,
      count(*) FILTER (WHERE type = 'touch')::int AS touches
    FROM lead_events
    WHERE type IN ('status_changed', 'converted', 'assigned', 'responded', 'touch')
    GROUP BY lead_id
  ) e USING (lead_id)
  ON CONFLICT (lead_id) DO UPDATE SET
    created_at = EXCLUDED.created_at, source = EXCLUDED.source, status = EXCLUDED.status, status_reason = EXCLUDED.status_reason,
    team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, priority = EXCLUDED.priority, sla_breaches = EXCLUDED.sla_breaches,
    mql_at = EXCLUDED.mql_at, sql_at = EXCLUDED.sql_at, accepted_at = EXCLUDED.accepted_at,
    converted_at = EXCLUDED.converted_at, amount = EXCLUDED.amount, first_assigned_at = EXCLUDED.first_assigned_at,
    first_response_at = EXCLUDED.first_response_at, touches = EXCLUDED.touches;
$$;
SELECT lead_milestones_rebuild();

-- Down Migration
DROP TRIGGER lead_milestones_track ON lead_events;
DROP TRIGGER lead_milestones_update ON leads;
DROP TRIGGER lead_milestones_insert ON leads;
DROP FUNCTION lead_milestones_rebuild();
DROP FUNCTION lead_milestones_track();
DROP FUNCTION lead_milestones_copy();
DROP TABLE lead_milestones;
