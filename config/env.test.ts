import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  actionLinkSecretFrom,
  applicationName,
  developmentActionLinkSecret,
  developmentSlackSigningSecret,
  extraVendorOriginsFrom,
  loadEngineEnv,
  loadEnv,
  slackSettingsFrom,
} from './env';
import { loadLeadConfig } from './load';
import { durationMs } from '../domain/duration';

function overrideFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lead-config-')), 'override.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('lead configuration', () => {
  it('ships the seeds default of 90 days of inactivity before an open lead is closed', () => {
    expect(loadLeadConfig('').aging.inactiveDisqualifyAfter).toBe('P90D');
  });

  it('merges a LEAD_CONFIG file over the defaults', () => {
    const config = loadLeadConfig(overrideFile({ aging: { inactiveDisqualifyAfter: 'PT2M' } }));
    expect(durationMs(config.aging.inactiveDisqualifyAfter)).toBe(120_000);
  });

  it('stops with a message naming the key of a bad value', () => {
    expect(() => loadLeadConfig(overrideFile({ aging: { inactiveDisqualifyAfter: 'ninety days' } }))).toThrow(
      /aging\.inactiveDisqualifyAfter: must be a positive ISO-8601 duration/,
    );
  });

  it('rejects unknown keys, which are usually typos', () => {
    expect(() => loadLeadConfig(overrideFile({ agin: {} }))).toThrow(/agin|Unrecognized key/);
  });

  it('leases unanswered Idempotency-Keys for 30 s and keeps keys a day, both configurable', () => {
    expect(loadLeadConfig('').idempotency).toEqual({ lease: 'PT30S', expireAfter: 'P1D' });
    expect(loadLeadConfig(overrideFile({ idempotency: { expireAfter: 'PT1H' } })).idempotency).toEqual({
      lease: 'PT30S',
      expireAfter: 'PT1H',
    });
    expect(() => loadLeadConfig(overrideFile({ idempotency: { lease: '30s' } }))).toThrow(
      /idempotency\.lease: must be a positive ISO-8601 duration/,
    );
  });

  it('limits failed authentication per address and per source by default, all configurable', () => {
    expect(loadLeadConfig('').unauthenticated).toEqual({
      perAddress: { requests: 300, per: 'PT1M' },
      perSource: { requests: 60, per: 'PT1M' },
      missCache: { ttl: 'PT30S', maxEntries: 10_000 },
      trustedProxies: [],
    });
    expect(loadLeadConfig(overrideFile({ unauthenticated: { trustedProxies: ['10.0.0.2'] } })).unauthenticated.trustedProxies).toEqual([
      '10.0.0.2',
    ]);
    expect(() => loadLeadConfig(overrideFile({ unauthenticated: { perSource: { requests: 0, per: 'PT1M' } } }))).toThrow(
      /unauthenticated\.perSource\.requests/,
    );
  });

  it('names the file when it is not JSON', () => {
    const path = overrideFile('{ not json');
    expect(() => loadLeadConfig(path)).toThrow(path);
  });

  it('ships the recycling schedule and the default cadences, and takes a two-minute recycle for acceptance runs', () => {
    const defaults = loadLeadConfig('');
    expect(defaults.recycling.reengagement.map((touch) => touch.at)).toEqual(['P30D', 'P60D', 'P90D']);
    expect(defaults.recycling.archiveAfter).toBe('P90D');
    expect(defaults.aging.acceptedIdleAfter).toBe('P30D');
    expect(defaults.cadences['mql-nurture']!.reduce((days, step) => days + durationMs(step.after) / 86_400_000, 0)).toBe(180);
    expect(defaults.cadences['marketing-pool']).toHaveLength(12);
    const quick = loadLeadConfig(
      overrideFile({ recycling: { reengagement: [{ at: 'PT1M', channel: 'email', template: 'quick' }], archiveAfter: 'PT2M' } }),
    );
    expect(quick.recycling).toEqual({ reengagement: [{ at: 'PT1M', channel: 'email', template: 'quick' }], archiveAfter: 'PT2M' });
  });

  it('names the key of a bad cadence step or an unordered re-engagement schedule', () => {
    expect(() => loadLeadConfig(overrideFile({ cadences: { 'mql-nurture': [{ after: 'P3D', channel: 'fax', template: 'x' }] } }))).toThrow(
      /cadences\.mql-nurture\.0\.channel/,
    );
    const unordered = [
      { at: 'P60D', channel: 'email', template: 'a' },
      { at: 'P30D', channel: 'email', template: 'b' },
    ];
    expect(() => loadLeadConfig(overrideFile({ recycling: { reengagement: unordered } }))).toThrow(
      /recycling\.reengagement: must be in increasing order/,
    );
  });
});

describe('environment', () => {
  it("falls back to the embedded stack's defaults when nothing is set", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, EMBEDDED_PG_PORT: 54320, TEMPORAL_NAMESPACE: 'default', TEMPORAL_TASK_QUEUE: 'leads' });
    expect(env.WORKER_MAX_CACHED_WORKFLOWS).toBeUndefined(); // the worker's own default
    expect(env.LEAD_DATA_DIR).toBeUndefined();
    expect(applicationName(env)).toBe('lead-orchestration');
  });

  it('reads every variable of the service in one place', () => {
    const env = loadEnv({
      WORKER_MAX_CACHED_WORKFLOWS: '200',
      EMBEDDED_PG_PORT: '54399',
      LEAD_DATA_DIR: '/var/tmp/leads',
      LEAD_ENGINE_CACHE: '/var/cache/engine',
      TEMPORAL_CLI: '/usr/local/bin/temporal',
      ENRICHMENT_API_KEY: 'vendor-key',
      LEAD_CONFIG: '/etc/leads.json',
      npm_lifecycle_event: 'worker',
    });
    expect(env).toMatchObject({
      WORKER_MAX_CACHED_WORKFLOWS: 200,
      EMBEDDED_PG_PORT: 54399,
      LEAD_DATA_DIR: '/var/tmp/leads',
      LEAD_ENGINE_CACHE: '/var/cache/engine',
      TEMPORAL_CLI: '/usr/local/bin/temporal',
      ENRICHMENT_API_KEY: 'vendor-key',
      LEAD_CONFIG: '/etc/leads.json',
    });
    expect(applicationName(env)).toBe('worker');
  });

  it.each(['0', '-5', '1.5', 'many', '1e3'])('refuses WORKER_MAX_CACHED_WORKFLOWS=%s, naming the variable and the value', (value) => {
    expect(() => loadEnv({ WORKER_MAX_CACHED_WORKFLOWS: value })).toThrow(
      `WORKER_MAX_CACHED_WORKFLOWS: must be a positive integer, got "${value}"`,
    );
  });

  it('names every bad variable at once', () => {
    expect(() => loadEnv({ EMBEDDED_PG_PORT: '70000', PORT: 'http', WORKER_MAX_CACHED_WORKFLOWS: '0' })).toThrow(
      /invalid environment:\n {2}PORT: must be a port number \(0-65535\), got "http"\n {2}WORKER_MAX_CACHED_WORKFLOWS: .*\n {2}EMBEDDED_PG_PORT: must be a port number/,
    );
  });

  it('takes an empty value as unset', () => {
    const env = loadEnv({ WORKER_MAX_CACHED_WORKFLOWS: '', EMBEDDED_PG_PORT: '', LEAD_DATA_DIR: '', XDG_CACHE_HOME: '', TEMPORAL_CLI: '' });
    expect(env).toMatchObject({
      WORKER_MAX_CACHED_WORKFLOWS: undefined,
      EMBEDDED_PG_PORT: 54320,
      LEAD_DATA_DIR: undefined,
      XDG_CACHE_HOME: undefined,
      TEMPORAL_CLI: undefined,
    });
  });

  it("provisions the engine whatever the service's variables hold", () => {
    expect(loadEngineEnv({ PORT: 'http', LEAD_ENGINE_CACHE: '/var/cache/engine', XDG_CACHE_HOME: '' })).toEqual({
      LEAD_ENGINE_CACHE: '/var/cache/engine',
    });
  });

  it('takes ACTION_LINK_SECRET by the rule of UNSUBSCRIBE_SECRET: never the development one where real keys are required', () => {
    const real = 'r'.repeat(40);
    expect(actionLinkSecretFrom(loadEnv({ NODE_ENV: 'development' }))).toBe(developmentActionLinkSecret);
    expect(actionLinkSecretFrom(loadEnv({ NODE_ENV: 'development', ACTION_LINK_SECRET: real }))).toBe(real);
    const production = { NODE_ENV: 'production' };
    // No alerts go out: no links, /act answers 404.
    expect(actionLinkSecretFrom(loadEnv({ ...production, SMTP_URL: 'off' }))).toBeUndefined();
    expect(
      actionLinkSecretFrom(loadEnv({ ...production, SMTP_URL: 'off', ACTION_LINK_SECRET: developmentActionLinkSecret })),
    ).toBeUndefined();
    for (const alerts of [
      { SMTP_URL: 'smtp://mail.example.com:587' },
      { SMTP_URL: 'off', NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x' },
    ]) {
      expect(() => actionLinkSecretFrom(loadEnv({ ...production, ...alerts }))).toThrow(
        /ACTION_LINK_SECRET must be set .*openssl rand -base64 32/,
      );
      expect(() => actionLinkSecretFrom(loadEnv({ ...production, ...alerts, ACTION_LINK_SECRET: developmentActionLinkSecret }))).toThrow(
        /ACTION_LINK_SECRET/,
      );
      expect(actionLinkSecretFrom(loadEnv({ ...production, ...alerts, ACTION_LINK_SECRET: real }))).toBe(real);
    }
    expect(() => loadEnv({ ACTION_LINK_SECRET: 'short' })).toThrow(/ACTION_LINK_SECRET: must be at least 32 characters/);
  });

  it('takes the Slack app only with its signing secret where real keys are required, and never the development one there', () => {
    const token = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc' };
    expect(slackSettingsFrom(loadEnv({ NODE_ENV: 'development' }))).toBeUndefined();
    expect(slackSettingsFrom(loadEnv({ NODE_ENV: 'development', ...token, SLACK_API_URL: 'http://127.0.0.1:4011/api' }))).toEqual({
      botToken: 'xoxb-1-2-abc',
      signingSecret: developmentSlackSigningSecret,
      apiUrl: 'http://127.0.0.1:4011/api/',
    });
    const production = { NODE_ENV: 'production', ...token };
    expect(() => slackSettingsFrom(loadEnv(production))).toThrow(/SLACK_SIGNING_SECRET must be set .* because NODE_ENV is production/);
    expect(() => slackSettingsFrom(loadEnv({ ...production, SLACK_SIGNING_SECRET: developmentSlackSigningSecret }))).toThrow(
      /SLACK_SIGNING_SECRET/,
    );
    const secret = { SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5' };
    expect(slackSettingsFrom(loadEnv({ ...production, ...secret }))).toMatchObject({
      signingSecret: secret.SLACK_SIGNING_SECRET,
      apiUrl: 'https://slack.com/api/',
    });
    expect(() => slackSettingsFrom(loadEnv({ ...production, ...secret, SLACK_API_URL: 'http://stub.example/api/' }))).toThrow(
      /SLACK_API_URL must be https/,
    );
    // The buttons are action-link tokens: with Slack on, production needs a real ACTION_LINK_SECRET too.
    expect(() => actionLinkSecretFrom(loadEnv({ ...production, ...secret, SMTP_URL: 'off' }))).toThrow(/ACTION_LINK_SECRET must be set/);
    expect(() => loadEnv({ SLACK_BOT_TOKEN: 'xoxp-user-token' })).toThrow(/SLACK_BOT_TOKEN: must be a bot token/);
  });

  it('action links work for 14 days unless configured otherwise', () => {
    expect(loadLeadConfig('').notify.actionLinksValidFor).toBe('P14D');
    expect(loadLeadConfig(overrideFile({ notify: { actionLinksValidFor: 'P2D' } })).notify.actionLinksValidFor).toBe('P2D');
  });
});

describe('EXTRA_VENDOR_ORIGINS', () => {
  it('lists origins for development and tests, and is refused where real keys are required', () => {
    expect(extraVendorOriginsFrom(loadEnv({}))).toEqual([]);
    expect(extraVendorOriginsFrom(loadEnv({ EXTRA_VENDOR_ORIGINS: 'http://127.0.0.1:4010, https://graph.stub.test' }))).toEqual([
      'http://127.0.0.1:4010',
      'https://graph.stub.test',
    ]);
    expect(() => extraVendorOriginsFrom(loadEnv({ EXTRA_VENDOR_ORIGINS: 'http://127.0.0.1:4010/v21.0' }))).toThrow(/is not an origin/);
    expect(() => extraVendorOriginsFrom(loadEnv({ EXTRA_VENDOR_ORIGINS: 'http://127.0.0.1:4010', NODE_ENV: 'production' }))).toThrow(
      'EXTRA_VENDOR_ORIGINS is for development and tests only and is not accepted because NODE_ENV is production',
    );
    expect(() =>
      extraVendorOriginsFrom(
        loadEnv({ EXTRA_VENDOR_ORIGINS: 'http://127.0.0.1:4010', DATABASE_URL: 'postgres://leads@db.example:5432/leads' }),
      ),
    ).toThrow(/not accepted because DATABASE_URL points at external services/);
  });
});
