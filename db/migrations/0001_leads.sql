-- Up Migration

-- The system of record for lead data and the read model for lists and timelines.
-- Process state (where a lead is, what it waits for) lives in its Temporal workflow.
CREATE TABLE leads (
  lead_id        text PRIMARY KEY,
  identity_key   text NOT NULL UNIQUE,
  email          text NOT NULL,
  first_name     text,
  last_name      text,
  company        text,
  title          text,
  phone          text,
  country        text,
  employees      integer,
  industry       text,
  source         text NOT NULL,           -- first-touch source, never overwritten
  source_detail  text,
  consent        jsonb NOT NULL DEFAULT '{}'::jsonb,
  status         text NOT NULL DEFAULT 'new',
  status_reason  text,
  owner_id       text,                    -- the rep who owns the lead once it is routed
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_status_idx ON leads (status, created_at);

-- The lead's timeline. event_key makes every write idempotent: Temporal retries activities.
CREATE TABLE lead_events (
  id         bigserial PRIMARY KEY,
  lead_id    text NOT NULL REFERENCES leads (lead_id),
  event_key  text NOT NULL,
  at         timestamptz NOT NULL,
  type       text NOT NULL,
  actor      text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  UNIQUE (lead_id, event_key)
);
CREATE INDEX lead_events_lead_idx ON lead_events (lead_id, at, id);

-- Down Migration
DROP TABLE lead_events;
DROP TABLE leads;
