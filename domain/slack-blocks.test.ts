import { describe, expect, it } from 'vitest';
import { checkActionLinkToken } from './action-links';
import {
  maxActionIdChars,
  slackActionTokens,
  slackAlertMessage,
  slackDisqualifyReasons,
  slackTime,
  type SlackLeadSummary,
} from './slack-blocks';

const secret = 'slack-blocks-test-secret-0123456789abcdef';
const expiresAt = new Date('2026-12-18T10:00:00Z');
const tokens = slackActionTokens(secret, { leadId: 'lead-0123456789abcdef01234567', repId: 'rep-ana', nonce: 'n0nce' }, expiresAt);
const lead: SlackLeadSummary = {
  company: 'Widgets & <!channel>',
  title: 'CTO <@U123>',
  score: 60,
  priority: 'P1',
  slaDueAt: '2026-12-04T10:05:00Z',
  status: 'sql',
};

const actions = (blocks: unknown[]) =>
  (blocks as { type: string; elements?: { type: string; text?: { text: string }; action_id: string }[] }[]).find(
    (b) => b.type === 'actions',
  );

describe('slackAlertMessage', () => {
  it('shows the lead with every captured value escaped for mrkdwn, in fields of their own', () => {
    const { text, blocks } = slackAlertMessage({ message: 'New P1 lead lead-1 (Widgets & <!channel>): respond within PT5M', lead, tokens });
    expect(text).toBe('New P1 lead lead-1 (Widgets &amp; &lt;!channel&gt;): respond within PT5M');
    const all = JSON.stringify(blocks);
    expect(all).not.toMatch(/<!channel>|<@U123>/);
    const fields = (blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toEqual([
      '*Company*\nWidgets &amp; &lt;!channel&gt;',
      '*Title*\nCTO &lt;@U123&gt;',
      '*Score*\n60',
      '*Priority*\nP1',
      '*SLA due*\n<!date^1796378700^{date_short_pretty} {time}|2026-12-04 10:05 UTC>',
      '*Status*\nsql',
    ]);
  });

  it('offers Accept, Log call and Disqualify, each carrying the signed token of its own action', () => {
    const elements = actions(slackAlertMessage({ message: 'm', lead, tokens }).blocks)!.elements!;
    expect(elements.map((e) => e.text?.text)).toEqual(['Accept', 'Log call', 'Disqualify']);
    expect(elements.map((e) => checkActionLinkToken(secret, e.action_id, new Date('2026-12-04T10:00:00Z')))).toEqual(
      ['accept', 'call', 'disqualify'].map((action) => ({
        leadId: 'lead-0123456789abcdef01234567',
        repId: 'rep-ana',
        action,
        nonce: 'n0nce',
      })),
    );
  });

  it('leaves Accept out once the lead is no longer waiting to be accepted', () => {
    const elements = actions(slackAlertMessage({ message: 'm', lead: { ...lead, status: 'accepted' }, tokens }).blocks)!.elements!;
    expect(elements.map((e) => e.text?.text)).toEqual(['Log call', 'Disqualify']);
  });

  it('turns Disqualify into a choice of reasons (all but other, which needs a note) under the same token', () => {
    const elements = actions(slackAlertMessage({ message: 'm', lead, tokens, choosingReason: true }).blocks)!.elements as unknown as {
      type: string;
      action_id: string;
      options?: { value: string }[];
    }[];
    const select = elements.find((e) => e.type === 'static_select')!;
    expect(select.action_id).toBe(tokens.disqualify);
    expect(select.options!.map((o) => o.value)).toEqual(slackDisqualifyReasons);
    expect(slackDisqualifyReasons).not.toContain('other');
  });

  it('after an action says who did what and when, without buttons; the rep name is escaped', () => {
    const { blocks } = slackAlertMessage({
      message: 'm',
      lead,
      tokens,
      done: { what: 'Accepted', by: 'Ana <Ops>', at: new Date('2026-12-04T10:02:30Z') },
    });
    expect(actions(blocks)).toBeUndefined();
    expect(JSON.stringify(blocks)).toContain('*Accepted* by Ana &lt;Ops&gt; at <!date^1796378550^{time}|10:02 UTC>');
  });

  it('an alert about no stored lead is its words alone', () => {
    expect(slackAlertMessage({ message: 'Lead <b> erased' }).blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Lead &lt;b&gt; erased' } },
    ]);
  });
});

describe('slackActionTokens', () => {
  it("fit Slack's action_id limit for the longest rep id the API takes (64 characters)", () => {
    const longest = slackActionTokens(
      secret,
      { leadId: 'lead-0123456789abcdef01234567', repId: 'r'.repeat(64), nonce: 'AAAAAAAAAAAA' },
      expiresAt,
    );
    for (const token of Object.values(longest)) expect(token.length).toBeLessThanOrEqual(maxActionIdChars);
  });
});

describe('slackTime', () => {
  it("is Slack's date markup, read in each reader's time zone, with the UTC time as fallback", () => {
    expect(slackTime(new Date('2026-12-04T10:02:00Z'), '{time}')).toBe('<!date^1796378520^{time}|10:02 UTC>');
  });
});
