import { expect } from 'vitest';
import { eventually, type ServiceUnderTest } from './helpers';

/*
 * What many tests share: leads, configurations and time. A test that needs one of these takes it
 * from here, so that a newcomer finds the sample a test runs on in one place, and a change to the
 * rule it leans on (a threshold, the hours) is made once.
 */

// --- time ------------------------------------------------------------------------------------

/** Business hours that never close, so that SLA clocks run at once. */
export const alwaysOpen = { timeZone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

/** Monday to Friday, nine to five in UTC: the hours whose edges the SLA tests cross. */
export const weekdaysNineToFive = { timeZone: 'UTC', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

// --- configurations --------------------------------------------------------------------------

/**
 * The thresholds most end-to-end tests run under: a made-up country (XK, XL, QS…: outside the
 * target region) scores −10, a demo request +50, so a demo request from one is sales-ready (40) and
 * routed to the team a test gives that country, and a webinar registrant a marketing lead.
 * Spread it into a larger configuration: `{ ...salesReadyDemoRequests, escalation: … }`.
 */
export const salesReadyDemoRequests = { qualification: { sqlAt: 40, mqlAt: 20 } };

// --- leads -----------------------------------------------------------------------------------

/** Who can post a capture: a service under test, or the API of processes started for a test (`requestTo`). */
type Api = Pick<ServiceUnderTest, 'request'>;

/** The capture's answer (docs/api.md "Capture"). */
export interface Captured {
  leadId: string;
  duplicate: boolean;
  status: string;
}

/** Posts a capture as a capture endpoint's client does (`POST /leads` with the capture key), and expects it taken: 202. */
export async function captureLead(api: Api, body: Record<string, unknown>, headers?: Record<string, string>): Promise<Captured> {
  const answer = await api.request('POST', '/leads', { body, headers });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as Captured;
}

/**
 * Captures a lead, then waits until ops see it as `expected` (`GET /leads/{id}` matches it: scored,
 * routed…), and answers that view.
 */
export async function captureUntil<View extends Record<string, unknown>>(
  api: Api,
  body: Record<string, unknown>,
  expected: Record<string, unknown>,
): Promise<View & { leadId: string }> {
  const { leadId } = await captureLead(api, body);
  return eventually(async () => {
    const view = await api.request('GET', `/leads/${leadId}`, { key: 'ops-dev' });
    expect(view.body).toMatchObject(expected);
    return view.body as View & { leadId: string };
  });
}
