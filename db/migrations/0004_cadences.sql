-- Up Migration

-- Nurture cadences (docs/design.md, "Nurture cadences"): named, versioned lists of steps. A published
-- version is never changed: leads enrolled on it are pinned to it.
CREATE TABLE cadences (
  name          text NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  steps         jsonb NOT NULL,            -- [{ after, channel, template }]
  migrate       text NOT NULL CHECK (migrate IN ('pinned', 'next_step')),
  published_at  timestamptz NOT NULL DEFAULT now(),
  published_by  text NOT NULL,             -- "defaults" (configuration) or the API key's role
  PRIMARY KEY (name, version)
);

CREATE FUNCTION cadences_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cadence % version % is published and cannot change', OLD.name, OLD.version;
END $$;
CREATE TRIGGER cadences_immutable BEFORE UPDATE OR DELETE ON cadences
  FOR EACH ROW EXECUTE FUNCTION cadences_immutable();

-- The lead's place in its cadence ({ name, version, step, enrolledAt, stepAt, nextStepAt, steps }), null when not enrolled.
ALTER TABLE leads ADD COLUMN cadence jsonb;
CREATE INDEX leads_cadence_idx ON leads ((cadence->>'name'), ((cadence->>'version')::int)) WHERE cadence IS NOT NULL;

-- Down Migration
DROP INDEX leads_cadence_idx;
ALTER TABLE leads DROP COLUMN cadence;
DROP TABLE cadences;
DROP FUNCTION cadences_immutable();
