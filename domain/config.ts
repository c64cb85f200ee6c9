import { z } from 'zod';
import { durationMs } from './duration';
import { cadenceOfStatus, type CadenceStep } from './cadence';
import { cadenceStepsSchema } from './cadence-bodies';
import { boundedArray, isoDuration, text } from './input';
import { consentChannels } from './consent';
import { leadSources } from './lead';

// Built from domain/input.ts because these lists also arrive through `POST /scoring-models`: what passes must be storable (jsonb).
const domainList = boundedArray(text(253).toLowerCase().min(3), 1000).transform((list) => [...new Set(list)]);
const wordList = boundedArray(text(200).toLowerCase(), 1000);

/** Points of every scoring rule (docs/design.md, "Scoring model"). Positive rules must add, negative ones subtract. */
const scoringRulesSchema = z.strictObject({
  visited_pricing_page: z.number().int().positive(),
  submitted_contact_form: z.number().int().positive(),
  clicked_email_link: z.number().int().positive(),
  opened_emails: z.number().int().positive(),
  attended_webinar: z.number().int().positive(),
  downloaded_content: z.number().int().positive(),
  requested_demo: z.number().int().positive(),
  c_level_title: z.number().int().positive(),
  manager_title: z.number().int().positive(),
  target_industry: z.number().int().positive(),
  icp_company_size: z.number().int().positive(),
  target_geography: z.number().int().positive(),
  relevant_tech_stack: z.number().int().positive(),
  personal_email_domain: z.number().int().negative(),
  visited_careers_page: z.number().int().negative(),
  outside_target_region: z.number().int().negative(),
  student_title: z.number().int().negative(),
  unsubscribed: z.number().int().negative(),
  competitor_domain: z.number().int().negative(),
});
export type ScoringRule = keyof z.infer<typeof scoringRulesSchema>;

/** MQL and SQL thresholds (docs/design.md, "Qualification"); part of a scoring model version. */
export const qualificationSchema = z.strictObject({
  /** Score at or above which a lead is sales-ready (`sql`). */
  sqlAt: z.number().int().min(1).max(100),
  /** Score at or above which a lead is nurtured as `mql`; below it, `not_ready`. */
  mqlAt: z.number().int().min(0).max(100),
});

/** The scoring model's points, decay and grades (docs/design.md, "Scoring model"); part of a scoring model version. */
export const scoringSchema = z.strictObject({
  /** Recorded with every score, so a score can always be traced to the model that made it. */
  modelVersion: z.number().int().positive(),
  rules: scoringRulesSchema,
  /** The opened-emails rule fires on this open. */
  openedEmailsToScore: z.number().int().positive(),
  /** Decay by time since the last engagement: the largest step reached applies (points are the total). */
  decay: boundedArray(z.strictObject({ after: isoDuration(), points: z.number().int().negative() }), 20, 1),
  /** Lowest fit points for each grade; below D is F. */
  grades: z.strictObject({ A: z.number().int(), B: z.number().int(), C: z.number().int(), D: z.number().int() }),
});

/** The ideal customer profile the fit rules score against; part of a scoring model version. */
export const icpSchema = z.strictObject({
  industries: wordList,
  countries: boundedArray(z.string().regex(/^[A-Z]{2}$/, 'must be ISO 3166-1 alpha-2 codes in upper case'), 300),
  employees: z.strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) }),
  techStack: wordList,
  personalDomains: domainList,
  competitorDomains: domainList,
});

type Issue = { path: (string | number)[]; message: string };

/**
 * The checks across fields of a scoring model (thresholds, ICP range, grades), shared by the
 * configuration and `POST /scoring-models` so a published version obeys the same rules as the defaults.
 */
export function scoringModelIssues(model: {
  qualification: z.infer<typeof qualificationSchema>;
  icp: z.infer<typeof icpSchema>;
  scoring: { grades: z.infer<typeof scoringSchema>['grades'] };
}): Issue[] {
  const issues: Issue[] = [];
  if (model.qualification.mqlAt >= model.qualification.sqlAt) {
    issues.push({ path: ['qualification', 'mqlAt'], message: 'must be below qualification.sqlAt' });
  }
  if (model.icp.employees.min > model.icp.employees.max) {
    issues.push({ path: ['icp', 'employees', 'min'], message: 'must not exceed icp.employees.max' });
  }
  const { A, B, C, D } = model.scoring.grades;
  if (!(A > B && B > C && C > D)) issues.push({ path: ['scoring', 'grades'], message: 'must descend: A > B > C > D' });
  return issues;
}

const priority = z.enum(['P1', 'P2', 'P3']);
/** A retention: shorter than a day would drop rows that retries and redeliveries of the same day still look up. */
const atLeastADay = () => isoDuration().refine((value) => durationMs(value) >= durationMs('P1D'), 'must be at least P1D');
const slaDurations = z.strictObject({ sla: isoDuration(), offHours: isoDuration().optional() });

/**
 * Every policy of the service, validated at start-up. Defaults live in `config/defaults.json`;
 * `LEAD_CONFIG` names a file merged over them.
 */
export const leadConfigSchema = z
  .strictObject({
    capture: z.strictObject({
      /** Requests a capture key may send per window before it is answered 429 (per API process). */
      rateLimit: z.strictObject({ requests: z.number().int().min(1), per: isoDuration() }),
    }),
    /**
     * Requests that fail authentication (a hook delivery with a bad signature or to no source, an
     * unknown API key: 401, 403, 404), limited before the lookup and the HMAC they would cost
     * (api/rate-limit.ts, docs/operations/security.md "Floods"). Counted per API process in a
     * fixed window; requests that authenticate are not counted.
     */
    unauthenticated: z.strictObject({
      /** Per client address, over the hooks and the API keys. */
      perAddress: z.strictObject({ requests: z.number().int().min(1), per: isoDuration() }),
      /** Per source id of `/hooks/{sourceId}`: one source's flood never limits another. */
      perSource: z.strictObject({ requests: z.number().int().min(1), per: isoDuration() }),
      /** Unknown source ids and API keys are remembered as such this long (a source created later is found after `ttl`), at most `maxEntries` of each. */
      missCache: z.strictObject({ ttl: isoDuration(), maxEntries: z.number().int().min(1).max(1_000_000) }),
      /**
       * Addresses of reverse proxies in front of the API: a request from one of them is counted
       * under the last address of its X-Forwarded-For that is not a trusted proxy. Empty: the
       * connection's own address (behind a proxy, every client would share the proxy's).
       */
      trustedProxies: z.array(z.string().trim().min(1).max(64)).max(100),
    }),
    /** `Idempotency-Key` on POST (api/idempotency.ts). */
    idempotency: z.strictObject({
      /**
       * A key claimed this long ago and still unanswered (its process died before answering) is taken
       * over by the next request with it; longer than any request takes, or both would run.
       */
      lease: isoDuration(),
      /** A key is replayed this long after its first use; then it is forgotten (and purged) and may be used afresh. */
      expireAfter: isoDuration(),
    }),
    /** Delivery of the notifications outbox to the webhook (worker/notifier.ts). */
    notify: z.strictObject({
      /**
       * An entry still failing this long after it was queued is dead-lettered (status `dead`, listed
       * by `GET /notifications?status=dead`) instead of being retried every ten minutes forever.
       */
      deadAfter: isoDuration(),
      /**
       * Rep and ops alerts name the lead id and company only: they go to chat channels that keep
       * them beyond the lead's erasure. `true` adds the prospect's email and phone.
       */
      includeContact: z.boolean(),
      /** How long the one-click action links in a rep's alert work (domain/action-links.ts). */
      actionLinksValidFor: isoDuration(),
      /** Test emails of a draft template (`POST /templates/test-email`) an API key may send per window (per API process): an SMTP relay is not to be flooded from the console. */
      testEmails: z.strictObject({ requests: z.number().int().min(1), per: isoDuration() }),
    }),
    /**
     * How long rows that only grow are kept (db/retention.ts, docs/operations/retention.md); the
     * worker prunes older ones in bounded batches. Idempotency keys go after `idempotency.expireAfter`.
     */
    retention: z.strictObject({
      /** Timeline events of a lead closed (converted, disqualified, archived) and unchanged this long; consent events stay with the lead. */
      timelineAfterClose: atLeastADay(),
      /** Outbox entries delivered (`sent`) or `skipped` this long ago; `pending` ones are never pruned. */
      notifications: atLeastADay(),
      /** Dead-lettered outbox entries: kept longer, for ops to look into. */
      deadNotifications: atLeastADay(),
      /** Form tools' delivery records (a vendor's redelivery within this is still recognised). */
      sourceDeliveries: atLeastADay(),
      /** Routing decisions by key: read only while the workflow task that took them is retried. */
      routingDecisions: atLeastADay(),
      /** How often the worker prunes, how long one round may run at most, and rows per DELETE. */
      every: isoDuration(),
      runFor: isoDuration('PT10M'),
      batchSize: z.number().int().min(1).max(100_000),
    }),
    aging: z.strictObject({
      /** docs/design.md: "90 days with no activity: disqualify with a reason" holds for every open status. */
      inactiveDisqualifyAfter: isoDuration(),
      /** An `accepted` lead with no logged activity this long escalates to the manager and is recycled. */
      acceptedIdleAfter: isoDuration(),
    }),
    recycling: z.strictObject({
      /** Re-engagement of a `recycled` lead, each `at` this long after it was recycled: re-score, outreach where consent allows, routing if sales-ready. */
      reengagement: z
        .array(z.strictObject({ at: isoDuration(), channel: z.enum(consentChannels), template: z.string().trim().min(1) }))
        .min(1),
      /** A recycled lead with no engagement this long (since recycling or its last engagement) is archived as unresponsive. */
      archiveAfter: isoDuration(),
    }),
    /** Steps of version 1 of each cadence, published when the cadence has no version yet. Later versions are data (`POST /cadences/{name}/versions`). */
    cadences: z.record(z.string(), cadenceStepsSchema),
    qualification: qualificationSchema,
    scoring: scoringSchema,
    icp: icpSchema,
    sla: z.strictObject({
      /** Priority and response SLA by intent (the capture's source); `offHours` applies outside the team's business hours. */
      intents: z.strictObject(
        Object.fromEntries(leadSources.map((source) => [source, slaDurations.extend({ priority })])) as Record<
          (typeof leadSources)[number],
          z.ZodObject<typeof slaDurations.shape & { priority: typeof priority }>
        >,
      ),
      /** SLA of each tier, for leads moved up a tier. */
      tiers: z.strictObject({ P1: slaDurations, P2: slaDurations, P3: slaDurations }),
      /** Enterprise-segment leads move up one tier (P2 → P1, P3 → P2). */
      enterpriseBump: z.boolean(),
    }),
    escalation: z.strictObject({
      /** Share of the SLA after which the owner is reminded. */
      reminderAt: z.number().gt(0).lt(1),
      /** Breaches that reassign to the next eligible rep before the lead goes to the team manager (or the unassigned queue). */
      reassignments: z.number().int().min(0).max(10),
    }),
    routing: z.strictObject({
      /**
       * A lead in the unassigned queue is routed again whenever reps or teams change (the API
       * signals it), and besides on a backoff from `unassignedRetryFirst` doubling up to
       * `unassignedRetryMax`, which catches reps coming back from leave or freeing capacity.
       */
      unassignedRetryFirst: isoDuration(),
      unassignedRetryMax: isoDuration(),
    }),
    dataAccess: z.strictObject({
      /**
       * A lead's data access (Postgres) retries a transient failure (connection refused, a
       * serialization failure) for this long; then ops is alerted and the lead keeps retrying more
       * slowly, from `slowRetryFirst` doubling up to `slowRetryMax`: never failed, never lost.
       */
      retryFor: isoDuration(),
      slowRetryFirst: isoDuration(),
      slowRetryMax: isoDuration(),
    }),
    /** Backtests as jobs (docs/features/scoring-models.md "Backtest"). */
    backtest: z.strictObject({
      /** Leads a job reads and re-scores per activity: one short statement each (keyset pagination). */
      batchSize: z.number().int().min(1).max(10_000),
      /** How long `POST /scoring-models/backtest` waits for its job before it answers 202 with the job instead of the figures. */
      answerWithin: isoDuration('PT1M'),
    }),
    /** Rolling a published scoring model out to the open leads (`POST /scoring-models` with `rollout: "open_leads"`). */
    scoringRollout: z.strictObject({
      /** The bound on the rate: leads signaled per second (the request may ask for less or more). */
      leadsPerSecond: z.number().positive().max(10_000),
      /** Leads signaled at once; the rollout then sleeps `batchSize / leadsPerSecond` seconds. */
      batchSize: z.number().int().min(1).max(500),
      /** After the last lead is signaled, how long the rollout waits for the leads' answers before it completes. */
      reportWait: isoDuration(),
    }),
    history: z.strictObject({
      /** A lead continues as new at this many events even where the server does not suggest it (the time-skipping server never does). */
      maxEventsPerRun: z.number().int().min(50).max(50_000),
    }),
    enrichment: z.strictObject({
      provider: z.enum(['local', 'http']),
      /** Enrichment never holds up speed-to-lead longer than this. */
      budget: isoDuration(),
      /** After a failure, enrich again this much later. */
      retryAfter: isoDuration(),
      http: z.strictObject({
        url: z.string().url().nullable(),
        timeout: isoDuration(),
        retries: z.number().int().min(0).max(5),
      }),
    }),
  })
  .superRefine((config, ctx) => {
    for (const issue of scoringModelIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const name of Object.values(cadenceOfStatus)) {
      if (!config.cadences[name])
        ctx.addIssue({ code: 'custom', path: ['cadences', name], message: 'is required: the lifecycle enrols leads into it' });
    }
    const reengagement = config.recycling.reengagement.map((outreach) => durationMs(outreach.at));
    if (reengagement.some((at, i) => i > 0 && at <= reengagement[i - 1]!)) {
      ctx.addIssue({ code: 'custom', path: ['recycling', 'reengagement'], message: 'must be in increasing order of `at`' });
    }
    if (config.enrichment.provider === 'http' && !config.enrichment.http.url) {
      ctx.addIssue({ code: 'custom', path: ['enrichment', 'http', 'url'], message: 'is required when enrichment.provider is "http"' });
    }
  });
export type LeadConfig = z.infer<typeof leadConfigSchema>;
export type ScoringConfig = LeadConfig['scoring'];
export type IcpConfig = LeadConfig['icp'];
export type CadenceDefaults = Record<string, CadenceStep[]>;

/**
 * The part of the configuration a lead workflow runs by. It is handed to the workflow as input, so
 * a running lead never reads files and keeps the policy it started with until its next run.
 */
export interface LeadPolicy {
  inactiveDisqualifyAfter: string;
  acceptedIdleAfter: string;
  recycling: LeadConfig['recycling'];
  qualification: LeadConfig['qualification'];
  scoring: ScoringConfig;
  icp: IcpConfig;
  enrichment: { budget: string; retryAfter: string };
  sla: LeadConfig['sla'];
  escalation: LeadConfig['escalation'];
  routing: LeadConfig['routing'];
  history: LeadConfig['history'];
  dataAccess: LeadConfig['dataAccess'];
  notify: LeadConfig['notify'];
}

export function leadPolicy(config: LeadConfig): LeadPolicy {
  return {
    inactiveDisqualifyAfter: config.aging.inactiveDisqualifyAfter,
    acceptedIdleAfter: config.aging.acceptedIdleAfter,
    recycling: config.recycling,
    qualification: config.qualification,
    scoring: config.scoring,
    icp: config.icp,
    enrichment: { budget: config.enrichment.budget, retryAfter: config.enrichment.retryAfter },
    sla: config.sla,
    escalation: config.escalation,
    routing: config.routing,
    history: config.history,
    dataAccess: config.dataAccess,
    notify: config.notify,
  };
}
