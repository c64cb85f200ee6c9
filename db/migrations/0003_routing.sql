-- Up Migration

-- Reps, teams and accounts are data (API + Postgres), not configuration.
CREATE TABLE teams (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  countries      text[] NOT NULL DEFAULT '{}',   -- empty: any country
  segments       text[] NOT NULL DEFAULT '{}',   -- empty: any segment
  business_hours jsonb NOT NULL,                 -- { timeZone, days: [1..7, Monday = 1], start: "09:00", end: "17:00" }
  manager_id     text,
  -- Weighted round robin: the virtual time of the team's last assignment (start-time fair queuing).
  virtual_time   double precision NOT NULL DEFAULT 0,
  assignments    bigint NOT NULL DEFAULT 0,           -- round-robin picks so far, to order ties
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reps (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  email               text NOT NULL,
  team_id             text REFERENCES teams (id),
  weight              integer NOT NULL DEFAULT 1 CHECK (weight > 0),
  capacity            integer NOT NULL DEFAULT 50 CHECK (capacity >= 0),
  active              boolean NOT NULL DEFAULT true,
  out_of_office_until timestamptz,
  manager_id          text,
  api_key_hash        text UNIQUE,
  virtual_time        double precision NOT NULL DEFAULT 0,
  last_assignment     bigint NOT NULL DEFAULT 0,     -- the team's pick number when this rep last took a lead
  created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  domain     text PRIMARY KEY,
  name       text NOT NULL,
  owner_id   text REFERENCES reps (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE leads
  ADD COLUMN team_id          text,
  ADD COLUMN priority         text,
  ADD COLUMN routing_reason   text,
  ADD COLUMN assigned_at      timestamptz,
  ADD COLUMN sla_due_at       timestamptz,
  ADD COLUMN sla_breaches     integer NOT NULL DEFAULT 0,
  ADD COLUMN responded_at     timestamptz,
  ADD COLUMN response_ms      bigint;
CREATE INDEX leads_owner_open_idx ON leads (owner_id) WHERE status IN ('sql', 'accepted');
CREATE INDEX leads_unassigned_idx ON leads (team_id) WHERE owner_id IS NULL AND status = 'sql';

-- Notifications outbox: written by activities, delivered at least once by the worker's dispatcher.
CREATE TABLE notifications (
  id              bigserial PRIMARY KEY,
  dedupe_key      text NOT NULL UNIQUE,
  lead_id         text,
  kind            text NOT NULL,            -- assignment | sla_reminder | sla_breach | escalation | unassigned | ...
  recipient       text NOT NULL,            -- rep id, or "ops"
  message         text NOT NULL,
  data            jsonb NOT NULL DEFAULT '{}'::jsonb,
  status          text NOT NULL DEFAULT 'pending',   -- pending | sent | skipped
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';

-- Down Migration
DROP TABLE notifications;
DROP INDEX leads_unassigned_idx;
DROP INDEX leads_owner_open_idx;
ALTER TABLE leads
  DROP COLUMN team_id, DROP COLUMN priority, DROP COLUMN routing_reason, DROP COLUMN assigned_at,
  DROP COLUMN sla_due_at, DROP COLUMN sla_breaches, DROP COLUMN responded_at, DROP COLUMN response_ms;
DROP TABLE accounts;
DROP TABLE reps;
DROP TABLE teams;
