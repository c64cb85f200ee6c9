-- Up Migration

-- Capture sources (docs/features/capture.md): a form tool's webhook registered by ops, posting to
-- `/hooks/{id}`. Secrets the vendor's signature needs in the clear (HMAC keys, HubSpot's client
-- secret, Meta's app secret and page access token) are sealed with the payload keys
-- (LEAD_PAYLOAD_KEYS, AES-256-GCM, capture/secrets.ts): bytea, never returned after creation.
-- Secrets that are only compared (Jotform's URL token, Meta's verify token) are kept as SHA-256.
CREATE TABLE sources (
  id                 text PRIMARY KEY,
  vendor             text NOT NULL CHECK (vendor IN ('typeform', 'hubspot', 'meta_lead_ads', 'webflow', 'calendly', 'tally', 'jotform', 'generic')),
  name               text NOT NULL,
  lead_source        text NOT NULL,            -- the lead `source` its captures carry (demo_request, webinar, ...)
  field_mapping      jsonb NOT NULL DEFAULT '{}',
  secret             bytea,                    -- sealed signing secret (null: the vendor signs nothing, e.g. Jotform)
  token_hash         text,                     -- Jotform: SHA-256 of the URL token
  graph_api_url      text,                     -- Meta: the Graph API base URL
  access_token       bytea,                    -- Meta: sealed page access token
  verify_token_hash  text,                     -- Meta: SHA-256 of the verification handshake's token
  created_at         timestamptz NOT NULL DEFAULT now(),
  created_by         text NOT NULL
);

-- What each source's deliveries came to, one row per vendor event id: a redelivery finds its row
-- and records nothing new. `rejected` rows (no usable email, ...) are what ops list at
-- `GET /sources/{id}/rejections`; `reason` names fields, never their values.
CREATE TABLE source_deliveries (
  source_id    text NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
  event_id     text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('captured', 'rejected')),
  lead_id      text,
  reason       text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, event_id)
);
CREATE INDEX source_deliveries_rejected_idx ON source_deliveries (source_id, received_at DESC) WHERE outcome = 'rejected';

-- Down Migration
DROP TABLE source_deliveries;
DROP TABLE sources;
