import type { IcpConfig, ScoringConfig, ScoringRule } from './config';
import { durationMs } from './duration';
import type { EngagementType, Engagement } from './engagement';

/** What is known about the person and the company, captured or enriched. */
export interface LeadFacts {
  email: string;
  title?: string;
  country?: string;
  employees?: number;
  industry?: string;
  techStack?: string[];
}

export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

/** One line of a score's explanation. */
export interface ScoreLine {
  rule: ScoringRule | 'decay';
  points: number;
  reason: string;
}

export interface Score {
  score: number;
  grade: Grade;
  /** Points from who the lead is (fit rules and profile-based negatives); the grade comes from these alone. */
  fitPoints: number;
  breakdown: ScoreLine[];
  modelVersion: number;
}

const cLevel = /\b(ceo|cto|cfo|coo|cmo|cro|cio|ciso|cpo|chief|founder|co-?founder)\b/i;
const managerLevel = /\b(manager|director|head of|vp|svp|evp|vice president)\b/i;
const studentOrIntern = /\b(student|intern|internship)\b/i;

/** Behaviour rules: the activity that fires each, and why. */
const behaviourRules: { rule: ScoringRule; activity: EngagementType; reason: string }[] = [
  { rule: 'requested_demo', activity: 'requested_demo', reason: 'requested a demo' },
  { rule: 'attended_webinar', activity: 'attended_webinar', reason: 'attended a webinar' },
  { rule: 'submitted_contact_form', activity: 'submitted_contact_form', reason: 'submitted the contact form' },
  { rule: 'visited_pricing_page', activity: 'visited_pricing_page', reason: 'visited the pricing page' },
  { rule: 'clicked_email_link', activity: 'clicked_email_link', reason: 'clicked a link in an email' },
  { rule: 'downloaded_content', activity: 'downloaded_content', reason: 'downloaded content' },
  { rule: 'visited_careers_page', activity: 'visited_careers_page', reason: 'visited the careers page' },
  { rule: 'unsubscribed', activity: 'unsubscribed', reason: 'unsubscribed from email' },
];

/** Rules about who the lead is; they make up the grade. */
const fitRules: ReadonlySet<ScoringRule> = new Set([
  'c_level_title',
  'manager_title',
  'target_industry',
  'icp_company_size',
  'target_geography',
  'relevant_tech_stack',
  'personal_email_domain',
  'outside_target_region',
  'student_title',
  'competitor_domain',
]);

export function emailDomainOf(email: string): string {
  return email.trim().toLowerCase().split('@').pop() ?? '';
}

/**
 * The lead's score under the configured model (docs/design.md, "Scoring model"): every rule fires at
 * most once, decay comes from the time since the last engagement, the sum is clamped to 0–100,
 * and each point is explained.
 */
export function scoreLead(facts: LeadFacts, engagement: Engagement, now: Date, config: { scoring: ScoringConfig; icp: IcpConfig }): Score {
  const { rules } = config.scoring;
  const { icp } = config;
  const lines: ScoreLine[] = [];
  const fire = (rule: ScoringRule, reason: string) => lines.push({ rule, points: rules[rule], reason });

  for (const { rule, activity, reason } of behaviourRules) {
    if (engagement.seen.includes(activity)) fire(rule, reason);
  }
  if (engagement.openedEmails >= config.scoring.openedEmailsToScore) {
    fire('opened_emails', `opened ${engagement.openedEmails} emails`);
  }

  const title = facts.title ?? '';
  if (cLevel.test(title)) fire('c_level_title', `title "${title}" is C-level`);
  else if (managerLevel.test(title)) fire('manager_title', `title "${title}" is manager or director level`);
  if (studentOrIntern.test(title)) fire('student_title', `title "${title}" is a student or intern`);

  const industry = facts.industry?.trim().toLowerCase();
  if (industry && icp.industries.includes(industry)) fire('target_industry', `industry "${facts.industry}" is a target industry`);
  if (facts.employees !== undefined && facts.employees >= icp.employees.min && facts.employees <= icp.employees.max) {
    fire('icp_company_size', `${facts.employees} employees is within the ICP range ${icp.employees.min}–${icp.employees.max}`);
  }
  if (facts.country) {
    if (icp.countries.includes(facts.country)) fire('target_geography', `country ${facts.country} is in the target region`);
    else fire('outside_target_region', `country ${facts.country} is outside the target region`);
  }
  const stack = (facts.techStack ?? []).filter((tech) => icp.techStack.includes(tech.trim().toLowerCase()));
  if (stack.length > 0) fire('relevant_tech_stack', `uses ${stack.join(', ')}`);

  const domain = emailDomainOf(facts.email);
  if (icp.personalDomains.includes(domain)) fire('personal_email_domain', `personal email domain ${domain}`);
  if (icp.competitorDomains.includes(domain)) fire('competitor_domain', `competitor domain ${domain}`);

  const idle = now.getTime() - new Date(engagement.lastEngagementAt).getTime();
  const decay = decayStep(config.scoring, idle);
  if (decay) lines.push({ rule: 'decay', points: decay.points, reason: `no engagement for ${decay.after} or more` });

  const fitPoints = lines.filter((l) => fitRules.has(l.rule as ScoringRule)).reduce((sum, l) => sum + l.points, 0);
  const total = lines.reduce((sum, l) => sum + l.points, 0);
  return {
    score: Math.min(100, Math.max(0, total)),
    grade: gradeOf(fitPoints, config.scoring.grades),
    fitPoints,
    breakdown: lines.sort((a, b) => b.points - a.points),
    modelVersion: config.scoring.modelVersion,
  };
}

/** The largest decay step reached after `idleMs` without engagement, if any. */
export function decayStep(scoring: ScoringConfig, idleMs: number): { after: string; points: number } | undefined {
  return scoring.decay.filter((step) => idleMs >= durationMs(step.after)).sort((a, b) => durationMs(b.after) - durationMs(a.after))[0];
}

/** When decay next changes for a lead last engaged at `lastEngagementAt`, or undefined once the last step is reached. */
export function nextDecayAt(scoring: ScoringConfig, lastEngagementAt: string, now: Date): Date | undefined {
  const from = new Date(lastEngagementAt).getTime();
  const upcoming = scoring.decay.map((step) => from + durationMs(step.after)).filter((at) => at > now.getTime());
  return upcoming.length ? new Date(Math.min(...upcoming)) : undefined;
}

export function gradeOf(fitPoints: number, grades: ScoringConfig['grades']): Grade {
  if (fitPoints >= grades.A) return 'A';
  if (fitPoints >= grades.B) return 'B';
  if (fitPoints >= grades.C) return 'C';
  if (fitPoints >= grades.D) return 'D';
  return 'F';
}

/** "85 = requested a demo +50, title … +20, …": the sentence ops read. */
export function explain(score: Score): string {
  const parts = score.breakdown.map((l) => `${l.reason} ${l.points > 0 ? '+' : ''}${l.points}`);
  return `${score.score} = ${parts.join(', ') || 'no rule fired'}`;
}
