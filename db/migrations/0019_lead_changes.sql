-- Up Migration

-- The funnel report's tables are no longer kept by the saves themselves. 0011's row triggers ran in
-- every save (one per lead row written, one per milestone event), and each of their writes to
-- lead_milestones fired 0017's statement triggers: fifteen trigger executions, each a statement or
-- more, for one new lead up to routed. A save now only appends its lead's id to lead_changes, in
-- the statement that writes the lead (db/leads.ts). The worker's background loop
-- (worker/day-sums.ts, lead_reports_fold below) works out those leads' lead_milestones rows afresh
-- from `leads` and `lead_events`, set-based, and folds the per-day sums, in one transaction. A
-- report works out the leads changed since that fold afresh too (lead_milestones_live,
-- lead_milestone_day_totals), so it is exact whether or not the worker has caught up.
DROP TRIGGER lead_milestones_track ON lead_events;
DROP TRIGGER lead_milestones_update ON leads;
DROP TRIGGER lead_milestones_insert ON leads;
DROP FUNCTION lead_milestones_track();
DROP FUNCTION lead_milestones_copy();

-- Leads whose row or timeline changed since the last fold, one row per write: appended, never
-- updated, deleted by the fold. No index and no foreign key (its check would be a trigger again):
-- a save pays for one small heap row, and the fold and the report read all of it (a few seconds'
-- worth while the worker folds).
CREATE TABLE lead_changes (lead_id text NOT NULL);

-- Every lead's lead_milestones row, worked out afresh from its row in `leads` and its timeline:
-- what 0011's triggers kept and lead_milestones_rebuild() writes (the earliest time of each
-- milestone, the amount of the first `converted` event that has one, the touches), lead by lead
-- through lead_events_lead_idx, so a query for a few leads reads only theirs. The last four columns
-- are lead_milestones' generated columns, by the same expressions as in 0011.
CREATE VIEW lead_milestones_fresh AS
  SELECT l.lead_id, l.created_at, l.source, l.status, l.status_reason, l.team_id, l.owner_id, l.priority, l.sla_breaches,
    e.mql_at, e.sql_at, e.accepted_at, e.converted_at, e.amount, e.first_assigned_at, e.first_response_at, e.touches,
    date_part('epoch', e.first_response_at - e.first_assigned_at) * 1000 AS response_ms,
    date_part('epoch', e.sql_at - e.mql_at) * 1000 AS mql_to_sql_ms,
    date_part('epoch', e.converted_at - e.sql_at) * 1000 AS sql_to_converted_ms,
    (e.first_assigned_at AT TIME ZONE 'UTC')::date AS first_assigned_day
  FROM leads l CROSS JOIN LATERAL (
    SELECT
      min(v.at) FILTER (WHERE v.type = 'status_changed' AND v.data->>'status' IN ('mql', 'sql')) AS mql_at,
      min(v.at) FILTER (WHERE v.type = 'status_changed' AND v.data->>'status' = 'sql') AS sql_at,
      min(v.at) FILTER (WHERE v.type = 'status_changed' AND v.data->>'status' = 'accepted') AS accepted_at,
      min(v.at) FILTER (WHERE v.type = 'status_changed' AND v.data->>'status' = 'converted') AS converted_at,
      (array_agg((v.data->'opportunity'->>'amount')::numeric ORDER BY v.at, v.id)
         FILTER (WHERE v.type = 'converted' AND jsonb_typeof(v.data->'opportunity'->'amount') = 'number'))[1] AS amount,
      min(v.at) FILTER (WHERE v.type = 'assigned') AS first_assigned_at,
      min(v.at) FILTER (WHERE v.type = 'responded') AS first_response_at,
      count(*) FILTER (WHERE v.type = 'touch')::int AS touches
    FROM lead_events v
    WHERE v.lead_id = l.lead_id AND v.type IN ('status_changed', 'converted', 'assigned', 'responded', 'touch')
  ) e;

-- The rows of the leads changed since the last fold, afresh: each fetched by its key (the ids go in
-- as one array; as a join, a report's window conditions led the planner to scan the window's leads
-- instead), and its timeline through lead_events_lead_idx. A function rather than a view, so that a
-- statement reading it in several places plans the view's query once per connection (a PL/pgSQL
-- function keeps its plans), not in every place. STABLE, so it reads with the snapshot of the
-- statement that calls it (https://www.postgresql.org/docs/current/xfunc-volatility.html): the same
-- leads changed, and the same rows, as the rest of that statement sees.
CREATE FUNCTION lead_milestones_changed() RETURNS SETOF lead_milestones LANGUAGE plpgsql STABLE ROWS 50 AS $$
BEGIN
  RETURN QUERY SELECT * FROM lead_milestones_fresh WHERE lead_id = ANY (ARRAY(SELECT lead_id FROM lead_changes));
END $$;

-- lead_milestones as it will be once the leads changed since the last fold are folded: their rows
-- afresh, every other lead's row as stored. What a report reads instead of lead_milestones
-- (db/reports.ts spells it out, to work out the changed rows once per statement). The stored rows
-- are kept by NOT IN, a filter probing a hash of the few changed ids (neither column is
-- ever null, so it means NOT EXISTS); as an anti-join the planner, misled by the small table's
-- ever-changing size, hashed the window's rows instead.
CREATE VIEW lead_milestones_live AS
  SELECT m.* FROM lead_milestones m WHERE m.lead_id NOT IN (SELECT lead_id FROM lead_changes)
  UNION ALL
  SELECT * FROM lead_milestones_changed();

-- What folding the changed leads will do to the per-day sums: each changed lead's counts afresh,
-- less its counts as stored (the sums hold those), one row per lead and facet. A lead erased since
-- has neither: erasure takes its stored row away, and its counts with it (0017's delete trigger).
-- A STABLE PL/pgSQL function for the same reasons as lead_milestones_changed.
CREATE FUNCTION lead_milestone_day_pending() RETURNS SETOF lead_milestone_days LANGUAGE plpgsql STABLE ROWS 300 AS $$
BEGIN
  RETURN QUERY
    SELECT f.* FROM lead_milestones_changed() m CROSS JOIN LATERAL lead_milestone_facets(m) f
    UNION ALL
    SELECT f.day, f.facet, f.value, -f.leads, -f.mql, -f.sql, -f.converted, -f.sql_converted, -f.amount, -f.disqualified, -f.accepted,
      -f.touches, -f.measured, -f.within_sla, -f.breached_leads, -f.breaches, -f.responded
    FROM lead_milestones m CROSS JOIN LATERAL lead_milestone_facets(m) f
    WHERE m.lead_id = ANY (ARRAY(SELECT lead_id FROM lead_changes));
END $$;

-- The sums as the report reads them (db/reports.ts spells it out too): folded, not folded yet
-- (erasures'), and what folding the changed leads will change.
CREATE OR REPLACE VIEW lead_milestone_day_totals AS
  SELECT * FROM lead_milestone_days
  UNION ALL SELECT * FROM lead_milestone_day_changes
  UNION ALL SELECT * FROM lead_milestone_day_pending();

-- The percentiles read the leads that have a duration from this index alone, and rep load the open
-- leads' owners from the next (index-only scans); both now also leave out the changed leads by id,
-- so the indexes carry the id too.
DROP INDEX lead_milestones_durations_idx;
CREATE INDEX lead_milestones_durations_idx ON lead_milestones (created_at)
  INCLUDE (lead_id, response_ms, mql_to_sql_ms, sql_to_converted_ms, priority, team_id)
  WHERE response_ms >= 0 OR mql_to_sql_ms IS NOT NULL OR sql_to_converted_ms IS NOT NULL;
DROP INDEX lead_milestones_open_owner_idx;
CREATE INDEX lead_milestones_open_owner_idx ON lead_milestones (owner_id) INCLUDE (lead_id) WHERE status IN ('sql', 'accepted');

-- Folds the leads changed since the last fold: their lead_milestones rows are written afresh (0017's
-- statement triggers append what that changes in the sums, once for the whole fold), then the sums
-- take those changes in (lead_milestone_days_fold). One transaction; one fold at a time across
-- workers (the same advisory lock as lead_milestone_days_fold: a second fold returns at once).
-- Only the changes committed before it started are taken: a save committed meanwhile keeps its row
-- in lead_changes for the next fold. Each lead is locked FOR KEY SHARE while its row is written, so
-- an erasure (which deletes the lead) waits or is seen, never half; saves lock their lead's row FOR
-- NO KEY UPDATE, which does not conflict, so a fold never makes a save wait
-- (https://www.postgresql.org/docs/current/explicit-locking.html#ROW-LOCK-COMPATIBILITY).
-- Answers how many changes it took: the lead changes, and the per-day changes it folded (its own among them).
CREATE FUNCTION lead_reports_fold() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  changes integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lead_milestone_days_fold')) THEN
    RETURN 0;
  END IF;
  WITH moved AS (DELETE FROM lead_changes RETURNING lead_id),
  kept AS (SELECT lead_id FROM leads WHERE lead_id = ANY (ARRAY(SELECT lead_id FROM moved)) ORDER BY lead_id FOR KEY SHARE),
  written AS (
    INSERT INTO lead_milestones AS m (lead_id, created_at, source, status, status_reason, team_id, owner_id, priority, sla_breaches,
      mql_at, sql_at, accepted_at, converted_at, amount, first_assigned_at, first_response_at, touches)
    SELECT lead_id, created_at, source, status, status_reason, team_id, owner_id, priority, sla_breaches,
      mql_at, sql_at, accepted_at, converted_at, amount, first_assigned_at, first_response_at, touches
    FROM lead_milestones_fresh WHERE lead_id = ANY (ARRAY(SELECT lead_id FROM kept))
    ORDER BY lead_id
    ON CONFLICT (lead_id) DO UPDATE SET
      created_at = EXCLUDED.created_at, source = EXCLUDED.source, status = EXCLUDED.status, status_reason = EXCLUDED.status_reason,
      team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, priority = EXCLUDED.priority, sla_breaches = EXCLUDED.sla_breaches,
      mql_at = EXCLUDED.mql_at, sql_at = EXCLUDED.sql_at, accepted_at = EXCLUDED.accepted_at,
      converted_at = EXCLUDED.converted_at, amount = EXCLUDED.amount, first_assigned_at = EXCLUDED.first_assigned_at,
      first_response_at = EXCLUDED.first_response_at, touches = EXCLUDED.touches
    -- Most saves change nothing the report reads (engagement, scores, the cadence): no new row version then.
    WHERE (m.created_at, m.source, m.status, m.status_reason, m.team_id, m.owner_id, m.priority, m.sla_breaches, m.mql_at, m.sql_at,
           m.accepted_at, m.converted_at, m.amount, m.first_assigned_at, m.first_response_at, m.touches)
      IS DISTINCT FROM (EXCLUDED.created_at, EXCLUDED.source, EXCLUDED.status, EXCLUDED.status_reason, EXCLUDED.team_id, EXCLUDED.owner_id,
           EXCLUDED.priority, EXCLUDED.sla_breaches, EXCLUDED.mql_at, EXCLUDED.sql_at, EXCLUDED.accepted_at, EXCLUDED.converted_at,
           EXCLUDED.amount, EXCLUDED.first_assigned_at, EXCLUDED.first_response_at, EXCLUDED.touches)
    RETURNING 1)
  SELECT count(*) INTO changes FROM moved;
  RETURN changes + lead_milestone_days_fold();
END $$;

-- Nothing to backfill: up to this migration the triggers kept lead_milestones and its sums, and
-- lead_changes starts empty. Should they ever disagree (a bulk load, writes by code older than
-- this migration), marking every lead changed makes the next fold write all of them afresh:
--   INSERT INTO lead_changes SELECT lead_id FROM leads;

-- Down Migration
-- Fold what is pending (waiting for a fold under way), then the triggers keep the tables again.
SELECT pg_advisory_xact_lock(hashtext('lead_milestone_days_fold'));
SELECT lead_reports_fold();
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
  UPDATE lead_milestones m SET
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
DROP FUNCTION lead_reports_fold();
DROP INDEX lead_milestones_open_owner_idx;
CREATE INDEX lead_milestones_open_owner_idx ON lead_milestones (owner_id) WHERE status IN ('sql', 'accepted');
DROP INDEX lead_milestones_durations_idx;
CREATE INDEX lead_milestones_durations_idx ON lead_milestones (created_at)
  INCLUDE (response_ms, mql_to_sql_ms, sql_to_converted_ms, priority, team_id)
  WHERE response_ms >= 0 OR mql_to_sql_ms IS NOT NULL OR sql_to_converted_ms IS NOT NULL;
CREATE OR REPLACE VIEW lead_milestone_day_totals AS
  SELECT * FROM lead_milestone_days UNION ALL SELECT * FROM lead_milestone_day_changes;
DROP FUNCTION lead_milestone_day_pending();
DROP VIEW lead_milestones_live;
DROP FUNCTION lead_milestones_changed();
DROP VIEW lead_milestones_fresh;
DROP TABLE lead_changes;
