import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackSettings } from '../../config/env';
import { loadLeadConfig } from '../../config/load';
import { slackClient } from '../../config/slack';
import { enqueueNotifications } from '../../db/outbox';
import { startNotifier } from '../../worker/notifier';
import { slackDelivery } from '../../worker/slack';
import { alwaysOpen as hours, salesReadyDemoRequests } from '../support/fixtures';
import { eventually, freshDatabase, startService, type ServiceUnderTest } from '../support/helpers';
import { SlackStub, type SlackCall } from '../support/slack-stub';

/**
 * The Slack app, end to end: the worker's notifier posts rep alerts to a local stub of Slack's Web
 * API (WebClient's base URL pointed at it); interactions are posted to the API signed the way Slack
 * signs them, and act through the lead's workflow. A database of its own: the notifier here
 * delivers every due entry in it.
 */

const secret = `action-link-secret-${randomUUID()}`;
const signingSecret = `slack-signing-${randomUUID()}`;
const { deadAfter, actionLinksValidFor } = loadLeadConfig('').notify;
const ops = { key: 'ops-dev' };

let stub: SlackStub;
let slack: SlackSettings;
let service: ServiceUnderTest;
let notifier: ReturnType<typeof startNotifier>;
let reps: { id: string; name: string; slackUserId: string }[];
let teamId: string;
const suffix = randomUUID().slice(0, 6);

beforeAll(async () => {
  stub = await new SlackStub().start();
  slack = { botToken: 'xoxb-test-1-stub', signingSecret, apiUrl: stub.url };
  // Made-up countries score −10 (outside the target region): a demo request (+50) is 40, sales-ready
  // here. The reminder comes at 2% of the demo request's five minutes (6 s), the breach long after the tests.
  service = await startService({
    databaseUrl: await freshDatabase('slack_app'),
    actionLinkSecret: secret,
    slack,
    config: { ...salesReadyDemoRequests, escalation: { reminderAt: 0.02 } },
  });
  notifier = startNotifier({
    sql: service.sql,
    slack: slackDelivery({
      sql: service.sql,
      client: slackClient(slack),
      actionLinkSecret: secret,
      publicBaseUrl: service.baseUrl,
      validFor: actionLinksValidFor,
    }),
    slackBotToken: slack.botToken,
    deadAfter,
    pollMs: 100,
  });
  const team = await service.request('POST', '/teams', {
    ...ops,
    body: { id: `team-${suffix}`, name: 'Slack', countries: ['XS'], businessHours: hours },
  });
  expect(team.status).toBe(201);
  teamId = team.body.id;
  reps = [];
  for (const [name, slackUserId] of [
    ['Ana', `U0ANA${suffix.toUpperCase()}`],
    ['Bo', `U0BO${suffix.toUpperCase()}`],
  ] as const) {
    const rep = await service.request('POST', '/reps', {
      ...ops,
      body: { id: `rep-${name.toLowerCase()}-${suffix}`, name, email: `${name.toLowerCase()}-${suffix}@example.com`, teamId, slackUserId },
    });
    expect(rep.status).toBe(201);
    reps.push({ id: rep.body.id, name, slackUserId });
  }
}, 120_000);

afterAll(async () => {
  await notifier?.stop();
  await service?.close();
  await stub?.stop();
});

/** A demo request from a new lead, routed: its id and owner. */
async function routedLead(company: string): Promise<{ leadId: string; owner: (typeof reps)[number] }> {
  const id = randomUUID().slice(0, 8);
  const captured = await service.request('POST', '/leads', {
    body: { email: `buyer.${id}@prospect-${id}.com`, source: 'demo_request', country: 'XS', company, title: 'CTO' },
  });
  expect(captured.status).toBe(202);
  return eventually(async () => {
    const view = await service.request('GET', `/leads/${captured.body.leadId}`, ops);
    expect(view.body.status).toBe('sql');
    const owner = reps.find((r) => r.id === view.body.ownerId);
    expect(owner).toBeDefined();
    return { leadId: view.body.leadId as string, owner: owner! };
  });
}

const lead = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, ops)).body;
const timelineCount = async (leadId: string, type: string) =>
  ((await service.request('GET', `/leads/${leadId}/timeline`, ops)).body.events as { type: string }[]).filter((e) => e.type === type)
    .length;

/** The Slack messages posted about a lead, as the stub received them. */
const postsAbout = (leadId: string) => stub.callsOf('chat.postMessage', (args) => String(args.text).includes(leadId));
const actionsOf = (call: Pick<SlackCall, 'args'>) =>
  (call.args.blocks as { type: string; elements?: { type: string; text?: { text: string }; action_id: string }[] }[]).find(
    (b) => b.type === 'actions',
  )?.elements ?? [];
const buttonOf = (call: Pick<SlackCall, 'args'>, label: string) => actionsOf(call).find((e) => e.text?.text === label)!;

/** Where the notifier recorded a lead's Slack message of `kind`. */
async function postedMessage(leadId: string, kind: string) {
  const [row] = await service.sql<{ slack_channel: string; slack_ts: string; status: string }[]>`
    SELECT slack_channel, slack_ts, status FROM notifications WHERE lead_id = ${leadId} AND channel = 'slack' AND kind = ${kind}`;
  return row;
}

/** Signs a body the way Slack does (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
const sign = (body: string, timestamp: string, key = signingSecret) =>
  `v0=${createHmac('sha256', key).update(`v0:${timestamp}:${body}`).digest('hex')}`;

/** A `block_actions` interaction as Slack posts it: the element clicked in a message, by a Slack user. */
async function interact(
  message: { channel: string; ts: string },
  element: { action_id: string; type?: string },
  userId: string,
  options: { selected?: string; timestamp?: number; key?: string; tamper?: boolean } = {},
) {
  const payload = {
    type: 'block_actions',
    user: { id: userId, team_id: 'T0STUB' },
    api_app_id: 'A0STUB',
    team: { id: 'T0STUB' },
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    channel: { id: message.channel },
    response_url: stub.responseUrl(randomUUID()),
    trigger_id: '1.2.3',
    actions: [
      {
        type: element.type ?? 'button',
        action_id: element.action_id,
        block_id: 'lead_actions',
        action_ts: String(Date.now() / 1000),
        ...(options.selected && { selected_option: { text: { type: 'plain_text', text: options.selected }, value: options.selected } }),
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const response = await fetch(`${service.baseUrl}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': sign(body, timestamp, options.key),
    },
    body: options.tamper ? body.replace('block_actions', 'block_actionz') : body,
  });
  return { status: response.status, text: await response.text(), responseUrl: payload.response_url };
}
const ephemeralAt = (responseUrl: string) => stub.responses.filter((r) => r.path === new URL(responseUrl).pathname).map((r) => r.body);

describe('Slack app: rep alerts as Block Kit messages with buttons', () => {
  let first: { leadId: string; owner: (typeof reps)[number] };
  let assignment: SlackCall;

  beforeAll(async () => {
    first = await routedLead('Widgets & <!channel>');
    assignment = await eventually(() => {
      const [call] = postsAbout(first.leadId);
      expect(call).toBeDefined();
      return call!;
    });
  });

  it("the routed lead's rep gets a direct message with Accept, Log call and Disqualify, captured text escaped", async () => {
    expect(assignment.authorization).toBe(`Bearer ${slack.botToken}`);
    expect(assignment.args.channel).toBe(first.owner.slackUserId);
    expect(actionsOf(assignment).map((e) => [e.type, e.text?.text])).toEqual([
      ['button', 'Accept'],
      ['button', 'Log call'],
      ['button', 'Disqualify'],
    ]);
    for (const element of actionsOf(assignment)) expect(element.action_id).toMatch(/^a1\./);
    const text = JSON.stringify(assignment.args.blocks);
    expect(text).toContain('Widgets &amp; &lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('*Score*\\n60');
    expect(text).toContain('*Priority*\\nP1');
    expect(text).toMatch(/\*SLA due\*\\n<!date\^\d+\^/);
    expect(text).toContain(`${service.baseUrl}/act/a1.`);
    // The other rep gets nothing about it; the message is recorded where chat.update will find it.
    expect(postsAbout(first.leadId).filter((c) => c.args.channel !== first.owner.slackUserId)).toEqual([]);
    await eventually(async () =>
      expect(await postedMessage(first.leadId, 'assignment')).toMatchObject({
        status: 'sent',
        slack_channel: `D${first.owner.slackUserId.slice(1)}`,
      }),
    );
  });

  it('an unanswered alert is sent to Slack again at the reminder step, with its buttons', async () => {
    const reminder = await eventually(() => {
      const call = postsAbout(first.leadId).find((c) => String(c.args.text).startsWith('Reminder'));
      expect(call).toBeDefined();
      return call!;
    });
    expect(reminder.args.channel).toBe(first.owner.slackUserId);
    expect(actionsOf(reminder).map((e) => e.text?.text)).toEqual(['Accept', 'Log call', 'Disqualify']);
    await eventually(async () => expect((await postedMessage(first.leadId, 'sla_reminder'))?.status).toBe('sent'));
  });

  it('the interactivity URL is in the OpenAPI document, as a form body with the payload', async () => {
    const doc = (await service.request('GET', '/openapi.json', { key: null })).body;
    const post = doc.paths['/slack/interactions'].post;
    expect(post.requestBody.content['application/x-www-form-urlencoded'].schema.required).toEqual(['payload']);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '401']));
  });

  it('a tampered, stale or wrongly signed interaction answers 401 and changes nothing', async () => {
    const message = (await postedMessage(first.leadId, 'assignment'))!;
    const target = { channel: message.slack_channel, ts: message.slack_ts };
    const accept = buttonOf(assignment, 'Accept');
    expect((await interact(target, accept, first.owner.slackUserId, { tamper: true })).status).toBe(401);
    expect((await interact(target, accept, first.owner.slackUserId, { timestamp: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    expect((await interact(target, accept, first.owner.slackUserId, { key: 'not-the-signing-secret' })).status).toBe(401);
    expect((await lead(first.leadId)).status).toBe('sql');
    expect(stub.callsOf('chat.update')).toEqual([]);
  });

  it('a click by another Slack user is refused to that user alone and changes nothing', async () => {
    const message = (await postedMessage(first.leadId, 'assignment'))!;
    const other = reps.find((r) => r.id !== first.owner.id)!;
    const click = await interact(
      { channel: message.slack_channel, ts: message.slack_ts },
      buttonOf(assignment, 'Accept'),
      other.slackUserId,
    );
    expect(click.status).toBe(200);
    const [refusal] = await eventually(() => {
      const answers = ephemeralAt(click.responseUrl);
      expect(answers).toHaveLength(1);
      return answers;
    });
    expect(refusal).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(refusal!.text).toMatch(/Only the rep this lead was sent to/);
    expect(refusal!.text).not.toContain(first.owner.name);
    expect((await lead(first.leadId)).status).toBe('sql');
    expect(await timelineCount(first.leadId, 'responded')).toBe(0);
    expect(stub.callsOf('chat.update')).toEqual([]);
  });

  it("the rep's Accept accepts the lead once, however often clicked, and updates the messages in place", async () => {
    const message = (await postedMessage(first.leadId, 'assignment'))!;
    const target = { channel: message.slack_channel, ts: message.slack_ts };
    const accept = buttonOf(assignment, 'Accept');
    const [click, doubleClick] = await Promise.all([
      interact(target, accept, first.owner.slackUserId),
      interact(target, accept, first.owner.slackUserId),
    ]);
    expect([click.status, doubleClick.status]).toEqual([200, 200]);
    await eventually(async () => expect((await lead(first.leadId)).status).toBe('accepted'));
    const again = await interact(target, accept, first.owner.slackUserId);
    expect(again.status).toBe(200);
    await eventually(() => expect(ephemeralAt(again.responseUrl)[0]?.text).toMatch(/already accepted/));
    expect(await timelineCount(first.leadId, 'responded')).toBe(1);
    const reminder = (await postedMessage(first.leadId, 'sla_reminder'))!;
    // Both messages about the lead to the rep: the buttons gone, what was done said instead.
    const updates = await eventually(() => {
      const found = stub.callsOf('chat.update', (args) => String(args.text).includes(first.leadId));
      expect(new Set(found.map((u) => u.args.ts))).toEqual(new Set([message.slack_ts, reminder.slack_ts]));
      return found;
    });
    for (const update of updates) {
      expect(update.args.channel).toBe(message.slack_channel);
      expect(actionsOf(update)).toEqual([]);
      expect(JSON.stringify(update.args.blocks)).toMatch(
        new RegExp(`\\*Accepted\\* by ${first.owner.name} at <!date\\^\\d+\\^\\{time\\}\\|\\d\\d:\\d\\d UTC>`),
      );
      expect(JSON.stringify(update.args.blocks)).toContain('*Status*\\naccepted');
    }
  });

  it('Log call logs one call touch (the first response), however often clicked, and says so in the message', async () => {
    const called = await routedLead('Calls Co');
    const posted = await eventually(() => {
      const [call] = postsAbout(called.leadId);
      expect(call).toBeDefined();
      return call!;
    });
    const message = await eventually(async () => {
      const row = await postedMessage(called.leadId, 'assignment');
      expect(row?.status).toBe('sent');
      return row!;
    });
    const target = { channel: message.slack_channel, ts: message.slack_ts };
    for (let i = 0; i < 2; i++) expect((await interact(target, buttonOf(posted, 'Log call'), called.owner.slackUserId)).status).toBe(200);
    await eventually(async () => expect(await timelineCount(called.leadId, 'touch')).toBe(1));
    expect(await timelineCount(called.leadId, 'responded')).toBe(1);
    await eventually(() =>
      expect(JSON.stringify(stub.callsOf('chat.update', (args) => args.ts === message.slack_ts).at(-1)?.args.blocks)).toContain(
        `*Call logged* by ${called.owner.name}`,
      ),
    );
  });

  it('Disqualify asks for a reason in the message, then disqualifies with it', async () => {
    const second = await routedLead('Gadgets Ltd');
    const posted = await eventually(() => {
      const [call] = postsAbout(second.leadId);
      expect(call).toBeDefined();
      return call!;
    });
    const message = await eventually(async () => {
      const row = await postedMessage(second.leadId, 'assignment');
      expect(row?.status).toBe('sent');
      return row!;
    });
    const target = { channel: message.slack_channel, ts: message.slack_ts };
    expect((await interact(target, buttonOf(posted, 'Disqualify'), second.owner.slackUserId)).status).toBe(200);
    const choice = await eventually(() => {
      const [update] = stub.callsOf('chat.update', (args) => args.ts === message.slack_ts);
      expect(update).toBeDefined();
      return update!;
    });
    const select = actionsOf(choice).find((e) => e.type === 'static_select') as unknown as {
      action_id: string;
      options: { value: string }[];
    };
    expect(select.options.map((o) => o.value)).toContain('no_budget');
    expect(select.options.map((o) => o.value)).not.toContain('other');
    expect((await lead(second.leadId)).status).toBe('sql');
    expect(
      (await interact(target, { action_id: select.action_id, type: 'static_select' }, second.owner.slackUserId, { selected: 'no_budget' }))
        .status,
    ).toBe(200);
    await eventually(async () => expect(await lead(second.leadId)).toMatchObject({ status: 'disqualified', statusReason: 'no_budget' }));
    await eventually(() =>
      expect(JSON.stringify(stub.callsOf('chat.update', (args) => args.ts === message.slack_ts).at(-1)?.args.blocks)).toContain(
        '*Disqualified* by',
      ),
    );
  });
});

describe('Slack app: failures', () => {
  let leadId: string;
  let owner: (typeof reps)[number];
  beforeAll(async () => {
    ({ leadId, owner } = await routedLead('Failures Inc'));
  });

  /** An alert to the rep about the lead, queued as the workflow queues one; its Slack entry's row once it is settled. */
  async function alert(kind: 'sla_breach' | 'assignment', marker: string) {
    const key = `test:${randomUUID()}`;
    await enqueueNotifications(service.sql, leadId, [
      { key, kind, recipient: owner.id, message: `${marker} about ${leadId}`, data: { leadId } },
    ]);
    return key;
  }
  const entry = async (key: string) =>
    (
      await service.sql<{ status: string; attempts: number; last_error: string | null }[]>`
      SELECT status, attempts, last_error FROM notifications WHERE dedupe_key = ${`${key}:slack`}`
    )[0];

  it("a rate-limited post waits out Slack's Retry-After, then goes out", async () => {
    const marker = `rate-${randomUUID().slice(0, 6)}`;
    stub.failNext('chat.postMessage', (args) => String(args.text).startsWith(marker), { rateLimitedFor: 3 });
    const key = await alert('assignment', marker);
    await eventually(async () => expect(await entry(key)).toMatchObject({ status: 'sent', attempts: 2 }));
    const [limited, posted] = stub.callsOf('chat.postMessage', (args) => String(args.text).startsWith(marker));
    // Not sooner than Slack asked (the notifier's own backoff after one attempt would be 2 s).
    expect(posted!.at - limited!.at).toBeGreaterThanOrEqual(2_900);
  });

  it('a permanent Slack error (invalid_auth) dead-letters the entry at once, with the reason, and it is not retried', async () => {
    const marker = `auth-${randomUUID().slice(0, 6)}`;
    stub.failNext('chat.postMessage', (args) => String(args.text).startsWith(marker), { error: 'invalid_auth' });
    const key = await alert('sla_breach', marker);
    await eventually(async () =>
      expect(await entry(key)).toMatchObject({ status: 'dead', attempts: 1, last_error: 'Slack answered invalid_auth' }),
    );
    const dead = await service.request('GET', '/notifications?status=dead', ops);
    expect(dead.body.notifications.map((n: { channel: string; lastError: string }) => [n.channel, n.lastError])).toContainEqual([
      'slack',
      'Slack answered invalid_auth',
    ]);
    expect(JSON.stringify(dead.body)).not.toContain(slack.botToken);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(stub.callsOf('chat.postMessage', (args) => String(args.text).startsWith(marker))).toHaveLength(1);
  });

  it('an alert that asks for no action carries no buttons', async () => {
    const marker = `plain-${randomUUID().slice(0, 6)}`;
    const key = await alert('sla_breach', marker);
    await eventually(async () => expect((await entry(key))?.status).toBe('sent'));
    const [call] = stub.callsOf('chat.postMessage', (args) => String(args.text).startsWith(marker));
    expect(actionsOf(call!)).toEqual([]);
  });

  it('a click by the rep the lead was taken from says it was reassigned, naming nobody, and changes nothing', async () => {
    const posted = await eventually(() => {
      const call = postsAbout(leadId).find((c) => c.args.channel === owner.slackUserId && actionsOf(c).length > 0);
      expect(call).toBeDefined();
      return call!;
    });
    const message = await eventually(async () => {
      const row = await postedMessage(leadId, 'assignment');
      expect(row?.status).toBe('sent');
      return row!;
    });
    const next = reps.find((r) => r.id !== owner.id)!;
    expect((await service.request('POST', `/leads/${leadId}/reassign`, { ...ops, body: { ownerId: next.id } })).status).toBe(200);
    await eventually(async () => expect((await lead(leadId)).ownerId).toBe(next.id));
    const click = await interact({ channel: message.slack_channel, ts: message.slack_ts }, buttonOf(posted, 'Accept'), owner.slackUserId);
    expect(click.status).toBe(200);
    const answer = await eventually(() => {
      const [found] = ephemeralAt(click.responseUrl);
      expect(found).toBeDefined();
      return found!;
    });
    expect(answer.text).toMatch(/This lead was reassigned/);
    expect(answer.text).not.toContain(next.name);
    expect(await lead(leadId)).toMatchObject({ status: 'sql', ownerId: next.id });
    expect(await timelineCount(leadId, 'responded')).toBe(0);
  });
});
