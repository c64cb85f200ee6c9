import { z } from 'zod';
import { icpSchema, qualificationSchema, scoringModelIssues, scoringSchema, type LeadConfig, type ScoringConfig } from './config';
import { bandOf, type Band } from './qualification';
import { scoreLead, type LeadFacts, type Score } from './scoring';
import type { Engagement } from './engagement';
import type { BacktestLead } from './backtest';
import type { LeadRecord } from './lead-record';

/**
 * `POST /scoring-models`: exactly the `scoring`, `qualification` and `icp` sections of
 * the configuration, validated by the configuration's own schemas and cross-field checks. The
 * version number is the server's to give, so `scoring.modelVersion` is not part of the body.
 */
export const scoringModelBodySchema = z
  .strictObject({
    scoring: scoringSchema.omit({ modelVersion: true }),
    qualification: qualificationSchema,
    icp: icpSchema,
  })
  .superRefine((model, ctx) => {
    for (const issue of scoringModelIssues(model)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .meta({
    id: 'ScoringModelInput',
    description: 'the `scoring` (without `modelVersion`), `qualification` and `icp` sections of the configuration',
  });
export type ScoringModelBody = z.infer<typeof scoringModelBodySchema>;

/** What a model scores and qualifies by: the shape `scoreLead` and `bandOf` take. */
export interface ScoringModelRules {
  scoring: ScoringConfig;
  qualification: LeadConfig['qualification'];
  icp: LeadConfig['icp'];
}

/** One published, immutable version, as stored and shown: the body it was published with, so it can be sent back edited. */
export interface ScoringModel extends ScoringModelBody {
  version: number;
  publishedAt: string;
  publishedBy: string;
}

/** The rules of a body under a version number (a candidate that is not published gets 0: no lead ever carries it). */
export function modelRules(body: ScoringModelBody, version: number): ScoringModelRules {
  return { scoring: { ...body.scoring, modelVersion: version }, qualification: body.qualification, icp: body.icp };
}

/** A published version's rules: its scores carry its number. */
export const publishedRules = (model: ScoringModel) => modelRules(model, model.version);

/** The configuration's model: what version 1 is published from. */
export function configuredModel(config: LeadConfig): ScoringModelBody {
  const { modelVersion: _, ...scoring } = config.scoring;
  return { scoring, qualification: config.qualification, icp: config.icp };
}

/** A lead scored by a model, with the band its thresholds give. */
export function scoreUnder(facts: LeadFacts, engagement: Engagement, at: Date, model: ScoringModelRules): Score & { band: Band } {
  const score = scoreLead(facts, engagement, at, model);
  return { ...score, band: bandOf(score.score, model.qualification) };
}

/**
 * A lead re-scored by both models at `at` (for the backtest: here, not in backtest.ts, which the
 * backtest workflow imports and which must stay free of this module's zod schemas), as the workflow scores it (`scoreLead` on its profile and
 * engagement), and whether it converted.
 */
export function backtestLead(lead: LeadRecord, at: Date, baseline: ScoringModelRules, candidate: ScoringModelRules): BacktestLead {
  return {
    baseline: scoreUnder(lead.profile, lead.engagement, at, baseline),
    candidate: scoreUnder(lead.profile, lead.engagement, at, candidate),
    converted: lead.status === 'converted',
  };
}
