import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { html, raw } from 'hono/html';

/**
 * `GET /dashboard`: the funnel report (`GET /reports/funnel`) as charts, for ops and marketing.
 * Chart.js comes from the app's own `chart.js` package (its UMD build, which the package's exports
 * do not name, so it is found next to the main module), never from a CDN: the page works offline.
 * The page holds no data: it asks for an API key once (kept in sessionStorage, gone with the tab)
 * and calls the reports API with it, so it needs no authentication of its own.
 */
const chartJsPath = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');
export const chartJsUrl = '/dashboard/assets/chart.umd.js';
/** The page's own script, a file rather than inline: the CSP allows scripts from the app's origin only (docs/operations/security.md). */
export const dashboardScriptUrl = '/dashboard/assets/dashboard.js';

const style = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0 16px 0 0; }
  header form { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header label { display: flex; gap: 6px; align-items: center; }
  main { padding: 16px 20px; }
  .kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin-bottom: 16px; }
  .kpi { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px #0002; }
  .kpi span { display: block; color: #5b6475; font-size: 12px; }
  .kpi b { font-size: 20px; }
  .kpi b#oldest { font-size: 13px; word-break: break-all; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
  .card { background: #fff; border-radius: 6px; padding: 12px; box-shadow: 0 1px 2px #0002; }
  .card h2 { font-size: 14px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e7ec; }
  #key-form { background: #fff; max-width: 420px; margin: 60px auto; padding: 20px; border-radius: 6px; box-shadow: 0 1px 3px #0003; }
  #error { color: #b42318; }
  [hidden] { display: none !important; }
`;

// The page's script: fetch the report, fill the figures (each element's data-figure names its path
// in the report) and draw the charts. Plain browser JavaScript, no build step.
const script = `
const keyName = 'leadReportsApiKey';
const $ = (id) => document.getElementById(id);
const charts = {};
const pct = (v) => v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%';
const dur = (ms) => {
  if (ms === null || ms === undefined) return '–';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 3600000) return (ms / 60000).toFixed(1) + ' min';
  if (ms < 86400000) return (ms / 3600000).toFixed(1) + ' h';
  return (ms / 86400000).toFixed(1) + ' d';
};
const formats = { rate: pct, ms: dur, count: (v) => v === null || v === undefined ? '–' : String(v), money: (v) => Number(v).toLocaleString('en-US') };
const at = (obj, path) => path.split('.').reduce((o, k) => (o === null || o === undefined ? o : o[k]), obj);

function draw(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart($(id), { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...(config.options || {}) } });
}

function render(report) {
  for (const el of document.querySelectorAll('[data-figure]')) {
    const value = at(report, el.dataset.figure);
    el.textContent = formats[el.dataset.format || 'count'](value);
    el.dataset.value = value === null || value === undefined ? '' : String(value);
  }
  $('oldest').textContent = report.unassigned && report.unassigned.oldest ? report.unassigned.oldest.leadId + ' (' + dur(report.unassigned.oldest.ageMs) + ')' : '–';
  const d = report.responseTime.distribution;
  draw('chart-speed', { type: 'bar', data: { labels: d.map((b) => b.bucket), datasets: [{ label: 'leads by time to first response', data: d.map((b) => b.leads), backgroundColor: '#3b82f6' }] } });
  const days = report.sla.byDay;
  draw('chart-sla', { type: 'line', data: { labels: days.map((x) => x.day), datasets: [{ label: 'SLA compliance (%)', data: days.map((x) => x.complianceRate === null ? null : x.complianceRate * 100), borderColor: '#16a34a' }] }, options: { scales: { y: { min: 0, max: 100 } } } });
  const f = report.funnel;
  draw('chart-funnel', { type: 'bar', data: { labels: ['captured', 'MQL', 'SQL', 'converted'], datasets: [{ label: 'leads', data: [f.leads, f.mql, f.sql, f.converted], backgroundColor: ['#94a3b8', '#60a5fa', '#2563eb', '#16a34a'] }] }, options: { indexAxis: 'y' } });
  const dq = report.disqualificationReasons;
  draw('chart-dq', { type: 'doughnut', data: { labels: dq.map((x) => x.reason), datasets: [{ data: dq.map((x) => x.leads) }] } });
  const buckets = ['0-7', '8-30', '31-90', '90+'];
  const colours = ['#22c55e', '#eab308', '#f97316', '#dc2626'];
  draw('chart-aging', { type: 'bar', data: { labels: report.aging.map((a) => a.status), datasets: buckets.map((b, i) => ({ label: b + ' days', data: report.aging.map((a) => a.buckets[b]), backgroundColor: colours[i] })) }, options: { scales: { x: { stacked: true }, y: { stacked: true } } } });
  const load = report.repLoad;
  draw('chart-load', { type: 'bar', data: { labels: load.map((r) => r.repId), datasets: [{ label: 'open leads', data: load.map((r) => r.openLeads), backgroundColor: '#6366f1' }, { label: 'capacity', data: load.map((r) => r.capacity), backgroundColor: '#cbd5e1' }] } });
  $('sources').innerHTML = report.bySource.map((s) => '<tr><td>' + s.source + '</td><td>' + s.leads + '</td><td>' + s.conversions + '</td><td>' + formats.money(s.amount) + '</td></tr>').join('');
  $('follow-up').innerHTML = report.repFollowUp.map((r) => '<tr><td>' + r.repId + '</td><td>' + r.acceptedLeads + '</td><td>' + r.touches + '</td><td>' + r.touchesPerAcceptedLead.toFixed(2) + '</td></tr>').join('');
  $('report').hidden = false;
  document.body.dataset.state = 'loaded';
}

async function load() {
  const key = sessionStorage.getItem(keyName);
  if (!key) { $('key-form').hidden = false; $('report').hidden = true; return; }
  $('key-form').hidden = true;
  const params = new URLSearchParams();
  for (const name of ['from', 'to']) if ($(name).value) params.set(name, new Date($(name).value).toISOString());
  for (const name of ['teamId', 'source']) if ($(name).value) params.set(name, $(name).value);
  const response = await fetch('/reports/funnel?' + params, { headers: { authorization: 'Bearer ' + key } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) { sessionStorage.removeItem(keyName); $('key-error').textContent = 'That API key is not valid.'; $('key-form').hidden = false; return; }
  if (!response.ok) { $('error').textContent = (body.error && body.error.message) || ('the reports API answered ' + response.status); return; }
  $('error').textContent = '';
  $('window').textContent = body.from.slice(0, 10) + ' – ' + body.to.slice(0, 10) + (body.repId ? ' (rep ' + body.repId + ')' : '');
  render(body);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(keyName, $('key').value.trim());
  $('key').value = '';
  load();
});
$('filters').addEventListener('submit', (event) => { event.preventDefault(); load(); });
$('forget').addEventListener('click', () => { sessionStorage.removeItem(keyName); load(); });
load();
`;

const kpi = (label: string, figure: string, format = 'count') =>
  html`<div class="kpi"><span>${label}</span><b data-figure="${figure}" data-format="${format}">–</b></div>`;
const chart = (id: string, title: string) =>
  html`<div class="card">
    <h2>${title}</h2>
    <div style="height: 260px"><canvas id="${id}"></canvas></div>
  </div>`;

const page = html`<!doctype html>
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Lead funnel dashboard</title>
      <style>
        ${raw(style)}
      </style>
      <script src="${chartJsUrl}"></script>
    </head>
    <body data-state="idle">
      <header>
        <h1>Lead funnel</h1>
        <form id="filters">
          <label>from <input id="from" type="date" /></label>
          <label>to <input id="to" type="date" /></label>
          <label>team <input id="teamId" size="10" /></label>
          <label>source <input id="source" size="12" /></label>
          <button type="submit">Show</button>
          <button type="button" id="forget">Forget key</button>
        </form>
        <span id="window"></span>
      </header>
      <form id="key-form" hidden>
        <h2>API key</h2>
        <p>The dashboard reads the reports API with a key of role ops, marketing or rep. It is kept in this tab only.</p>
        <input id="key" type="password" autocomplete="off" size="40" required />
        <button type="submit">Open</button>
        <p id="key-error"></p>
      </form>
      <main id="report" hidden>
        <p id="error"></p>
        <section class="kpis">
          ${kpi('Leads captured', 'funnel.leads')} ${kpi('Response time p50', 'responseTime.p50Ms', 'ms')}
          ${kpi('Response time p90', 'responseTime.p90Ms', 'ms')} ${kpi('Response time p99', 'responseTime.p99Ms', 'ms')}
          ${kpi('SLA compliance', 'sla.complianceRate', 'rate')} ${kpi('SLA breaches', 'sla.breaches')}
          ${kpi('MQL → SQL', 'funnel.mqlToSqlRate', 'rate')} ${kpi('MQL → SQL median', 'funnel.mqlToSqlMedianMs', 'ms')}
          ${kpi('SQL → converted', 'funnel.sqlToConvertedRate', 'rate')}
          ${kpi('SQL → converted median', 'funnel.sqlToConvertedMedianMs', 'ms')} ${kpi('Unassigned queue', 'unassigned.leads')}
          <div class="kpi"><span>Oldest unassigned</span><b id="oldest">–</b></div>
        </section>
        <section class="charts">
          ${chart('chart-speed', 'Speed to lead (time to first response)')} ${chart('chart-sla', 'SLA compliance by day of assignment')}
          ${chart('chart-funnel', 'Funnel')} ${chart('chart-dq', 'Disqualification reasons')}
          ${chart('chart-aging', 'Open leads by age (days since capture)')} ${chart('chart-load', 'Rep load against capacity')}
          <div class="card">
            <h2>Leads and conversions by source</h2>
            <table>
              <thead>
                <tr>
                  <th>source</th>
                  <th>leads</th>
                  <th>conversions</th>
                  <th>amount</th>
                </tr>
              </thead>
              <tbody id="sources"></tbody>
            </table>
          </div>
          <div class="card">
            <h2>Rep follow-up</h2>
            <table>
              <thead>
                <tr>
                  <th>rep</th>
                  <th>accepted leads</th>
                  <th>touches</th>
                  <th>per accepted lead</th>
                </tr>
              </thead>
              <tbody id="follow-up"></tbody>
            </table>
          </div>
        </section>
      </main>
      <script src="${dashboardScriptUrl}"></script>
    </body>
  </html>`;

export function dashboardRoutes() {
  let chartJs: string | undefined;
  return new Hono()
    .get('/dashboard', (c) => c.html(page))
    .get(dashboardScriptUrl, (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }))
    .get(chartJsUrl, (c) => {
      chartJs ??= readFileSync(chartJsPath, 'utf8');
      return c.body(chartJs, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
    });
}
