import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEmbeddedStackProof } from '../../config/embedded-stack';
import { developmentLeadIdSecret } from '../../config/env';
import { startService, type ServiceUnderTest } from '../support/helpers';
import { processEnv, startProcess } from '../support/processes';

let service: ServiceUnderTest;
beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.close();
});

const ops = { key: 'ops-dev' };

async function newRep() {
  const id = `rep-keys-${randomUUID().slice(0, 8)}`;
  const created = await service.request('POST', '/reps', { ...ops, body: { id, name: 'Key Holder', email: `${id}@example.com` } });
  expect(created.status).toBe(201);
  return { id, apiKey: created.body.apiKey as string };
}

/** What a rep's key gets on a read every rep may make (its own leads). */
const statusWith = async (key: string) => (await service.request('GET', '/leads', { key })).status;

describe("rotating a rep's key (POST /reps/{id}/api-key)", () => {
  it('answers the new key once; the old key stops working at once', async () => {
    const rep = await newRep();
    expect(await statusWith(rep.apiKey)).toBe(200);

    const rotated = await service.request('POST', `/reps/${rep.id}/api-key`, { ...ops, body: {} });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ id: rep.id, name: 'Key Holder', active: true, apiKey: expect.stringMatching(/^rk_/) });
    expect(rotated.body.apiKey).not.toBe(rep.apiKey);
    expect(await statusWith(rep.apiKey)).toBe(401);
    expect(await statusWith(rotated.body.apiKey)).toBe(200);

    const stored = await service.sql`SELECT api_key_hash FROM reps WHERE id = ${rep.id}`;
    expect(JSON.stringify(stored)).not.toContain(rotated.body.apiKey);
  });

  it('is for ops only, and answers 404 for an unknown rep', async () => {
    const rep = await newRep();
    for (const key of ['capture-dev', 'marketing-dev', rep.apiKey]) {
      expect((await service.request('POST', `/reps/${rep.id}/api-key`, { key, body: {} })).status).toBe(403);
    }
    expect(await statusWith(rep.apiKey)).toBe(200);
    const unknown = await service.request('POST', '/reps/nobody-here/api-key', { ...ops, body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('a deactivated rep', () => {
  it('loses API access while inactive (401), and has it back once active again', async () => {
    const rep = await newRep();
    expect((await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { active: false } })).status).toBe(200);
    const refused = await service.request('GET', '/leads', { key: rep.apiKey });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');
    // A key rotated while inactive does not open the door either.
    const rotated = await service.request('POST', `/reps/${rep.id}/api-key`, { ...ops, body: {} });
    expect(await statusWith(rotated.body.apiKey)).toBe(401);

    expect((await service.request('PATCH', `/reps/${rep.id}`, { ...ops, body: { active: true } })).status).toBe(200);
    expect(await statusWith(rotated.body.apiKey)).toBe(200);
    expect(await statusWith(rep.apiKey)).toBe(401);
  });
});

describe('start-up of the API outside the embedded stack', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  /** Runs `api/main.ts` (or `script`) with only `env` (and PATH, HOME) set, until it exits. */
  function startApi(env: Record<string, string>, script = 'api/main.ts'): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        `${root}node_modules/.bin/tsx`,
        [script],
        { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env }, timeout: 30_000 },
        (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
  }

  it('exits non-zero with NODE_ENV=production and no API_KEYS, saying what to set', async () => {
    const { code, stderr } = await startApi({ NODE_ENV: 'production', DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads' });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain('API_KEYS must be set because NODE_ENV is production: set API_KEYS to key=role pairs');
  });

  it('exits non-zero in production without payload keys, or with a development payload key, saying what to set', async () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads', API_KEYS: 'real-ops-key=ops' };
    const missing = await startApi(production);
    expect(missing.code).not.toBe(0);
    expect(missing.code).not.toBeNull();
    expect(missing.stderr).toContain(
      'LEAD_PAYLOAD_KEYS must be set because NODE_ENV is production: set LEAD_PAYLOAD_KEYS to id:<base64 of 32 random bytes>',
    );
    const developmentKey = `dev-2026-11-25:${Buffer.alloc(32, 7).toString('base64')}`;
    const development = await startApi({ ...production, LEAD_PAYLOAD_KEYS: developmentKey });
    expect(development.code).not.toBe(0);
    expect(development.stderr).toContain('the development keys (dev-2026-11-25) are not accepted because NODE_ENV is production');
    expect(development.stderr).not.toContain(developmentKey.split(':')[1]);
  });

  it('exits non-zero in production without a lead id secret, or with the development one, saying what to set', async () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads',
      API_KEYS: 'real-ops-key=ops',
      LEAD_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
      SMTP_URL: 'off',
    };
    const missing = await startApi(production);
    expect(missing.code).not.toBe(0);
    expect(missing.code).not.toBeNull();
    expect(missing.stderr).toContain('LEAD_ID_SECRET must be set (not the development secret) because NODE_ENV is production');
    const development = await startApi({ ...production, LEAD_ID_SECRET: developmentLeadIdSecret });
    expect(development.code).not.toBe(0);
    expect(development.stderr).toContain('LEAD_ID_SECRET must be set (not the development secret)');
    const worker = await startApi(production, 'worker/main.ts');
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toContain('LEAD_ID_SECRET must be set (not the development secret) because NODE_ENV is production');
  });

  it('exits non-zero in production with a Slack bot token but no signing secret, saying what to set', async () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads',
      API_KEYS: 'real-ops-key=ops',
      LEAD_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
      LEAD_ID_SECRET: 'l'.repeat(40),
      ACTION_LINK_SECRET: 'a'.repeat(40),
      SMTP_URL: 'off',
      SLACK_BOT_TOKEN: 'xoxb-1-2-production',
    };
    for (const entry of ['api/main.ts', 'worker/main.ts']) {
      const { code, stderr } = await startApi(production, entry);
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toContain(
        'SLACK_SIGNING_SECRET must be set (not the development secret) with SLACK_BOT_TOKEN because NODE_ENV is production',
      );
      expect(stderr).not.toContain('xoxb-1-2-production');
    }
  });

  it('exits non-zero when given a development key against an external Postgres', async () => {
    const { code, stderr } = await startApi({
      DATABASE_URL: 'postgres://leads@db.example:5432/leads',
      API_KEYS: 'my-key=capture,ops-dev=ops',
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain('the development keys (ops-dev) are not accepted because DATABASE_URL points at external services');
    expect(stderr).not.toContain('my-key');
  });

  describe('LEAD_EMBEDDED_STACK copied into a deployment', () => {
    const local = { DATABASE_URL: 'postgres://leads@127.0.0.1:1/leads', TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const proofOf = (started: { DATABASE_URL: string; TEMPORAL_ADDRESS: string }) =>
      writeEmbeddedStackProof(mkdtempSync(join(tmpdir(), 'lead-proof-')), {
        databaseUrl: started.DATABASE_URL,
        temporalAddress: started.TEMPORAL_ADDRESS,
      });

    it('relaxes nothing alone: the API refuses to start on the development keys, the worker on a development payload key', async () => {
      const copied = {
        DATABASE_URL: 'postgres://leads@db.example:5432/leads',
        TEMPORAL_ADDRESS: 'temporal.example:7233',
        LEAD_EMBEDDED_STACK: '1',
      };
      const api = await startApi(copied);
      expect(api.code).not.toBe(0);
      expect(api.code).not.toBeNull();
      expect(api.stderr).toContain(
        'API_KEYS must be set because the embedded stack is not proven (LEAD_EMBEDDED_STACK is set without LEAD_DATA_DIR)',
      );
      const worker = await startApi(
        { ...copied, LEAD_PAYLOAD_KEYS: `dev-copied:${Buffer.alloc(32, 3).toString('base64')}` },
        'worker/main.ts',
      );
      expect(worker.code).not.toBe(0);
      expect(worker.code).not.toBeNull();
      expect(worker.stderr).toContain('the development keys (dev-copied) are not accepted because the embedded stack is not proven');
    });

    it('is not proven by a stack started elsewhere, by a guessed token, or under another NODE_ENV', async () => {
      const proof = proofOf(local);
      const external = await startApi({
        ...proof,
        DATABASE_URL: 'postgres://leads@db.example:5432/leads',
        TEMPORAL_ADDRESS: local.TEMPORAL_ADDRESS,
      });
      expect(external.code).not.toBe(0);
      expect(external.stderr).toContain('DATABASE_URL or TEMPORAL_ADDRESS is not the embedded stack that was started');
      const guessed = await startApi({ ...local, ...proof, LEAD_EMBEDDED_STACK: '1' });
      expect(guessed.code).not.toBe(0);
      expect(guessed.stderr).toContain('LEAD_EMBEDDED_STACK does not match the token');
      const staging = await startApi({ ...local, ...proof, NODE_ENV: 'staging' });
      expect(staging.code).not.toBe(0);
      expect(staging.stderr).toContain('API_KEYS must be set because NODE_ENV is "staging", not development or test');
    });

    it('on a proven stack, takes the development keys and listens on 127.0.0.1 only, unless HOST says otherwise', async () => {
      const api = startProcess('api/main.ts', processEnv({ taskQueue: `test-${randomUUID()}` }));
      try {
        const listening = await api.line((line) => typeof line.port === 'number');
        expect(listening.host).toBe('127.0.0.1');
        const leads = await fetch(`http://127.0.0.1:${listening.port}/leads`, { headers: { authorization: 'Bearer ops-dev' } });
        expect(leads.status).toBe(200);
        const outside = Object.values(networkInterfaces())
          .flat()
          .find((address) => address && !address.internal && address.family === 'IPv4');
        if (outside) await expect(fetch(`http://${outside.address}:${listening.port}/healthz`)).rejects.toThrow();
      } finally {
        await api.stop();
      }
      const everywhere = startProcess('api/main.ts', processEnv({ taskQueue: `test-${randomUUID()}`, env: { HOST: '0.0.0.0' } }));
      try {
        expect((await everywhere.line((line) => typeof line.port === 'number')).host).toBe('0.0.0.0');
      } finally {
        await everywhere.stop();
      }
    }, 60_000);
  });
});
