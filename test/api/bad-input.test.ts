import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadIdFor } from '../support/lead-ids';
import { eventually, startService, uniqueEmail, type ServiceUnderTest } from '../support/helpers';

/**
 * No input can lose or freeze a lead (docs/guarantees.md). A corpus generated from two tables (every field of
 * every POST/PATCH body × hostile values) is sent through the real API: each case is answered 4xx
 * naming the field, or, where the value is legal for the field, stored intact and read back equal.
 * After every capture or engagement case the lead still takes a normal engagement event (its score
 * moves): a value Postgres refused after a 202 would have left the lead retrying forever.
 */

let service: ServiceUnderTest;
const ops = 'ops-dev';
let corpusSize = 0;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  console.log(`bad-input corpus: ${corpusSize} cases`);
  await service?.close();
});

/** What a field holds, as far as the corpus cares: free text and ids take some of its values. */
type Kind = 'text' | 'identifier' | 'boolean' | 'other';
interface Field {
  path: string;
  kind: Kind;
}
const fields = (kinds: Partial<Record<Kind, string[]>>): Field[] =>
  Object.entries(kinds).flatMap(([kind, paths]) => paths.map((path) => ({ path, kind: kind as Kind })));

interface Value {
  name: string;
  /** The value, or the wrong type for a field of this kind. */
  json?: unknown;
  /** JSON text that JSON.stringify cannot write (1e400) or would take long to (deep nesting). */
  raw?: string;
  /** Kinds of field for which the value is legal. */
  legalFor?: Kind[];
  /** The answer when not 400 naming the field. */
  status?: number;
}

const values: Value[] = [
  { name: 'NUL', json: 'Jane\u0000Doe' },
  { name: 'unpaired surrogate', json: 'Jane\uD800Doe' },
  // Over every field's limit but under the 64 KiB body limit, so that the answer can name the field.
  { name: '60 KB string', json: 'x'.repeat(60_000) },
  { name: '100 KB string', json: 'x'.repeat(100_000), status: 413 },
  { name: 'emoji', json: 'Jane 🦊🚀', legalFor: ['text'] },
  { name: 'RTL override', json: '\u202Eenaj', legalFor: ['text'] },
  { name: 'zero-width joiner', json: 'dev 👩\u200D💻', legalFor: ['text'] },
  { name: 'year 0000', json: '0000-01-01T00:00:00Z', legalFor: ['text'] },
  { name: 'year 9999', json: '9999-12-31T23:59:59Z', legalFor: ['text'] },
  { name: 'negative number', json: -1 },
  { name: 'NaN as a string', json: 'NaN', legalFor: ['text', 'identifier'] },
  { name: 'Infinity as a string', json: 'Infinity', legalFor: ['text', 'identifier'] },
  { name: '1e400 (Infinity once parsed)', raw: '1e400' },
  { name: 'deeply nested JSON', raw: '['.repeat(10_000) + ']'.repeat(10_000) },
  { name: 'wrong type', json: true },
];

const isLegal = (value: Value, field: Field) => value.legalFor?.includes(field.kind) ?? false;
/** `true` is the wrong type everywhere but in a boolean, which gets a string instead. */
const jsonFor = (value: Value, field: Field) => (value.name === 'wrong type' && field.kind === 'boolean' ? 'true' : value.json);

function setPath(target: Record<string, any>, path: string, value: unknown) {
  const keys = path.split('.');
  let node = target;
  keys.slice(0, -1).forEach((key, i) => {
    node[key] ??= /^\d+$/.test(keys[i + 1]!) ? [] : {};
    node = node[key];
  });
  node[keys.at(-1)!] = value;
}
const getPath = (source: unknown, path: string) => path.split('.').reduce((node: any, key) => node?.[key], source);

/** The JSON text of `base` with `field` set to `value`. */
function bodyText(base: Record<string, unknown>, field: Field, value: Value): string {
  const body = structuredClone(base);
  const placeholder = `raw-${randomUUID()}`;
  setPath(body, field.path, value.raw === undefined ? jsonFor(value, field) : placeholder);
  const text = JSON.stringify(body);
  return value.raw === undefined ? text : text.replace(JSON.stringify(placeholder), value.raw);
}

type Answer = Awaited<ReturnType<ServiceUnderTest['request']>>;

function expectRejected(answer: Answer, field: Field, value: Value) {
  const label = `${field.path} × ${value.name}`;
  if (value.status) {
    expect(answer.status, label).toBe(value.status);
    return;
  }
  expect(answer.status, label).toBe(400);
  expect(answer.body.error.code, label).toBe('validation_failed');
  const paths: string[] = answer.body.error.details.map((d: { path: string }) => d.path);
  expect(
    paths.some((path) => path === field.path || path.startsWith(`${field.path}.`)),
    `${label}: details name ${paths.join(', ')}`,
  ).toBe(true);
}

/** A lead in Postgres and its workflow, and the engagement events that still move its score (each rule fires once). */
class Lead {
  /** Each moves the score of a lead that has not had it yet (a rule fires once); as many as `nudgesPerLead`. */
  private nudges = ['visited_pricing_page', 'submitted_contact_form', 'clicked_email_link', 'downloaded_content', 'visited_careers_page'];
  private score = 0;
  private constructor(
    readonly email: string,
    readonly leadId: string,
  ) {}

  /** The lead of a capture already sent, once scored. */
  static async of(email: string): Promise<Lead> {
    const lead = new Lead(email, leadIdFor(email));
    lead.score = await eventually(async () => {
      const { body } = await service.request('GET', `/leads/${lead.leadId}`, { key: ops });
      expect(body.score).toEqual(expect.any(Number));
      return body.score as number;
    });
    return lead;
  }

  static async capture(): Promise<Lead> {
    const email = uniqueEmail('probe');
    expect((await service.request('POST', '/leads', { body: { email, source: 'newsletter' } })).status).toBe(202);
    return Lead.of(email);
  }

  /** Sends a normal engagement event and waits for the score to move: the lead is not frozen. */
  async nudge() {
    const type = this.nudges.shift()!;
    expect((await service.request('POST', `/leads/${this.leadId}/activities`, { body: { type } })).status).toBe(202);
    const before = this.score;
    this.score = await eventually(async () => {
      const { body } = await service.request('GET', `/leads/${this.leadId}`, { key: ops });
      expect(body.score).not.toBe(before);
      return body.score as number;
    });
  }
}

const captureFields = fields({
  text: ['firstName', 'lastName', 'company', 'title', 'phone', 'industry', 'sourceDetail', 'consent.text'],
  other: ['email', 'source', 'country', 'employees', 'consent', 'consent.email', 'consent.phone', 'consent.capturedAt', 'occurredAt'],
});
const engagementFields = fields({ text: ['eventId'], other: ['type', 'occurredAt'] });
// Consent text is kept only with a channel's state.
const captureBase = (email: string) => ({ email, source: 'newsletter', consent: { email: 'opted_in' } });

/** A legal capture value starts a lead of its own (a merge would not overwrite a field), read back from the API and from Postgres. */
async function captureLegal(field: Field, value: Value) {
  const email = uniqueEmail('legal');
  const answer = await service.request('POST', '/leads', { rawBody: bodyText(captureBase(email), field, value) });
  expect(answer.status, `${field.path} × ${value.name}`).toBe(202);
  const lead = await Lead.of(email);
  const [row] =
    await service.sql`SELECT first_name, last_name, company, title, phone, industry, source_detail, consent FROM leads WHERE lead_id = ${lead.leadId}`;
  const stored = {
    firstName: row!.first_name,
    lastName: row!.last_name,
    company: row!.company,
    title: row!.title,
    phone: row!.phone,
    industry: row!.industry,
    sourceDetail: row!.source_detail,
    consent: { text: row!.consent.email?.text },
  };
  expect(getPath(stored, field.path), `${field.path} × ${value.name} in Postgres`).toBe(value.json);
  const { body: view } = await service.request('GET', `/leads/${lead.leadId}`, { key: ops });
  if (field.path in view) expect(view[field.path], `${field.path} × ${value.name} through the API`).toBe(value.json);
  return lead;
}

/** One capture or engagement case; `probe` gives the existing lead it is aimed at. */
async function leadCase(body: 'capture' | 'engagement', field: Field, value: Value, probe: () => Promise<Lead>) {
  corpusSize++;
  if (body === 'capture') {
    if (isLegal(value, field)) return (await captureLegal(field, value)).nudge();
    const lead = await probe();
    // Aimed at the probe lead: accepted by mistake, it would be merged into it.
    expectRejected(await service.request('POST', '/leads', { rawBody: bodyText(captureBase(lead.email), field, value) }), field, value);
    return lead.nudge();
  }
  const lead = await probe();
  const answer = await service.request('POST', `/leads/${lead.leadId}/activities`, {
    rawBody: bodyText({ type: 'opened_email' }, field, value),
  });
  if (isLegal(value, field)) {
    expect(answer.status).toBe(202);
    await eventually(async () => {
      const { body } = await service.request('GET', `/leads/${lead.leadId}/timeline`, { key: ops });
      expect(body.events).toContainEqual(
        expect.objectContaining({ type: 'activity', data: { type: 'opened_email', eventId: value.json } }),
      );
    });
  } else {
    expectRejected(answer, field, value);
  }
  return lead.nudge();
}

const leadCases = [
  ...captureFields.map((field) => ({ body: 'capture' as const, field })),
  ...engagementFields.map((field) => ({ body: 'engagement' as const, field })),
];
const nudgesPerLead = 5;

describe.concurrent('captures and engagement events: 4xx naming the field, or stored intact; the lead never freezes', () => {
  for (const value of values) {
    it(value.name, async () => {
      // A probe lead per run of cases, as many cases as it has nudges; the runs go side by side.
      const runs = Array.from({ length: Math.ceil(leadCases.length / nudgesPerLead) }, (_, i) =>
        leadCases.slice(i * nudgesPerLead, (i + 1) * nudgesPerLead),
      );
      await Promise.all(
        runs.map(async (run) => {
          let probe: Promise<Lead> | undefined;
          for (const { body, field } of run) await leadCase(body, field, value, () => (probe ??= Lead.capture()));
        }),
      );
    });
  }
});

interface Resource {
  label: string;
  method: 'POST' | 'PATCH';
  key: string;
  path: () => string;
  base: () => Record<string, unknown>;
  fields: Field[];
  /** A legal value: checks the answer and returns the resource as stored, or nothing when storing is not this request's business. */
  legal: (answer: Answer) => Promise<unknown>;
}

const unknownLead = `lead-${'0'.repeat(24)}`;
const fixtures: { sqlLead?: string; repId?: string; cadence: string } = { cadence: `bad-input-${randomUUID().slice(0, 8)}` };
const businessHours = { timeZone: 'UTC', days: [1], start: '09:00', end: '17:00' };

const find = async (path: string, list: string, match: (item: any) => boolean) =>
  ((await service.request('GET', path, { key: ops })).body[list] as any[]).find(match);

/** A created rep, team or account as GET lists it. */
const created = (path: string, list: string, key: string) => async (answer: Answer) => {
  expect(answer.status).toBe(201);
  return find(path, list, (item) => item[key] === answer.body[key]);
};

/** An action on the unknown lead passes the edge and is answered 404: the value was accepted. */
const unknownLeadAction = (label: string, base: Record<string, unknown>, actionFields: Field[]): Resource => ({
  label: `POST /leads/{id}/${label}`,
  method: 'POST',
  key: ops,
  path: () => `/leads/${unknownLead}/${label}`,
  base: () => base,
  fields: actionFields,
  legal: async (answer) => {
    expect(answer.status).toBe(404);
    return undefined;
  },
});

// In this order: ids such as "NaN" are legal, and the reps' teamId and the accounts' ownerId then name the team and rep made before.
const resources: Resource[] = [
  {
    label: 'POST /teams',
    method: 'POST',
    key: ops,
    path: () => '/teams',
    // A country no other test routes, so that the teams made here never take their leads.
    base: () => ({ name: 'T', countries: ['AQ'], businessHours }),
    fields: fields({
      text: ['name'],
      identifier: ['id', 'managerId'],
      other: [
        'countries',
        'countries.0',
        'segments',
        'segments.0',
        'businessHours',
        'businessHours.timeZone',
        'businessHours.days',
        'businessHours.days.0',
        'businessHours.start',
        'businessHours.end',
      ],
    }),
    legal: created('/teams', 'teams', 'id'),
  },
  {
    label: 'POST /reps',
    method: 'POST',
    key: ops,
    path: () => '/reps',
    base: () => ({ name: 'Rep', email: 'rep@example.com' }),
    fields: fields({
      text: ['name'],
      identifier: ['id', 'teamId', 'managerId'],
      boolean: ['active'],
      other: ['email', 'weight', 'capacity', 'outOfOfficeUntil'],
    }),
    legal: async (answer) => {
      const rep = await created('/reps', 'reps', 'id')(answer);
      const [row] = await service.sql`SELECT name, team_id, manager_id FROM reps WHERE id = ${rep.id}`;
      expect({ name: row!.name, teamId: row!.team_id, managerId: row!.manager_id }).toEqual({
        name: rep.name,
        teamId: rep.teamId,
        managerId: rep.managerId,
      });
      return rep;
    },
  },
  {
    label: 'PATCH /reps/{id}',
    method: 'PATCH',
    key: ops,
    path: () => `/reps/${fixtures.repId}`,
    base: () => ({}),
    fields: fields({
      text: ['name'],
      identifier: ['teamId', 'managerId'],
      boolean: ['active'],
      other: ['email', 'weight', 'capacity', 'outOfOfficeUntil'],
    }),
    legal: async (answer) => {
      expect(answer.status).toBe(200);
      return find('/reps', 'reps', (rep) => rep.id === fixtures.repId);
    },
  },
  {
    label: 'POST /accounts',
    method: 'POST',
    key: ops,
    path: () => '/accounts',
    base: () => ({ domain: `${randomUUID().slice(0, 8)}.bad-input.example`, name: 'Account' }),
    fields: fields({ text: ['name'], identifier: ['ownerId'], other: ['domain'] }),
    legal: created('/accounts', 'accounts', 'domain'),
  },
  {
    label: 'POST /cadences/{name}/versions',
    method: 'POST',
    key: 'marketing-dev',
    path: () => `/cadences/${fixtures.cadence}/versions`,
    base: () => ({ steps: [{ after: 'P3D', channel: 'email', template: 'welcome' }], migrate: 'pinned' }),
    fields: fields({ text: ['steps.0.template'], other: ['steps', 'steps.0', 'steps.0.after', 'steps.0.channel', 'migrate'] }),
    legal: async (answer) => {
      expect(answer.status).toBe(201);
      const { body } = await service.request('GET', `/cadences/${fixtures.cadence}`, { key: ops });
      return body.versions.find((v: { version: number }) => v.version === answer.body.version);
    },
  },
  {
    label: 'POST /templates',
    method: 'POST',
    key: 'marketing-dev',
    path: () => '/templates',
    base: () => ({ name: 'bad-input/template', subject: 'Hi {{ lead.firstName }}', text: 'Hello', html: '<p>Hello</p>' }),
    fields: fields({ text: ['subject', 'text', 'html'], other: ['name'] }),
    legal: async (answer) => {
      expect(answer.status).toBe(201);
      const { body } = await service.request('GET', `/templates?name=${encodeURIComponent(answer.body.name)}`, { key: ops });
      return body.templates.find((v: { version: number }) => v.version === answer.body.version);
    },
  },
  {
    label: 'POST /leads/{id}/touches',
    method: 'POST',
    key: ops,
    path: () => `/leads/${fixtures.sqlLead}/touches`,
    base: () => ({ channel: 'call' }),
    fields: fields({ text: ['note'], other: ['channel'] }),
    legal: async (answer) => {
      expect(answer.status).toBe(200);
      const { body } = await service.request('GET', `/leads/${fixtures.sqlLead}/timeline`, { key: ops });
      return body.events.findLast((e: { type: string }) => e.type === 'touch').data;
    },
  },
  // An empty body: any field is unknown.
  unknownLeadAction('accept', {}, fields({ other: ['comment'] })),
  unknownLeadAction('disqualify', { reason: 'other', note: 'n' }, fields({ text: ['note'], other: ['reason'] })),
  unknownLeadAction('convert', {}, fields({ text: ['opportunity.name'], other: ['opportunity', 'opportunity.amount'] })),
  unknownLeadAction('recycle', { reason: 'timing' }, fields({ text: ['note'], other: ['reason'] })),
  unknownLeadAction('reassign', { ownerId: 'rep-x' }, fields({ identifier: ['ownerId'] })),
];

describe('routing data, cadences and actions: 4xx naming the field, or stored intact', () => {
  beforeAll(async () => {
    const rep = await service.request('POST', '/reps', { key: ops, body: { name: 'Patched', email: 'patched@example.com' } });
    fixtures.repId = rep.body.id;
    // A sales-ready lead (demo request, US, ICP size, C-level) takes touches from ops.
    const email = uniqueEmail('touched');
    await service.request('POST', '/leads', { body: { email, source: 'demo_request', country: 'US', employees: 250, title: 'CEO' } });
    fixtures.sqlLead = leadIdFor(email);
    await eventually(async () =>
      expect((await service.request('GET', `/leads/${fixtures.sqlLead}`, { key: ops })).body.status).toBe('sql'),
    );
  });

  for (const resource of resources) {
    it(resource.label, async () => {
      for (const field of resource.fields) {
        for (const value of values) {
          corpusSize++;
          const answer = await service.request(resource.method, resource.path(), {
            key: resource.key,
            rawBody: bodyText(resource.base(), field, value),
          });
          if (!isLegal(value, field)) {
            expectRejected(answer, field, value);
            continue;
          }
          const stored = await resource.legal(answer);
          if (stored !== undefined) expect(getPath(stored, field.path), `${field.path} × ${value.name}`).toBe(value.json);
        }
      }
    });
  }
});
