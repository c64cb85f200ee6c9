import { hmacSha256, isRecord, jsonBody, needsSecret, sameSignature } from './signatures';
import { UnreadablePayload, type HookRequest, type SourceSecrets, type Submission, type Verdict } from '../../contracts/vendors';

/** A new lead as Meta's webhook announces it: ids only, its fields are read from the Graph API. */
export interface MetaLeadRef {
  leadgenId: string;
  formId?: string;
  pageId?: string;
  adId?: string;
}

/** `GET /{leadgen_id}` of the Graph API: the lead's answers. */
export interface GraphLead {
  id: string;
  created_time?: string;
  field_data?: { name: string; values?: unknown[] }[];
}

/**
 * Meta (Facebook and Instagram) Lead Ads: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
 * raw body>` with the app secret. The webhook (object `page`, field `leadgen`) carries only
 * `entry[].changes[].value.{leadgen_id, form_id, page_id, ad_id}`; `leadgen_id` is the event id.
 */
export const metaLeadAds = {
  verify(request: HookRequest, { secret }: SourceSecrets): Verdict {
    if (!secret) return needsSecret;
    const sent = request.headers['x-hub-signature-256'];
    if (!sent) return 'missing X-Hub-Signature-256 header';
    return sameSignature(sent.toLowerCase(), `sha256=${hmacSha256(secret, request.body).toString('hex')}`)
      ? undefined
      : 'the X-Hub-Signature-256 does not match';
  },

  /** The leads a verified delivery announces (Meta batches several entries and changes in one). */
  leads(request: HookRequest): MetaLeadRef[] {
    const body = jsonBody(request);
    if (!isRecord(body) || !Array.isArray(body.entry)) throw new UnreadablePayload('not a Meta webhook (no entry[])');
    const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
    return body.entry.filter(isRecord).flatMap((entry) =>
      (Array.isArray(entry.changes) ? entry.changes.filter(isRecord) : [])
        .filter((change) => change.field === 'leadgen' && isRecord(change.value) && text(change.value.leadgen_id))
        .map((change) => {
          const value = change.value as Record<string, unknown>;
          return { leadgenId: text(value.leadgen_id)!, formId: text(value.form_id), pageId: text(value.page_id), adId: text(value.ad_id) };
        }),
    );
  },

  /** A lead read from the Graph API as a submission: Meta's standard questions (`email`, `full_name`, `phone_number`, `company_name`, `job_title`...) and custom ones by name. */
  submission(lead: GraphLead): Submission {
    const values = Object.fromEntries(
      (lead.field_data ?? []).map(({ name, values: answers = [] }) => [name, answers.length > 1 ? answers : answers[0]]),
    );
    return {
      eventId: lead.id,
      values,
      known: {},
      utm: {},
      occurredAt: lead.created_time ? new Date(lead.created_time).toISOString() : undefined,
    };
  },

  /** The GET handshake Meta makes when the webhook is subscribed: the challenge to echo, or undefined when the request is not a valid one. */
  challenge(query: Record<string, string | undefined>, verifyTokenMatches: (token: string) => boolean): string | undefined {
    const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = query;
    return mode === 'subscribe' && token && challenge && verifyTokenMatches(token) ? challenge : undefined;
  },
};
