import { describe, expect, it } from 'vitest';
import { resolveLeadConfig } from '../config/load';
import { newEngagement, recordEngagement, type EngagementType } from './engagement';
import { decayStep, explain, gradeOf, nextDecayAt, scoreLead, type LeadFacts } from './scoring';
import { durationMs } from './duration';

const config = resolveLeadConfig({});
const now = new Date('2026-11-22T10:00:00Z');
const engaged = (...types: EngagementType[]) =>
  types.reduce((e, type) => recordEngagement(e, type, now.toISOString()), newEngagement(now.toISOString()));
const business: LeadFacts = { email: 'jane@unknown-co.com' };
const score = (facts: Partial<LeadFacts>, engagement = engaged()) => scoreLead({ ...business, ...facts }, engagement, now, config);
const line = (facts: Partial<LeadFacts>, engagement = engaged()) => score(facts, engagement).breakdown;

describe('scoring model v1 (docs/design.md tables, the seeds’ points)', () => {
  const behaviour: [EngagementType, string, number][] = [
    ['visited_pricing_page', 'visited_pricing_page', 15],
    ['submitted_contact_form', 'submitted_contact_form', 20],
    ['clicked_email_link', 'clicked_email_link', 10],
    ['attended_webinar', 'attended_webinar', 30],
    ['downloaded_content', 'downloaded_content', 10],
    ['requested_demo', 'requested_demo', 50],
  ];
  it.each(behaviour)('behaviour: %s scores rule %s at +%i', (activity, rule, points) => {
    expect(score({}, engaged(activity))).toMatchObject({ score: points, breakdown: [{ rule, points }] });
  });

  it('fires each behaviour rule once per lead, however often it happens', () => {
    expect(score({}, engaged('visited_pricing_page', 'visited_pricing_page', 'visited_pricing_page')).score).toBe(15);
  });

  it('opened 3+ emails: +8, firing on the third open', () => {
    expect(score({}, engaged('opened_email', 'opened_email')).score).toBe(0);
    expect(score({}, engaged('opened_email', 'opened_email', 'opened_email')).breakdown).toEqual([
      { rule: 'opened_emails', points: 8, reason: 'opened 3 emails' },
    ]);
    expect(score({}, engaged(...Array<EngagementType>(7).fill('opened_email'))).score).toBe(8);
  });

  const fit: [string, Partial<LeadFacts>, string, number][] = [
    ['C-level title', { title: 'CEO' }, 'c_level_title', 20],
    ['Chief … title', { title: 'Chief Revenue Officer' }, 'c_level_title', 20],
    ['Founder', { title: 'Co-Founder' }, 'c_level_title', 20],
    ['manager title', { title: 'Marketing Manager' }, 'manager_title', 10],
    ['director title', { title: 'Director of Sales' }, 'manager_title', 10],
    ['head of', { title: 'Head of Growth' }, 'manager_title', 10],
    ['VP', { title: 'VP Marketing' }, 'manager_title', 10],
    ['target industry', { industry: 'Software' }, 'target_industry', 15],
    ['company size in ICP range', { employees: 250 }, 'icp_company_size', 5],
    ['target geography', { country: 'DE' }, 'target_geography', 15],
    ['relevant tech stack', { techStack: ['Salesforce', 'jira'] }, 'relevant_tech_stack', 10],
  ];
  it.each(fit)('fit: %s scores %s at +%i', (_name, facts, rule, points) => {
    expect(line(facts)).toEqual([expect.objectContaining({ rule, points })]);
  });

  it('manager/director does not add to C-level', () => {
    expect(line({ title: 'CEO & Managing Director' }).map((l) => l.rule)).toEqual(['c_level_title']);
  });

  it('company size outside the ICP range scores nothing', () => {
    expect(line({ employees: 20 })).toEqual([]);
    expect(line({ employees: 50_000 })).toEqual([]);
  });

  const negative: [string, Partial<LeadFacts>, EngagementType[], string, number][] = [
    ['personal email domain', { email: 'jane@gmail.com' }, [], 'personal_email_domain', -10],
    ['visited careers page', {}, ['visited_careers_page'], 'visited_careers_page', -15],
    ['country outside the target region', { country: 'BR' }, [], 'outside_target_region', -10],
    ['student title', { title: 'Student' }, [], 'student_title', -10],
    ['intern title', { title: 'Marketing Intern' }, [], 'student_title', -10],
    ['unsubscribed', {}, ['unsubscribed'], 'unsubscribed', -15],
    ['competitor domain', { email: 'spy@leandata.com' }, [], 'competitor_domain', -20],
  ];
  it.each(negative)('negative: %s scores %s at %i (on top of a demo request)', (_name, facts, activities, rule, points) => {
    const result = score(facts, engaged('requested_demo', ...activities));
    expect(result.breakdown).toContainEqual(expect.objectContaining({ rule, points }));
    expect(result.score).toBe(50 + points);
  });

  it('clamps to 0–100', () => {
    expect(score({ email: 'x@gmail.com', country: 'BR', title: 'Student' }).score).toBe(0);
    const everything = score(
      { title: 'CEO', industry: 'saas', employees: 300, country: 'US', techStack: ['hubspot'] },
      engaged('requested_demo', 'attended_webinar', 'submitted_contact_form'),
    );
    expect(everything.score).toBe(100);
    expect(everything.breakdown.reduce((sum, l) => sum + l.points, 0)).toBe(165);
  });

  it('explains every point, largest first', () => {
    const result = score({ title: 'CTO', industry: 'software' }, engaged('requested_demo'));
    expect(explain(result)).toBe('85 = requested a demo +50, title "CTO" is C-level +20, industry "software" is a target industry +15');
    expect(result.modelVersion).toBe(1);
  });
});

describe('decay', () => {
  const at = (days: number) => new Date(now.getTime() + days * 86_400_000);
  const lastEngaged = engaged('requested_demo');

  it('takes 10 points after 30 days and 30 in total after 90, not before', () => {
    const after = (days: number) => scoreLead(business, lastEngaged, at(days), config);
    expect(after(29.9).score).toBe(50);
    expect(after(30).breakdown).toContainEqual({ rule: 'decay', points: -10, reason: 'no engagement for P30D or more' });
    expect(after(30).score).toBe(40);
    expect(after(90).score).toBe(20);
    expect(after(400).score).toBe(20);
  });

  it('is cleared by new engagement but not by careers-page visits or unsubscribing', () => {
    const later = at(45).toISOString();
    expect(scoreLead(business, recordEngagement(lastEngaged, 'opened_email', later), at(45), config).score).toBe(50);
    expect(scoreLead(business, recordEngagement(lastEngaged, 'visited_careers_page', later), at(45), config).score).toBe(25);
  });

  it('knows when it next changes', () => {
    expect(nextDecayAt(config.scoring, now.toISOString(), now)).toEqual(at(30));
    expect(nextDecayAt(config.scoring, now.toISOString(), at(31))).toEqual(at(90));
    expect(nextDecayAt(config.scoring, now.toISOString(), at(91))).toBeUndefined();
    expect(decayStep(config.scoring, durationMs('P60D'))).toEqual({ after: 'P30D', points: -10 });
  });
});

describe('grade', () => {
  it('comes from fit points alone', () => {
    expect(score({ title: 'CEO', industry: 'software', country: 'US' }).grade).toBe('A'); // 50
    expect(score({ title: 'VP Sales', industry: 'software', employees: 100 }, engaged('requested_demo')).grade).toBe('C'); // 30
    expect(score({ email: 'x@gmail.com' }, engaged('requested_demo', 'attended_webinar')).grade).toBe('F'); // -10
  });

  it('uses the configured thresholds', () => {
    const grades = { A: 50, B: 35, C: 20, D: 5 };
    expect([50, 49, 35, 20, 5, 4, -20].map((points) => gradeOf(points, grades))).toEqual(['A', 'B', 'B', 'C', 'D', 'F', 'F']);
  });
});
