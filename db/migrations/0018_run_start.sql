-- Up Migration

-- A lead's workflow reads the stored lead in the first workflow task of a new run, as a local
-- activity, and saves it in the same task. If that task fails after its writes committed (a worker
-- killed, a task timed out), its retry reads the lead again and must see it as it was before the
-- run, or it would apply the run's capture twice. The run that last read or inserted the row, and
-- the row as it was when that run first read it (NULL: the run made the lead).
ALTER TABLE leads
  ADD COLUMN run_id    text,
  ADD COLUMN run_start jsonb;

-- Down Migration
ALTER TABLE leads DROP COLUMN run_start, DROP COLUMN run_id;
