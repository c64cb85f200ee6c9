import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { FieldMapping, Vendor } from '../../contracts/vendors';

/**
 * Deliveries shaped like each vendor's documentation, signed the way each vendor signs them —
 * written here from the vendors' descriptions (docs/features/capture.md), not with the adapters' own
 * code, so a test fails when an adapter checks the wrong bytes.
 */

const hmac = (key: string, data: string | Buffer) => createHmac('sha256', key).update(data).digest();

export interface Signing {
  /** ms since the epoch: what the signature's timestamp says. */
  now: number;
  /** The URL the vendor calls (HubSpot signs it; Jotform carries its token in it). */
  url: string;
}

export interface VendorFixture {
  vendor: Exclude<Vendor, 'meta_lead_ads'>;
  /** Whether the scheme signs a timestamp (a stale one must be refused). */
  timestamped: boolean;
  mapping?: FieldMapping;
  /** A submission of `person` (no email when `email` is undefined) with the vendor's event id. */
  body(person: Person, eventId: string): { body: Buffer; contentType: string };
  /** The headers (and, for Jotform, the URL) the vendor sends with `body`. */
  sign(body: Buffer, secret: string, signing: Signing, eventId: string): { headers: Record<string, string>; url?: string };
  /** The capture fields the submission must map to. */
  expected(person: Person): Record<string, unknown>;
}

export interface Person {
  email?: string;
  firstName: string;
  lastName: string;
  company: string;
  title: string;
  phone: string;
}

const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' });

export const typeformFixture: VendorFixture = {
  vendor: 'typeform',
  timestamped: false,
  mapping: { title: 'job_role' },
  body: (p, eventId) =>
    json({
      event_id: eventId,
      event_type: 'form_response',
      form_response: {
        form_id: 'lT4Z3j',
        token: 'a3a12ec67a1365927098a606107fac15',
        landed_at: '2026-11-25T09:58:00Z',
        submitted_at: '2026-11-25T10:00:00Z',
        hidden: { utm_source: 'linkedin', utm_campaign: 'q4-demo' },
        definition: { id: 'lT4Z3j', title: 'Book a demo', fields: [] },
        answers: [
          { type: 'text', text: p.firstName, field: { id: 'Aa1', type: 'short_text', ref: 'first_name' } },
          { type: 'text', text: p.lastName, field: { id: 'Aa2', type: 'short_text', ref: 'last_name' } },
          ...(p.email ? [{ type: 'email', email: p.email, field: { id: 'Aa3', type: 'email', ref: 'work_email_ref' } }] : []),
          { type: 'text', text: p.company, field: { id: 'Aa4', type: 'short_text', ref: 'company' } },
          { type: 'text', text: p.title, field: { id: 'Aa5', type: 'short_text', ref: 'job_role' } },
          { type: 'phone_number', phone_number: p.phone, field: { id: 'Aa6', type: 'phone_number', ref: 'phone_ref' } },
          { type: 'boolean', boolean: true, field: { id: 'Aa7', type: 'legal', ref: 'consent' } },
        ],
      },
    }),
  sign: (body, secret) => ({ headers: { 'Typeform-Signature': `sha256=${hmac(secret, body).toString('base64')}` } }),
  expected: (p) => ({
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    company: p.company,
    title: p.title,
    phone: p.phone,
    sourceDetail: 'utm_source=linkedin utm_campaign=q4-demo',
    consent: { email: 'opted_in' },
  }),
};

export const hubspotFixture: VendorFixture = {
  vendor: 'hubspot',
  timestamped: true,
  body: (p, eventId) =>
    json({
      vid: Number(eventId.replace(/\D/g, '').slice(0, 9) || 1),
      'portal-id': 62515,
      'canonical-vid': 1,
      eventId,
      properties: {
        email: { value: p.email ?? '' },
        firstname: { value: p.firstName },
        lastname: { value: p.lastName },
        company: { value: p.company },
        jobtitle: { value: p.title },
        phone: { value: p.phone },
        utm_source: { value: 'hubspot-form' },
      },
    }),
  // v3: base64 HMAC-SHA256 of method + URI + body + timestamp (ms), with the app's client secret.
  sign: (body, secret, { now, url }) => ({
    headers: {
      'X-HubSpot-Signature-v3': hmac(secret, `POST${url}${body.toString('utf8')}${now}`).toString('base64'),
      'X-HubSpot-Request-Timestamp': String(now),
    },
  }),
  expected: (p) => ({
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    company: p.company,
    title: p.title,
    phone: p.phone,
    sourceDetail: 'utm_source=hubspot-form',
  }),
};

export const webflowFixture: VendorFixture = {
  vendor: 'webflow',
  timestamped: true,
  mapping: { email: 'Your business email', fullName: 'Who are you' },
  body: (p, eventId) =>
    json({
      triggerType: 'form_submission',
      payload: {
        name: 'Contact form',
        siteId: '65427cf400e02b306eaa049c',
        data: {
          'Who are you': `${p.firstName} ${p.lastName}`,
          ...(p.email ? { 'Your business email': p.email } : {}),
          Company: p.company,
          'Job title': p.title,
        },
        schema: [],
        submittedAt: '2026-11-25T10:00:00.117Z',
        id: eventId,
        formId: '65429eadebe8a9f3a30f62d0',
        formElementId: '4e038d2c-6a1e-4953-7be9-a59a2b453177',
      },
    }),
  sign: (body, secret, { now }) => ({
    headers: { 'x-webflow-timestamp': String(now), 'x-webflow-signature': hmac(secret, `${now}:${body.toString('utf8')}`).toString('hex') },
  }),
  expected: (p) => ({ email: p.email, firstName: p.firstName, lastName: p.lastName, company: p.company, title: p.title }),
};

export const calendlyFixture: VendorFixture = {
  vendor: 'calendly',
  timestamped: true,
  body: (p, eventId) =>
    json({
      created_at: '2026-11-25T10:00:00.000000Z',
      created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
      event: 'invitee.created',
      payload: {
        cancel_url: 'https://calendly.com/cancellations/AAAAAAAAAAAAAAAA',
        created_at: '2026-11-25T10:00:00.000000Z',
        email: p.email ?? null,
        first_name: null,
        last_name: null,
        name: `${p.firstName} ${p.lastName}`,
        new_invitee: null,
        old_invitee: null,
        questions_and_answers: [
          { answer: p.company, position: 0, question: 'Company' },
          { answer: p.title, position: 1, question: 'What is your role?' },
        ],
        reschedule_url: 'https://calendly.com/reschedulings/AAAAAAAAAAAAAAAA',
        rescheduled: false,
        status: 'active',
        text_reminder_number: p.phone,
        timezone: 'Europe/Berlin',
        tracking: {
          utm_campaign: 'spring',
          utm_source: 'google',
          utm_medium: 'cpc',
          utm_content: null,
          utm_term: null,
          salesforce_uuid: null,
        },
        updated_at: '2026-11-25T10:00:00.000000Z',
        uri: `https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/${eventId}`,
        scheduled_event: { uri: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2', name: '30 Minute Demo' },
      },
    }),
  sign: (body, secret, { now }) => {
    const t = Math.floor(now / 1000);
    return { headers: { 'Calendly-Webhook-Signature': `t=${t},v1=${hmac(secret, `${t}.${body.toString('utf8')}`).toString('hex')}` } };
  },
  expected: (p) => ({
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    company: p.company,
    phone: p.phone,
    sourceDetail: 'utm_source=google utm_medium=cpc utm_campaign=spring',
  }),
};

export const tallyFixture: VendorFixture = {
  vendor: 'tally',
  timestamped: false,
  mapping: { title: 'Your role', emailConsent: 'Keep me posted' },
  body: (p, eventId) =>
    json({
      eventId,
      eventType: 'FORM_RESPONSE',
      createdAt: '2026-11-25T10:00:21.889Z',
      data: {
        responseId: '2wgx4n',
        submissionId: '2wgx4n',
        respondentId: 'dwQKYm',
        formId: 'VwbNEw',
        formName: 'Talk to sales',
        createdAt: '2026-11-25T10:00:21.000Z',
        fields: [
          { key: 'question_mVGEg3_utm', label: 'utm_source', type: 'HIDDEN_FIELDS', value: 'newsletter' },
          { key: 'question_3EKz4n', label: 'First name', type: 'INPUT_TEXT', value: p.firstName },
          { key: 'question_3EKz4m', label: 'Last name', type: 'INPUT_TEXT', value: p.lastName },
          ...(p.email ? [{ key: 'question_w4Q4Xn', label: 'Where can we reach you?', type: 'INPUT_EMAIL', value: p.email }] : []),
          { key: 'question_3jkVQ9', label: 'Company', type: 'INPUT_TEXT', value: p.company },
          { key: 'question_wkQd0m', label: 'Your role', type: 'INPUT_TEXT', value: p.title },
          { key: 'question_mRD4ge', label: 'Phone', type: 'INPUT_PHONE_NUMBER', value: p.phone },
          {
            key: 'question_n8Qdl9',
            label: 'Keep me posted',
            type: 'CHECKBOXES',
            value: ['5c9b1d1a'],
            options: [{ id: '5c9b1d1a', text: 'Yes, email me news' }],
          },
        ],
      },
    }),
  sign: (body, secret) => ({ headers: { 'Tally-Signature': hmac(secret, body).toString('base64') } }),
  expected: (p) => ({
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    company: p.company,
    title: p.title,
    phone: p.phone,
    sourceDetail: 'utm_source=newsletter',
    consent: { email: 'opted_in' },
  }),
};

export const jotformFixture: VendorFixture = {
  vendor: 'jotform',
  timestamped: false,
  mapping: { title: 'q7_whatIs' },
  body: (p, eventId) => {
    const rawRequest = {
      slug: 'submit/233000000000000',
      q3_name: { first: p.firstName, last: p.lastName },
      ...(p.email ? { q4_email: p.email } : {}),
      q5_company: p.company,
      q6_phoneNumber: { full: p.phone },
      q7_whatIs: p.title,
      event_id: '1732528800000_233000000000000_abc',
    };
    const boundary = `----jotform${eventId.replace(/\W/g, '')}`;
    const parts = {
      formID: '233000000000000',
      submissionID: eventId,
      formTitle: 'Contact us',
      pretty: 'Name:Jane Doe',
      rawRequest: JSON.stringify(rawRequest),
    };
    const body =
      Object.entries(parts)
        .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
        .join('') + `--${boundary}--\r\n`;
    return { body: Buffer.from(body), contentType: `multipart/form-data; boundary=${boundary}` };
  },
  // Jotform signs nothing: the secret is the URL's token.
  sign: (_body, secret, { url }) => ({ headers: {}, url: `${url}?token=${encodeURIComponent(secret)}` }),
  expected: (p) => ({ email: p.email, firstName: p.firstName, lastName: p.lastName, company: p.company, title: p.title, phone: p.phone }),
};

/** The generic hook's body is our own capture's shape: what is posted is what is taken. */
const genericCapture = (p: Parameters<VendorFixture['expected']>[0]) => ({
  email: p.email,
  firstName: p.firstName,
  lastName: p.lastName,
  company: p.company,
  title: p.title,
  phone: p.phone,
  sourceDetail: 'partner portal',
});

export const genericFixture: VendorFixture = {
  vendor: 'generic',
  timestamped: true,
  body: (p) => json(genericCapture(p)),
  sign: (body, secret, { now }, eventId) => {
    const webhook = new Webhook(secret);
    return {
      headers: {
        'webhook-id': eventId,
        'webhook-timestamp': String(Math.floor(now / 1000)),
        'webhook-signature': webhook.sign(eventId, new Date(now), body.toString('utf8')),
      },
    };
  },
  expected: (p) => genericCapture(p),
};

export const formFixtures: VendorFixture[] = [
  typeformFixture,
  hubspotFixture,
  webflowFixture,
  calendlyFixture,
  tallyFixture,
  jotformFixture,
  genericFixture,
];

/** Meta's webhook: ids only. */
export function metaWebhookBody(leadgenIds: string[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      object: 'page',
      entry: [
        {
          id: '153125381133',
          time: 1732528800,
          changes: leadgenIds.map((leadgenId) => ({
            field: 'leadgen',
            value: {
              ad_id: '444444444',
              form_id: '444444444444',
              leadgen_id: leadgenId,
              created_time: 1732528800,
              page_id: '153125381133',
              adgroup_id: '44444444444',
            },
          })),
        },
      ],
    }),
  );
}

export const metaSignature = (body: Buffer, appSecret: string) => ({
  'X-Hub-Signature-256': `sha256=${hmac(appSecret, body).toString('hex')}`,
});

/** The Graph API's `GET /{leadgen_id}` for a person. */
export function graphLead(leadgenId: string, p: Person) {
  return {
    created_time: '2026-11-25T10:00:00+0000',
    id: leadgenId,
    field_data: [
      ...(p.email ? [{ name: 'email', values: [p.email] }] : []),
      { name: 'full_name', values: [`${p.firstName} ${p.lastName}`] },
      { name: 'company_name', values: [p.company] },
      { name: 'job_title', values: [p.title] },
      { name: 'phone_number', values: [p.phone] },
    ],
  };
}

export const person = (email?: string): Person => ({
  email,
  firstName: 'Jane',
  lastName: 'Doe',
  company: 'Acme Robotics',
  title: 'Head of Operations',
  phone: '+14155550100',
});
