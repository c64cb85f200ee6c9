import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../worker/http';
import { eventually, requestTo } from '../support/helpers';
import { startProcesses } from '../support/processes';
import { captureRouteAndAccept } from '../support/one-lead';
import { salesReadyDemoRequests } from '../support/fixtures';

const rulesFile = 'observability/prometheus/alerts.yml';
const dashboardFile = 'observability/grafana/lead-service.json';
const rulesTestFile = 'observability/prometheus/alerts.test.yml';

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
const rules = (): Rule[] => (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

/** promtool (Debian's `prometheus` package, which .ci/run installs): a test that needs it fails without it, rather than passing unchecked. */
function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: string; stdout?: string; stderr?: string };
    if (code === 'ENOENT') throw new Error('promtool is missing: apt-get install prometheus (.ci/run does)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

interface Dashboard {
  uid: string;
  panels: { type: string; title: string; description?: string; targets?: { expr: string }[] }[];
}
const dashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;

/** The label names an expression aggregates or matches on (`by (…)`, `without (…)`, `on (…)`…). */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** A selector's metric name and the label names its matchers use. */
interface Selector {
  name: string;
  labels: string[];
}

/**
 * The selectors of a PromQL expression: every identifier that is not a function, a keyword or
 * inside a label list, with the labels of its `{…}` (Grafana's `$__rate_interval` sits in a range).
 */
export function selectors(expr: string): Selector[] {
  const keywords = new Set([
    'and',
    'or',
    'unless',
    'bool',
    'offset',
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'inf',
    'nan',
  ]);
  const code = expr
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+\S+/g, ' ');
  const found: Selector[] = [];
  for (const match of code.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(|\{([^}]*)\})?/g)) {
    const [, name, after, matchers] = match;
    if (after === '(' || keywords.has(name!.toLowerCase())) continue;
    // Label names of the matchers; the values are strings, skipped by matching whole pairs.
    const labels = [...(matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)].map((m) => m[1]!);
    found.push({ name: name!, labels });
  }
  return found;
}

/**
 * Sample names of an exposition with the label names seen on each (histograms give `_bucket`,
 * `_sum`, `_count`), and the families declared without a sample yet (a labelled counter nothing
 * has counted, such as retries): Prometheus has no series of those until then, so a rule on one
 * stays quiet, rightly. Their labels are unknown (null).
 */
function exposed(text: string): Map<string, Set<string> | null> {
  const names = new Map<string, Set<string> | null>();
  for (const [, family] of text.matchAll(/^# TYPE (\S+) /gm)) names.set(family!, null);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? /.exec(line);
    if (!match) continue;
    const labels = names.get(match[1]!) ?? new Set<string>();
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="/g)) labels.add(pair[1]!);
    names.set(match[1]!, labels);
  }
  return names;
}

/**
 * Labels Prometheus adds to every series it scrapes (the jobs of observability/prometheus/prometheus.yml),
 * and the series it makes itself for each target.
 */
const targetLabels = ['job', 'instance'];
const prometheusSeries = ['up'];

describe('the alert rules (observability/prometheus/alerts.yml)', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', rulesFile)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('each says why its threshold, and fires on its unit test (promtool test rules) and not on a normal day', () => {
    const all = rules();
    expect(all.map((r) => r.alert)).toEqual([
      'LeadWorkflowTaskScheduleToStartSlow',
      'LeadCapturesUnavailable',
      'LeadOutboxOldestPendingLate',
      'LeadOutboxDeadLetters',
      'LeadSlaBreachRateUp',
      'LeadDataAccessStalled',
      'LeadWorkerNotPolling',
    ]);
    for (const rule of all) {
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description?.length ?? 0, rule.alert).toBeGreaterThan(150);
    }
    const tests = readFileSync(rulesTestFile, 'utf8');
    for (const rule of all) expect(tests, `a unit test of ${rule.alert}`).toContain(`alertname: ${rule.alert}`);
    // The unit tests compare every annotation: they run on a copy without the descriptions (prose, checked above).
    const dir = mkdtempSync(join(tmpdir(), 'lead-alerts-'));
    const parsed = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] };
    for (const rule of parsed.groups.flatMap((g) => g.rules)) delete rule.annotations.description;
    writeFileSync(join(dir, 'alerts.yml'), stringify(parsed));
    cpSync(rulesTestFile, join(dir, 'alerts.test.yml'));
    expect(promtool('test', 'rules', join(dir, 'alerts.test.yml'))).toContain('SUCCESS');
  });
});

describe('the Grafana dashboard (observability/grafana/lead-service.json)', () => {
  it('has the panels operators look for, each described, on the provisioned Prometheus data source', () => {
    const { uid, panels } = dashboard();
    expect(uid).toBe('lead-service');
    const titles = panels.map((p) => p.title);
    for (const title of [
      'Capture rate by answer',
      'Capture answer latency',
      'Speed-to-lead',
      'Leads by status',
      'SLA reminders, breaches, escalations',
      'Outbox backlog',
      'Oldest pending alert',
      'Rejected inputs',
      'Activity retries',
      'Report fold backlog',
      'Workflow task schedule-to-start (p95)',
      'Workflow task execution latency',
      'Task slots available',
      'Sticky cache size',
    ]) {
      expect(titles).toContain(title);
    }
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.description, panel.title).toBeTruthy();
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    expect(new Set(panels.map((p) => (p as { id?: number }).id)).size).toBe(panels.length);
  });
});

describe('Prometheus and Grafana in docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<
      string,
      { ports?: string[]; volumes?: string[]; environment?: Record<string, string>; tmpfs?: string[]; command?: string[] }
    >;
  };
  const prometheus = parse(readFileSync('observability/prometheus/prometheus.yml', 'utf8')) as {
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      authorization?: { credentials_file: string };
      dns_sd_configs: { names: string[]; port: number }[];
    }[];
  };
  const job = (name: string) => prometheus.scrape_configs.find((c) => c.job_name === name)!;

  it('scrape every API (with a metrics key) and every worker on the ports they listen on, for the jobs the rules name', () => {
    const { api, worker } = compose.services;
    expect(job('lead-api').dns_sd_configs).toEqual([{ names: ['api'], type: 'A', port: Number(api!.environment!.PORT) }]);
    expect(job('lead-worker').dns_sd_configs).toEqual([
      { names: ['worker'], type: 'A', port: Number(worker!.environment!.WORKER_HTTP_PORT) },
    ]);
    expect(worker!.environment!.WORKER_HTTP_HOST).toBe('0.0.0.0');
    for (const name of new Set([...readFileSync(rulesFile, 'utf8').matchAll(/job="([^"]+)"/g)].map((m) => m[1]!)))
      expect(job(name), name).toBeDefined();
    // The key: from METRICS_KEY into the file the API job reads, in memory.
    const keyFile = job('lead-api').authorization!.credentials_file;
    const service = compose.services.prometheus!;
    expect(service.environment!.METRICS_KEY).toBe('${METRICS_KEY:-}');
    expect(service.tmpfs).toContain(keyFile.slice(0, keyFile.lastIndexOf('/')));
    expect(service.command!.join('\n')).toContain(`printf %s "$$METRICS_KEY" > ${keyFile}`);
    expect(job('lead-worker').authorization).toBeUndefined();
  });

  it('publish only the API on every interface; Prometheus, Grafana and the Temporal UI on loopback', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((port) => ({ name, port })));
    expect(published.filter(({ port }) => !port.startsWith('127.0.0.1:'))).toEqual([{ name: 'api', port: '3000:3000' }]);
    expect(published.map((p) => p.name).sort()).toEqual(['api', 'grafana', 'prometheus', 'temporal-ui']);
  });

  it('mount files that exist, and the config passes promtool check config with its rules', () => {
    for (const name of ['prometheus', 'grafana']) {
      for (const volume of compose.services[name]!.volumes!.filter((v) => v.startsWith('./')))
        expect(existsSync(volume.split(':')[0]!), volume).toBe(true);
    }
    const datasources = parse(readFileSync('observability/grafana/provisioning/datasources/prometheus.yml', 'utf8')) as {
      datasources: { url: string }[];
    };
    expect(datasources.datasources.map((d) => d.url)).toEqual(['http://prometheus:9090']);
    // promtool checks that the key file exists: a copy of the config reads one in a temporary directory.
    const dir = mkdtempSync(join(tmpdir(), 'lead-prometheus-'));
    writeFileSync(join(dir, 'metrics-key'), 'a-key');
    const config = readFileSync('observability/prometheus/prometheus.yml', 'utf8').replace(
      job('lead-api').authorization!.credentials_file,
      join(dir, 'metrics-key'),
    );
    writeFileSync(join(dir, 'prometheus.yml'), config);
    cpSync(rulesFile, join(dir, 'alerts.yml'));
    expect(promtool('check', 'config', join(dir, 'prometheus.yml'))).toMatch(/SUCCESS: 7 rules found/);
  });
});

describe('the metrics the rules and the dashboard query, in the real processes', () => {
  let stack: Awaited<ReturnType<typeof startProcesses>>;
  beforeAll(async () => {
    stack = await startProcesses({ config: salesReadyDemoRequests });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('exist in /metrics of the API or the worker after a lead is captured, routed and accepted, with the labels they match on', async () => {
    // A lead through capture, routing and acceptance: what makes the SDK's lazily-created series appear.
    await captureRouteAndAccept(stack.apiUrl, { country: 'QB', tag: 'o' }); // a made-up country no other test's team covers

    const scrape = async (url: string, key?: string) =>
      (await fetch(`${url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {})).text();
    const panels = dashboard().panels.filter((p) => p.type !== 'row');
    const queries = [
      ...rules().map((r) => ({ where: r.alert, expr: r.expr })),
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ];
    const uses = queries.flatMap(({ where, expr }) => {
      const found = selectors(expr);
      expect(found, `${where}: ${expr}`).not.toEqual([]);
      return found.map((selector) => ({ where, ...selector }));
    });
    await eventually(async () => {
      const series = exposed(`${await scrape(stack.workerUrl)}\n${await scrape(stack.apiUrl, 'metrics-dev')}`);
      const missing = uses.filter(({ name }) => !series.has(name) && !prometheusSeries.includes(name));
      expect(missing.map((u) => `${u.where}: ${u.name}`)).toEqual([]);
      const unknownLabels = uses.flatMap(({ where, name, labels }) =>
        labels
          .filter((l) => !targetLabels.includes(l) && series.get(name) !== null && !series.get(name)?.has(l))
          .map((l) => `${where}: ${name}{${l}}`),
      );
      expect(unknownLabels).toEqual([]);
      // What an aggregation groups by is on one of the expression's series (a histogram's `le` on its buckets).
      const ungrouped = queries.flatMap(({ where, expr }) => {
        if (selectors(expr).some(({ name }) => series.get(name) === null)) return []; // labels unknown until counted
        const known = new Set([...targetLabels, ...selectors(expr).flatMap(({ name }) => [...(series.get(name) ?? [])])]);
        return groupingLabels(expr)
          .filter((l) => !known.has(l))
          .map((l) => `${where}: by ${l}`);
      });
      expect(ungrouped).toEqual([]);
    });
  });
  it("evaluate in a real Prometheus scraping both processes: every rule's health is ok and every panel's query answers", async () => {
    // A capture before Prometheus starts, so that the capture series exists before the one it watches
    // (rate() sees no increase in a series that first appears at 1).
    const capture = async () => {
      const suffix = randomUUID().slice(0, 6);
      const captured = await requestTo(stack.apiUrl)('POST', '/leads', {
        body: { email: `watched.${suffix}@prospect-${suffix}.com`, source: 'webinar' },
      });
      expect(captured.status).toBe(202);
    };
    await capture();
    // Debian's prometheus server (the package promtool comes with), scraping each second.
    const dir = mkdtempSync(join(tmpdir(), 'lead-prometheus-'));
    writeFileSync(join(dir, 'metrics-key'), 'metrics-dev');
    cpSync(rulesFile, join(dir, 'alerts.yml'));
    const target = (url: string) => new URL(url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['alerts.yml'],
        scrape_configs: [
          {
            job_name: 'lead-api',
            authorization: { credentials_file: join(dir, 'metrics-key') },
            static_configs: [{ targets: [target(stack.apiUrl)] }],
          },
          { job_name: 'lead-worker', static_configs: [{ targets: [target(stack.workerUrl)] }] },
        ],
      }),
    );
    const port = await freePort();
    const server = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const spawned = new Promise<void>((resolve, reject) => server.once('spawn', resolve).once('error', reject));
    try {
      await spawned;
      const api = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`, { signal: AbortSignal.timeout(5000) });
        const body = (await response.json()) as { status: string; data: any; error?: string };
        expect(body.error ?? '', path).toBe('');
        return body.data;
      };
      await eventually(async () => {
        const { activeTargets } = await api('targets');
        expect(activeTargets.map((t: { labels: { job: string }; health: string }) => `${t.labels.job} ${t.health}`).sort()).toEqual([
          'lead-api up',
          'lead-worker up',
        ]);
      });
      // A capture while Prometheus watches; a few scrapes later, rate() sees it.
      await capture();
      await eventually(async () => {
        const rules = (await api('rules')).groups.flatMap((g: { rules: unknown[] }) => g.rules) as {
          name: string;
          health: string;
          lastError?: string;
        }[];
        expect(rules).toHaveLength(7);
        expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
        const [captures] = (
          await api(
            `query?query=${encodeURIComponent('sum(rate(lead_http_requests_total{method="POST",route="/leads",status="202"}[1m]))')}`,
          )
        ).result;
        expect(Number(captures?.value[1] ?? 0)).toBeGreaterThan(0);
      });
      // Nothing is wrong with these processes: none of the alerts about them fires or is even
      // pending, once the rules have been evaluated on both targets' scrapes (before the worker's
      // first scrape, `absent(up{job="lead-worker"})` rightly holds). Left out: schedule-to-start (a
      // loaded test machine may well hold a task for a second), the outbox's oldest entry (read from
      // the database the other test files share) and breaches (silent without last week's data).
      const ours = ['LeadCapturesUnavailable', 'LeadOutboxDeadLetters', 'LeadDataAccessStalled', 'LeadWorkerNotPolling'];
      await eventually(async () => {
        const { alerts } = (await api('alerts')) as { alerts: { labels: { alertname: string }; state: string }[] };
        expect(alerts.filter((a) => ours.includes(a.labels.alertname) || a.state === 'firing')).toEqual([]);
      });
      for (const panel of dashboard().panels.filter((p) => p.type !== 'row')) {
        for (const { expr } of panel.targets ?? []) {
          const data = await api(`query?query=${encodeURIComponent(expr.replaceAll('$__rate_interval', '1m'))}`);
          expect(data.resultType, `panel "${panel.title}": ${expr}`).toBe('vector');
        }
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => (server.exitCode === null ? server.once('exit', resolve) : resolve(null)));
    }
  });
});
