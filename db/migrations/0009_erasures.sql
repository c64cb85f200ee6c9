-- Up Migration

-- Erasure on request (docs/features/privacy.md): what is left of an erased lead. Only the pseudonymous lead id,
-- when, who and why: no personal data. A person captured again after an erasure is a new lead
-- under the same id, which can be erased again: hence a row per erasure.
CREATE TABLE erasures (
  id        bigserial PRIMARY KEY,
  lead_id   text NOT NULL,
  erased_at timestamptz NOT NULL DEFAULT now(),
  erased_by text NOT NULL,
  reason    text NOT NULL
);
CREATE INDEX erasures_lead_idx ON erasures (lead_id, erased_at DESC);

-- Down Migration
DROP TABLE erasures;
