-- Up Migration

-- Reports (issue 15): the milestones of each lead's life that the funnel report needs, kept as
-- the timeline is written. The timeline (lead_events) holds them, but reading them there means
-- scanning every event of every lead with JSON lookups: too slow over 100,000 leads. One row per
-- lead that reached any milestone; earliest time wins (a reactivated lead keeps its first funnel
-- pass), so the trigger is safe against events inserted in any order. No personal data.
CREATE TABLE lead_milestones (
  lead_id           text PRIMARY KEY REFERENCES leads (lead_id) ON DELETE CASCADE,
  mql_at            timestamptz,             -- first status_changed to mql, or to sql (a lead scored straight to sales-ready passes MQL then)
  sql_at            timestamptz,             -- first status_changed to sql
  accepted_at       timestamptz,             -- first status_changed to accepted
  converted_at      timestamptz,             -- first status_changed to converted
  amount            numeric,                 -- opportunity amount of the first `converted` event, when given
  first_assigned_at timestamptz,             -- first `assigned` event: the lead given to an owner with an SLA clock
  first_response_at timestamptz,             -- first `responded` event: the owner's accept or touch
  touches           integer NOT NULL DEFAULT 0  -- `touch` events logged by reps
);

CREATE FUNCTION lead_milestones_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_status text;
  new_amount numeric;
BEGIN
  IF NEW.type = 'status_changed' THEN new_status := NEW.data->>'status'; END IF;
  IF NEW.type = 'converted' AND jsonb_typeof(NEW.data->'opportunity'->'amount') = 'number' THEN
    new_amount := (NEW.data->'opportunity'->>'amount')::numeric;
  END IF;
  INSERT INTO lead_milestones AS m (lead_id, mql_at, sql_at, accepted_at, converted_at, amount, first_assigned_at, first_response_at, touches)
  VALUES (
    NEW.lead_id,
    CASE WHEN new_status IN ('mql', 'sql') THEN NEW.at END,
    CASE WHEN new_status = 'sql' THEN NEW.at END,
    CASE WHEN new_status = 'accepted' THEN NEW.at END,
    CASE WHEN new_status = 'converted' THEN NEW.at END,
    new_amount,
    CASE WHEN NEW.type = 'assigned' THEN NEW.at END,
    CASE WHEN NEW.type = 'responded' THEN NEW.at END,
    CASE WHEN NEW.type = 'touch' THEN 1 ELSE 0 END)
  ON CONFLICT (lead_id) DO UPDATE SET
    -- LEAST ignores nulls: each column keeps its earliest time.
    mql_at = LEAST(m.mql_at, EXCLUDED.mql_at),
    sql_at = LEAST(m.sql_at, EXCLUDED.sql_at),
    accepted_at = LEAST(m.accepted_at, EXCLUDED.accepted_at),
    converted_at = LEAST(m.converted_at, EXCLUDED.converted_at),
    amount = COALESCE(m.amount, EXCLUDED.amount),
    first_assigned_at = LEAST(m.first_assigned_at, EXCLUDED.first_assigned_at),
    first_response_at = LEAST(m.first_response_at, EXCLUDED.first_response_at),
    touches = m.touches + EXCLUDED.touches;
  RETURN NULL;
END $$;

CREATE TRIGGER lead_milestones_track AFTER INSERT ON lead_events
  FOR EACH ROW WHEN (NEW.type IN ('status_changed', 'converted', 'assigned', 'responded', 'touch'))
  EXECUTE FUNCTION lead_milestones_track();

-- The same, set-based, from timelines already written (here, and after a bulk load that bypassed
-- the trigger, as the scale benchmark's does).
CREATE FUNCTION lead_milestones_rebuild() RETURNS void LANGUAGE sql AS $$
  INSERT INTO lead_milestones (lead_id, mql_at, sql_at, accepted_at, converted_at, amount, first_assigned_at, first_response_at, touches)
  SELECT lead_id,
    min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' IN ('mql', 'sql')),
    min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'sql'),
    min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'accepted'),
    min(at) FILTER (WHERE type = 'status_changed' AND data->>'status' = 'converted'),
    (array_agg((data->'opportunity'->>'amount')::numeric ORDER BY at, id)
       FILTER (WHERE type = 'converted' AND jsonb_typeof(data->'opportunity'->'amount') = 'number'))[1],
    min(at) FILTER (WHERE type = 'assigned'),
    min(at) FILTER (WHERE type = 'responded'),
    count(*) FILTER (WHERE type = 'touch')
  FROM lead_events
  WHERE type IN ('status_changed', 'converted', 'assigned', 'responded', 'touch')
  GROUP BY lead_id
  ON CONFLICT (lead_id) DO UPDATE SET
    mql_at = EXCLUDED.mql_at, sql_at = EXCLUDED.sql_at, accepted_at = EXCLUDED.accepted_at,
    converted_at = EXCLUDED.converted_at, amount = EXCLUDED.amount, first_assigned_at = EXCLUDED.first_assigned_at,
    first_response_at = EXCLUDED.first_response_at, touches = EXCLUDED.touches;
$$;
SELECT lead_milestones_rebuild();

-- The report's filters: leads captured in a window, of a team or a source.
CREATE INDEX leads_team_created_idx ON leads (team_id, created_at) WHERE team_id IS NOT NULL;
CREATE INDEX leads_source_created_idx ON leads (source, created_at);

-- Down Migration
DROP INDEX leads_source_created_idx;
DROP INDEX leads_team_created_idx;
DROP TRIGGER lead_milestones_track ON lead_events;
DROP FUNCTION lead_milestones_rebuild();
DROP FUNCTION lead_milestones_track();
DROP TABLE lead_milestones;
