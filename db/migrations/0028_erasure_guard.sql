-- Up Migration

-- An erasure terminates the lead's workflow before it deletes the rows, but a save the worker had
-- already sent (a local activity under way when the run was terminated) can still arrive after the
-- delete and write the lead back. The erasure records the runs it erased, and a save by one of them
-- is refused.
ALTER TABLE erasures ADD COLUMN run_ids text[] NOT NULL DEFAULT '{}';

-- The lock that orders a lead's erasure and its saves: saves share it, the erasure takes it alone
-- (db/privacy.ts). A save under way when the erasure begins commits before the erasure deletes; a
-- save that begins during the erasure waits for its commit and then sees the tombstone.
CREATE FUNCTION lead_lock_key(lead_id text) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT hashtextextended('lead:' || lead_id, 0) $$;

-- A BEFORE INSERT trigger, because every save is an INSERT … ON CONFLICT DO UPDATE whose run_id is
-- the saving run (db/leads.ts `writeLead`), and such a trigger fires before the conflict check
-- locks the lead's row (https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT):
-- taking the lock after the row would deadlock with an erasure holding the lock and waiting for
-- the row. A trigger function's queries each take a fresh snapshot under READ COMMITTED, so the
-- check sees a tombstone committed while the save waited for the lock.
CREATE FUNCTION lead_save_guard() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(lead_lock_key(NEW.lead_id));
  IF EXISTS (SELECT 1 FROM erasures WHERE lead_id = NEW.lead_id AND NEW.run_id = ANY (run_ids)) THEN
    RAISE EXCEPTION 'lead % was erased: its run % may not save it', NEW.lead_id, NEW.run_id
      USING ERRCODE = 'LO001', HINT = 'the erasure terminated this run; a new capture makes a fresh lead';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER leads_save_guard BEFORE INSERT ON leads
  FOR EACH ROW WHEN (NEW.run_id IS NOT NULL) EXECUTE FUNCTION lead_save_guard();

-- Down Migration
DROP TRIGGER leads_save_guard ON leads;
DROP FUNCTION lead_save_guard();
DROP FUNCTION lead_lock_key(text);
ALTER TABLE erasures DROP COLUMN run_ids;
