-- Up Migration

-- Email templates as data (docs/features/email-and-notifications.md): marketing publishes immutable, numbered versions of a named
-- template (the name a cadence step or re-engagement gives as `template`); an email is rendered
-- from the newest version when it is sent. Like cadences and scoring models, a published version
-- is never changed, so what a lead was sent can always be read back.
CREATE TABLE email_templates (
  name          text NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  subject       text NOT NULL,             -- LiquidJS
  text_body     text NOT NULL,             -- LiquidJS, the text/plain part
  html_body     text,                      -- LiquidJS, the optional text/html part (output escaped)
  published_at  timestamptz NOT NULL DEFAULT now(),
  published_by  text NOT NULL,             -- the API key's role
  PRIMARY KEY (name, version)
);

CREATE FUNCTION email_templates_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'published email templates cannot be removed';
  END IF;
  RAISE EXCEPTION 'email template % version % is published and cannot change', OLD.name, OLD.version;
END $$;
CREATE TRIGGER email_templates_immutable BEFORE UPDATE OR DELETE ON email_templates
  FOR EACH ROW EXECUTE FUNCTION email_templates_immutable();
CREATE TRIGGER email_templates_no_truncate BEFORE TRUNCATE ON email_templates
  FOR EACH STATEMENT EXECUTE FUNCTION email_templates_immutable();

-- How an outbox entry is delivered: 'webhook' (NOTIFY_WEBHOOK_URL, as before) or 'email' (SMTP:
-- an outreach on the email channel to the lead, or an alert to a rep by the rep's address).
ALTER TABLE notifications ADD COLUMN channel text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email'));

-- Down Migration
ALTER TABLE notifications DROP COLUMN channel;
DROP TABLE email_templates;
DROP FUNCTION email_templates_immutable();
