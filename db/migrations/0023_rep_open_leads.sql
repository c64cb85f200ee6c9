-- Up Migration

-- Each rep's open leads (owned, `sql` or `accepted`: what counts against capacity), kept on the
-- rep's row. Routing locks a team's reps and then needs their counts: counted from `leads`, that
-- was a statement of its own under the team's lock (a statement that starts before the lock is
-- granted reads what was committed before it, so it could not share the locking one), scanning
-- every open lead of the team's reps, on every routing of that team. Read from the locked rows
-- instead, the counts come with the lock in one statement: a row locked FOR UPDATE is read in its
-- newest committed version (https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED).
ALTER TABLE reps ADD COLUMN open_leads integer NOT NULL DEFAULT 0;

UPDATE reps r SET open_leads = o.n
FROM (SELECT owner_id, count(*)::int AS n FROM leads WHERE status IN ('sql', 'accepted') AND owner_id IS NOT NULL GROUP BY owner_id) o
WHERE r.id = o.owner_id;

-- Kept by a row trigger on `leads` so that every path that writes a lead (saves, routing, actions,
-- erasure, retention) keeps it exact. Its WHEN clauses let a write that changes neither the owner nor
-- whether the lead is open pass without running it: a new lead runs it once, when it is assigned.
CREATE FUNCTION rep_open_leads_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.owner_id IS NOT NULL AND OLD.status IN ('sql', 'accepted') THEN
    UPDATE reps SET open_leads = open_leads - 1 WHERE id = OLD.owner_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.owner_id IS NOT NULL AND NEW.status IN ('sql', 'accepted') THEN
    UPDATE reps SET open_leads = open_leads + 1 WHERE id = NEW.owner_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER rep_open_leads_insert AFTER INSERT ON leads FOR EACH ROW
  WHEN (NEW.owner_id IS NOT NULL AND NEW.status IN ('sql', 'accepted'))
  EXECUTE FUNCTION rep_open_leads_track();
CREATE TRIGGER rep_open_leads_update AFTER UPDATE OF owner_id, status ON leads FOR EACH ROW
  WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id
        OR (OLD.status IN ('sql', 'accepted')) IS DISTINCT FROM (NEW.status IN ('sql', 'accepted')))
  EXECUTE FUNCTION rep_open_leads_track();
CREATE TRIGGER rep_open_leads_delete AFTER DELETE ON leads FOR EACH ROW
  WHEN (OLD.owner_id IS NOT NULL AND OLD.status IN ('sql', 'accepted'))
  EXECUTE FUNCTION rep_open_leads_track();

-- Down Migration
DROP TRIGGER rep_open_leads_delete ON leads;
DROP TRIGGER rep_open_leads_update ON leads;
DROP TRIGGER rep_open_leads_insert ON leads;
DROP FUNCTION rep_open_leads_track();
ALTER TABLE reps DROP COLUMN open_leads;
