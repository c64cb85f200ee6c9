-- Up Migration

-- Routing decisions by routing key (docs/features/routing.md). Routing runs as a local activity: if the worker dies
-- after its transaction committed but before the workflow task completed, the task runs again on
-- another worker and calls routing again. The workflow gives each routing decision a key that is
-- the same in every attempt of that task; routing answers a key it has seen with the assignment it
-- took then, instead of picking the next rep of the round robin over the first owner.
CREATE TABLE routing_decisions (
  lead_id     text NOT NULL REFERENCES leads (lead_id) ON DELETE CASCADE,
  routing_key text NOT NULL,
  assignment  jsonb NOT NULL,          -- what routing answered: owner, team, reason, SLA terms
  decided_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (lead_id, routing_key)
);

-- Down Migration
DROP TABLE routing_decisions;
