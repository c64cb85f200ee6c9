-- Up Migration

-- The funnel report's counts summed per capture day (docs/features/reports.md: a year of 100,000 leads under 200 ms).
-- Scanning every lead of a year window cost ~300 ms on two cores whatever the indexes; a year is 366
-- rows per facet here. Each lead_milestones row counts once in every facet it belongs to:
--   all           (value '')           every figure of the funnel and the SLA
--   source        (its source)         leads, conversions and amount by source
--   reason        (its reason)         disqualified leads by reason ('other' when none was kept)
--   owner         (its owner)          accepted leads and their touches, per rep (accepted leads only)
--   assigned_day  (first assignment)   SLA compliance by day (leads whose SLA outcome is known)
--   bucket        (0–5)                speed-to-lead distribution (responded leads)
--   status        (its status)         aging, the state now by status and day of capture
-- `lead_milestone_counts` says this once: the triggers sum it by facet, and the report groups the
-- leads' own rows by it for what a whole day cannot answer (a window's partial first and last days,
-- and reports filtered by team, source or rep).
--
-- A lead's save only appends what it changed to lead_milestone_day_changes; the worker folds those
-- into lead_milestone_days every few seconds (lead_milestone_days_fold). Updating the sums in the
-- save itself made every save of a lead captured that day wait for the day's row, held until the
-- save committed (speed-to-lead p50 213 ms against 169–187 ms before, at 8 captures/s). The report reads both tables
-- (lead_milestone_day_totals), so it is exact whether or not the latest changes are folded.
CREATE TABLE lead_milestone_days (
  day            date NOT NULL,     -- capture day, UTC
  facet          text NOT NULL,
  value          text NOT NULL,
  leads          integer NOT NULL DEFAULT 0,
  mql            integer NOT NULL DEFAULT 0,
  sql            integer NOT NULL DEFAULT 0,
  converted      integer NOT NULL DEFAULT 0,
  sql_converted  integer NOT NULL DEFAULT 0,
  amount         numeric NOT NULL DEFAULT 0,
  disqualified   integer NOT NULL DEFAULT 0,
  accepted       integer NOT NULL DEFAULT 0,
  touches        integer NOT NULL DEFAULT 0,
  measured       integer NOT NULL DEFAULT 0,
  within_sla     integer NOT NULL DEFAULT 0,
  breached_leads integer NOT NULL DEFAULT 0,
  breaches       integer NOT NULL DEFAULT 0,
  responded      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (day, facet, value)
);
-- A window reads one facet's days, aging every day of one facet.
CREATE INDEX lead_milestone_days_facet_idx ON lead_milestone_days (facet, day);
-- Changes not yet folded in: appended by the triggers, never updated, no index (the fold and the
-- report read them all, and there are a few seconds' worth).
CREATE TABLE lead_milestone_day_changes (LIKE lead_milestone_days INCLUDING DEFAULTS);
CREATE VIEW lead_milestone_day_totals AS
  SELECT * FROM lead_milestone_days UNION ALL SELECT * FROM lead_milestone_day_changes;

-- What one lead adds to the sums, and under which value of each facet (null: not in that facet).
-- Response buckets are those of `responseBuckets` in db/reports.ts (upper bounds inclusive, in
-- minutes: 5, 15, 60, 240, 1440, then open). The report groups leads' own rows by these columns.
CREATE FUNCTION lead_milestone_counts(m lead_milestones)
RETURNS TABLE (day date, source text, reason text, owner text, assigned_day text, bucket text, status text,
               leads int, mql int, sql int, converted int, sql_converted int, amount numeric, disqualified int, accepted int, touches int,
               measured int, within_sla int, breached_leads int, breaches int, responded int)
LANGUAGE sql STABLE AS $$
  SELECT (m.created_at AT TIME ZONE 'UTC')::date,
    m.source,
    CASE WHEN m.status = 'disqualified' THEN COALESCE(m.status_reason, 'other') END,
    CASE WHEN m.accepted_at IS NOT NULL THEN m.owner_id END,
    CASE WHEN m.first_assigned_at IS NOT NULL AND (m.first_response_at IS NOT NULL OR m.sla_breaches > 0)
         THEN to_char(m.first_assigned_day, 'YYYY-MM-DD') END,
    CASE WHEN m.response_ms >= 0 THEN
      CASE WHEN m.response_ms <= 300000 THEN '0' WHEN m.response_ms <= 900000 THEN '1' WHEN m.response_ms <= 3600000 THEN '2'
           WHEN m.response_ms <= 14400000 THEN '3' WHEN m.response_ms <= 86400000 THEN '4' ELSE '5' END END,
    m.status,
    1, (m.mql_at IS NOT NULL)::int, (m.sql_at IS NOT NULL)::int, (m.converted_at IS NOT NULL)::int,
    (m.converted_at IS NOT NULL AND m.sql_at IS NOT NULL)::int,
    CASE WHEN m.converted_at IS NOT NULL THEN COALESCE(m.amount, 0) ELSE 0 END,
    (m.status = 'disqualified')::int, (m.accepted_at IS NOT NULL)::int,
    CASE WHEN m.accepted_at IS NOT NULL THEN m.touches ELSE 0 END,
    -- Known SLA outcome: answered, or breached; within SLA: answered with no breach.
    (m.first_assigned_at IS NOT NULL AND (m.first_response_at IS NOT NULL OR m.sla_breaches > 0))::int,
    (m.first_assigned_at IS NOT NULL AND m.first_response_at IS NOT NULL AND m.sla_breaches = 0)::int,
    (m.sla_breaches > 0)::int, m.sla_breaches, COALESCE(m.response_ms >= 0, false)::int
$$;

-- The same as one row per facet the lead is in: what the triggers add up.
CREATE FUNCTION lead_milestone_facets(m lead_milestones)
RETURNS TABLE (day date, facet text, value text, leads int, mql int, sql int, converted int, sql_converted int, amount numeric,
               disqualified int, accepted int, touches int, measured int, within_sla int, breached_leads int, breaches int, responded int)
LANGUAGE sql STABLE AS $$
  SELECT c.day, f.facet, f.value, c.leads, c.mql, c.sql, c.converted, c.sql_converted, c.amount, c.disqualified, c.accepted, c.touches,
    c.measured, c.within_sla, c.breached_leads, c.breaches, c.responded
  FROM lead_milestone_counts(m) c
  CROSS JOIN LATERAL (VALUES ('all', ''), ('source', c.source), ('reason', c.reason), ('owner', c.owner),
                             ('assigned_day', c.assigned_day), ('bucket', c.bucket), ('status', c.status)) AS f (facet, value)
  WHERE f.value IS NOT NULL
$$;

-- Appends what the rows in `added` add and those in `removed` take away, one row per day, facet
-- and value that changed. No row is shared with another lead's save, so saves never wait on each other.
CREATE FUNCTION lead_milestone_days_apply(removed lead_milestones[], added lead_milestones[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lead_milestone_day_changes (day, facet, value, leads, mql, sql, converted, sql_converted, amount, disqualified, accepted,
    touches, measured, within_sla, breached_leads, breaches, responded)
  SELECT f.day, f.facet, f.value, sum(c.sign * f.leads), sum(c.sign * f.mql), sum(c.sign * f.sql), sum(c.sign * f.converted),
    sum(c.sign * f.sql_converted), sum(c.sign * f.amount), sum(c.sign * f.disqualified), sum(c.sign * f.accepted), sum(c.sign * f.touches),
    sum(c.sign * f.measured), sum(c.sign * f.within_sla), sum(c.sign * f.breached_leads), sum(c.sign * f.breaches), sum(c.sign * f.responded)
  FROM (SELECT -1 AS sign, r AS m FROM unnest(removed) r UNION ALL SELECT 1, a FROM unnest(added) a) c
  CROSS JOIN LATERAL lead_milestone_facets(c.m) f
  GROUP BY f.day, f.facet, f.value
  HAVING sum(c.sign * f.leads) <> 0 OR sum(c.sign * f.mql) <> 0 OR sum(c.sign * f.sql) <> 0
    OR sum(c.sign * f.converted) <> 0 OR sum(c.sign * f.sql_converted) <> 0 OR sum(c.sign * f.amount) <> 0 OR sum(c.sign * f.disqualified) <> 0
    OR sum(c.sign * f.accepted) <> 0 OR sum(c.sign * f.touches) <> 0 OR sum(c.sign * f.measured) <> 0 OR sum(c.sign * f.within_sla) <> 0
    OR sum(c.sign * f.breached_leads) <> 0 OR sum(c.sign * f.breaches) <> 0 OR sum(c.sign * f.responded) <> 0;
END $$;

-- Moves the committed changes into the sums, in one statement: a report sees each change once,
-- before or after. One fold at a time (a second returns at once); rows are written in key order.
-- Answers how many changes it folded.
CREATE FUNCTION lead_milestone_days_fold() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  folded integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lead_milestone_days_fold')) THEN
    RETURN 0;
  END IF;
  WITH moved AS (DELETE FROM lead_milestone_day_changes RETURNING *),
  summed AS (
    INSERT INTO lead_milestone_days AS d
    SELECT day, facet, value, sum(leads), sum(mql), sum(sql), sum(converted), sum(sql_converted), sum(amount), sum(disqualified),
      sum(accepted), sum(touches), sum(measured), sum(within_sla), sum(breached_leads), sum(breaches), sum(responded)
    FROM moved GROUP BY day, facet, value ORDER BY day, facet, value
    ON CONFLICT (day, facet, value) DO UPDATE SET
      leads = d.leads + EXCLUDED.leads, mql = d.mql + EXCLUDED.mql, sql = d.sql + EXCLUDED.sql, converted = d.converted + EXCLUDED.converted,
      sql_converted = d.sql_converted + EXCLUDED.sql_converted, amount = d.amount + EXCLUDED.amount,
      disqualified = d.disqualified + EXCLUDED.disqualified, accepted = d.accepted + EXCLUDED.accepted, touches = d.touches + EXCLUDED.touches,
      measured = d.measured + EXCLUDED.measured, within_sla = d.within_sla + EXCLUDED.within_sla,
      breached_leads = d.breached_leads + EXCLUDED.breached_leads, breaches = d.breaches + EXCLUDED.breaches, responded = d.responded + EXCLUDED.responded
    RETURNING 1)
  SELECT count(*) INTO folded FROM moved;
  RETURN folded;
END $$;

-- Statement triggers with transition tables: a bulk write (a backfill, a seed) sums once, a lead's
-- save sums its one row.
CREATE FUNCTION lead_milestone_days_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM lead_milestone_days_apply('{}', ARRAY(SELECT n::lead_milestones FROM new_rows n));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lead_milestone_days_apply(ARRAY(SELECT o::lead_milestones FROM old_rows o), ARRAY(SELECT n::lead_milestones FROM new_rows n));
  ELSE
    PERFORM lead_milestone_days_apply(ARRAY(SELECT o::lead_milestones FROM old_rows o), '{}');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER lead_milestone_days_insert AFTER INSERT ON lead_milestones REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lead_milestone_days_track();
CREATE TRIGGER lead_milestone_days_update AFTER UPDATE ON lead_milestones REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lead_milestone_days_track();
-- Erasure removes the lead, and its milestones with it (ON DELETE CASCADE): its counts go too.
CREATE TRIGGER lead_milestone_days_delete AFTER DELETE ON lead_milestones REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lead_milestone_days_track();

-- The percentiles sort the leads that have a duration: an index holding just those, so a year's
-- window reads them without visiting every lead. Its columns change once or twice in a lead's
-- life (assignment, first response, SQL, conversion), so the frequent saves stay heap-only.
CREATE INDEX lead_milestones_durations_idx ON lead_milestones (created_at)
  INCLUDE (response_ms, mql_to_sql_ms, sql_to_converted_ms, priority, team_id)
  WHERE response_ms >= 0 OR mql_to_sql_ms IS NOT NULL OR sql_to_converted_ms IS NOT NULL;

-- Reports for one team or one source read their leads' own rows: find the window's leads of that
-- team or source without reading the others. A team changes at routing only, a source never.
CREATE INDEX lead_milestones_team_idx ON lead_milestones (team_id, created_at) WHERE team_id IS NOT NULL;
CREATE INDEX lead_milestones_source_idx ON lead_milestones (source, created_at);

-- The same sums worked out afresh from lead_milestones, set-based.
CREATE VIEW lead_milestone_days_recount AS
  SELECT f.day, f.facet, f.value, sum(f.leads)::int AS leads, sum(f.mql)::int AS mql, sum(f.sql)::int AS sql, sum(f.converted)::int AS converted,
    sum(f.sql_converted)::int AS sql_converted, sum(f.amount) AS amount, sum(f.disqualified)::int AS disqualified, sum(f.accepted)::int AS accepted,
    sum(f.touches)::int AS touches, sum(f.measured)::int AS measured, sum(f.within_sla)::int AS within_sla,
    sum(f.breached_leads)::int AS breached_leads, sum(f.breaches)::int AS breaches, sum(f.responded)::int AS responded
  FROM lead_milestones m CROSS JOIN LATERAL lead_milestone_facets(m) f
  GROUP BY f.day, f.facet, f.value;
-- Replaces the sums with the recount: the migration fills the table so for the leads already there,
-- and a bulk load can run it once instead of summing lead by lead through the triggers. Writes to
-- lead_milestones wait while it runs.
CREATE FUNCTION lead_milestone_days_rebuild() RETURNS void LANGUAGE sql AS $$
  LOCK TABLE lead_milestones IN SHARE MODE;
  DELETE FROM lead_milestone_day_changes;
  DELETE FROM lead_milestone_days;
  INSERT INTO lead_milestone_days SELECT * FROM lead_milestone_days_recount;
$$;
SELECT lead_milestone_days_rebuild();

-- Down Migration
DROP INDEX lead_milestones_source_idx;
DROP INDEX lead_milestones_team_idx;
DROP INDEX lead_milestones_durations_idx;
DROP FUNCTION lead_milestone_days_rebuild();
DROP VIEW lead_milestone_days_recount;
DROP TRIGGER lead_milestone_days_delete ON lead_milestones;
DROP TRIGGER lead_milestone_days_update ON lead_milestones;
DROP TRIGGER lead_milestone_days_insert ON lead_milestones;
DROP FUNCTION lead_milestone_days_track();
DROP FUNCTION lead_milestone_days_fold();
DROP FUNCTION lead_milestone_days_apply(lead_milestones[], lead_milestones[]);
DROP FUNCTION lead_milestone_facets(lead_milestones);
DROP FUNCTION lead_milestone_counts(lead_milestones);
DROP VIEW lead_milestone_day_totals;
DROP TABLE lead_milestone_day_changes;
DROP TABLE lead_milestone_days;
