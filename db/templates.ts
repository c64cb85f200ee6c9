import type { EmailTemplate, PublishTemplate } from '../domain/email-template';
import type { Sql } from './client';

interface TemplateRow {
  name: string;
  version: number;
  subject: string;
  text_body: string;
  html_body: string | null;
  published_at: Date;
}

const fromRow = (row: TemplateRow): EmailTemplate => ({
  name: row.name,
  version: row.version,
  subject: row.subject,
  text: row.text_body,
  html: row.html_body,
  publishedAt: row.published_at.toISOString(),
});

/** Published email templates (immutable versions): marketing publishes, the notifier renders the newest. */
export function templateStore(sql: Sql) {
  return {
    /** The newest version of every template, with how many versions it has. */
    async list(): Promise<(EmailTemplate & { versions: number })[]> {
      const rows = await sql<(TemplateRow & { versions: number })[]>`
        SELECT DISTINCT ON (name) *, count(*) OVER (PARTITION BY name)::int AS versions
        FROM email_templates ORDER BY name, version DESC`;
      return rows.map((row) => ({ ...fromRow(row), versions: row.versions }));
    },

    /** Every version of one template, oldest first. */
    async versions(name: string): Promise<EmailTemplate[]> {
      return (await sql<TemplateRow[]>`SELECT * FROM email_templates WHERE name = ${name} ORDER BY version`).map(fromRow);
    },

    /** The version an email sent now is rendered from: the newest. */
    async current(name: string): Promise<EmailTemplate | undefined> {
      const [row] = await sql<TemplateRow[]>`SELECT * FROM email_templates WHERE name = ${name} ORDER BY version DESC LIMIT 1`;
      return row && fromRow(row);
    },

    /** Publishes the next version; numbered without gaps, even when published concurrently. */
    async publish(input: PublishTemplate, by: string): Promise<EmailTemplate> {
      return sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`email_template:${input.name}`}))`;
        const [row] = await tx<TemplateRow[]>`
          INSERT INTO email_templates (name, version, subject, text_body, html_body, published_by)
          SELECT ${input.name}, coalesce(max(version), 0) + 1, ${input.subject}, ${input.text}, ${input.html ?? null}, ${by}
          FROM email_templates WHERE name = ${input.name}
          RETURNING *`;
        return fromRow(row!);
      });
    },
  };
}
export type TemplateStore = ReturnType<typeof templateStore>;
