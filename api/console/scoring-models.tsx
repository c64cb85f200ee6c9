import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { bands, type Band } from '../../domain/qualification';
import { refusalOf, type ApiCall, type ApiRefusal } from './api-client';
import { FormTokens, Field, jsonOf, numberOf, one, Refused, render, Table, untrimmed, type ConsoleEnv, type FormFields } from './ui';

interface Model {
  version: number;
  publishedAt: string;
  publishedBy: string;
  scoring: unknown;
  qualification: { sqlAt: number; mqlAt: number };
  icp: unknown;
}
type Counts = Record<Band, number>;
interface Figures {
  version: number | null;
  bands: Counts;
  deciles: { min: number; max: number; leads: number; converted: number; conversionRate: number | null }[];
  recall: number | null;
  precision: number | null;
  auc: number | null;
}

const dayMs = 24 * 3600_000;
const share = (n: number | null) => (n === null ? '—' : `${(n * 100).toFixed(1)} %`);

/** The editor's fields as a scoring model body: the rules (scoring, icp) as JSON, the thresholds as numbers. */
function modelOf(form: FormFields): { body?: Record<string, unknown>; refusal?: ApiRefusal } {
  const rules = jsonOf(untrimmed(form, 'rules'));
  if (rules.problem || typeof rules.value !== 'object' || rules.value === null) {
    return {
      refusal: {
        status: 400,
        message: 'the rules are not a JSON object',
        fields: { rules: rules.problem ?? 'must be an object with scoring and icp' },
      },
    };
  }
  return {
    body: { ...(rules.value as object), qualification: { sqlAt: numberOf(one(form, 'sqlAt')), mqlAt: numberOf(one(form, 'mqlAt')) } },
  };
}

/** A band matrix: rows the baseline's band, columns the candidate's (or before → after for a rollout). */
const Matrix = ({ id, transitions, rows, columns }: { id: string; transitions: Record<string, Counts>; rows: string; columns: string }) => (
  <table id={id} cellpadding="4" style="border-collapse:collapse">
    <caption>
      {rows} ↓ · {columns} →
    </caption>
    <tr>
      <th />
      {bands.map((band) => (
        <th>{band}</th>
      ))}
    </tr>
    {bands.map((from) => (
      <tr>
        <th>{from}</th>
        {bands.map((to) => (
          <td data-from={from} data-to={to} style={`text-align:right;border:1px solid #ccc;${from === to ? 'background:#eef' : ''}`}>
            {transitions[from]?.[to] ?? 0}
          </td>
        ))}
      </tr>
    ))}
  </table>
);

const FiguresTable = ({ baseline, candidate }: { baseline: Figures; candidate: Figures }) => (
  <>
    <Table
      id="backtest-figures"
      head={[
        '',
        `baseline (v${baseline.version})`,
        candidate.version === null ? 'candidate (unpublished)' : `candidate (v${candidate.version})`,
      ]}
    >
      {(['auc', 'recall', 'precision'] as const).map((name) => (
        <tr data-figure={name}>
          <th style="text-align:left">{name === 'auc' ? 'AUC' : name}</th>
          <td>{name === 'auc' ? (baseline.auc?.toFixed(3) ?? '—') : share(baseline[name])}</td>
          <td>{name === 'auc' ? (candidate.auc?.toFixed(3) ?? '—') : share(candidate[name])}</td>
        </tr>
      ))}
      {bands.map((band) => (
        <tr>
          <th style="text-align:left">leads in {band}</th>
          <td>{baseline.bands[band]}</td>
          <td>{candidate.bands[band]}</td>
        </tr>
      ))}
    </Table>
    <h3>Deciles (leads, converted)</h3>
    <Table id="deciles" head={['Score', 'baseline leads', 'baseline converted', 'candidate leads', 'candidate converted']}>
      {baseline.deciles.map((decile, i) => (
        <tr>
          <td>
            {decile.min}–{decile.max}
          </td>
          <td>{decile.leads}</td>
          <td>
            {decile.converted} ({share(decile.conversionRate)})
          </td>
          <td>{candidate.deciles[i]?.leads}</td>
          <td>
            {candidate.deciles[i]?.converted} ({share(candidate.deciles[i]?.conversionRate ?? null)})
          </td>
        </tr>
      ))}
    </Table>
  </>
);

/**
 * Scoring models (marketing): the published versions; an editor of the rules and thresholds that
 * runs a backtest of the edit against the newest version (the band matrix, deciles and AUC side by
 * side) or publishes it, with or without a rollout to open leads, whose progress has a page.
 */
export function scoringModelPages(api: (c: Context<ConsoleEnv>) => ApiCall) {
  const show = async (c: Context<ConsoleEnv>, form?: FormFields, refusal?: ApiRefusal) => {
    const models = (await api(c)('GET', '/scoring-models')).body.models as Model[];
    const newest = models.at(-1)!;
    const now = Date.now();
    const rules = untrimmed(form ?? {}, 'rules') ?? JSON.stringify({ scoring: newest.scoring, icp: newest.icp }, null, 2);
    return render(
      c,
      'Scoring models',
      <>
        <Table id="models" head={['Version', 'Published', 'By', 'SQL at', 'MQL at']}>
          {models.map((m) => (
            <tr data-version={m.version}>
              <td>{m.version}</td>
              <td>{m.publishedAt}</td>
              <td>{m.publishedBy}</td>
              <td>{m.qualification.sqlAt}</td>
              <td>{m.qualification.mqlAt}</td>
            </tr>
          ))}
        </Table>
        <form method="post" action="/console/scoring-models/backtests" id="model-form">
          <h2>Edit (from version {newest.version})</h2>
          <Refused refusal={refusal} />
          <FormTokens token={c.get('csrf')} />
          <Field label="SQL at (score)" name="sqlAt" field="qualification.sqlAt" refusal={refusal}>
            <input name="sqlAt" type="number" value={one(form ?? {}, 'sqlAt') ?? String(newest.qualification.sqlAt)} />
          </Field>
          <Field label="MQL at (score)" name="mqlAt" field="qualification.mqlAt" refusal={refusal}>
            <input name="mqlAt" type="number" value={one(form ?? {}, 'mqlAt') ?? String(newest.qualification.mqlAt)} />
          </Field>
          <Field label="Rules (scoring and icp, JSON)" name="rules" refusal={refusal}>
            <textarea name="rules" rows={18} cols={90} spellcheck={false}>
              {rules}
            </textarea>
          </Field>
          <fieldset>
            <legend>Backtest against version {newest.version}: leads captured</legend>
            <Field label="from" name="from" refusal={refusal}>
              <input name="from" type="date" value={one(form ?? {}, 'from') ?? new Date(now - 30 * dayMs).toISOString().slice(0, 10)} />
            </Field>
            <Field label="to (exclusive)" name="to" refusal={refusal}>
              <input name="to" type="date" value={one(form ?? {}, 'to') ?? new Date(now + dayMs).toISOString().slice(0, 10)} />
            </Field>
            <button type="submit">Run backtest</button>
          </fieldset>
          <fieldset>
            <legend>Publish as version {newest.version + 1}</legend>
            <label>
              <input type="checkbox" name="rollout" value="open_leads" checked={one(form ?? {}, 'rollout') === 'open_leads'} /> also
              re-score every open lead (a rollout)
            </label>
            <Field label="at most leads per second (empty: the configured rate)" name="leadsPerSecond" refusal={refusal}>
              <input name="leadsPerSecond" type="number" step="any" value={one(form ?? {}, 'leadsPerSecond') ?? ''} />
            </Field>
            <button type="submit" formaction="/console/scoring-models/publish">
              Publish
            </button>
          </fieldset>
        </form>
      </>,
      refusal ? (refusal.status as ContentfulStatusCode) : 200,
    );
  };
  const dayOf = (text: string | undefined) => (text && /^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00.000Z` : (text ?? ''));

  return new Hono<ConsoleEnv>()
    .get('/console/scoring-models', (c) => show(c))
    .post('/console/scoring-models/backtests', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const { body: candidate, refusal } = modelOf(form);
      if (refusal) return show(c, form, refusal);
      const answer = await api(c)('POST', '/scoring-models/backtests', {
        candidate,
        from: dayOf(one(form, 'from')),
        to: dayOf(one(form, 'to')),
      });
      if (answer.status !== 202) return show(c, form, refusalOf(answer));
      return c.redirect(`/console/scoring-models/backtests/${encodeURIComponent(answer.body.id)}`, 303);
    })
    .get('/console/scoring-models/backtests/:id', async (c) => {
      const answer = await api(c)('GET', `/scoring-models/backtests/${encodeURIComponent(c.req.param('id'))}`);
      if (answer.status !== 200)
        return render(c, 'No such backtest', <p role="alert">{refusalOf(answer).message}</p>, answer.status as ContentfulStatusCode);
      const job = answer.body;
      const result = job.result;
      return render(
        c,
        'Backtest',
        <>
          <p>
            <a href="/console/scoring-models">Scoring models</a>
          </p>
          <p id="backtest-state" data-state={job.state}>
            {job.state}: {job.progress.read} of {job.progress.total ?? '?'} leads read
          </p>
          {/* Until it is done the page reloads itself: a refresh needs no script. */}
          {job.state === 'queued' || job.state === 'running' ? <meta http-equiv="refresh" content="1" /> : null}
          {result ? (
            <>
              <p>
                {result.leads} leads captured {result.from} – {result.to}, {result.converted} converted.
              </p>
              <h2>Band matrix</h2>
              <Matrix id="band-matrix" transitions={result.transitions} rows={`baseline v${result.baseline.version}`} columns="candidate" />
              <h2>Figures</h2>
              <FiguresTable baseline={result.baseline} candidate={result.candidate} />
            </>
          ) : null}
        </>,
      );
    })
    .post('/console/scoring-models/publish', async (c) => {
      const form = (await c.req.parseBody({ all: true })) as FormFields;
      const { body, refusal } = modelOf(form);
      if (refusal) return show(c, form, refusal);
      const rollout = one(form, 'rollout') === 'open_leads';
      const leadsPerSecond = numberOf(one(form, 'leadsPerSecond'));
      const answer = await api(c)('POST', '/scoring-models', {
        ...body,
        ...(rollout && { rollout: 'open_leads' }),
        ...(leadsPerSecond !== undefined && { leadsPerSecond }),
      });
      if (answer.status !== 201) return show(c, form, refusalOf(answer));
      if (answer.body.rollout) return c.redirect(`/console/scoring-models/rollouts/${encodeURIComponent(answer.body.rollout.id)}`, 303);
      return c.redirect('/console/scoring-models', 303);
    })
    .get('/console/scoring-models/rollouts/:id', async (c) => {
      const answer = await api(c)('GET', `/scoring-models/rollouts/${encodeURIComponent(c.req.param('id'))}`);
      if (answer.status !== 200)
        return render(c, 'No such rollout', <p role="alert">{refusalOf(answer).message}</p>, answer.status as ContentfulStatusCode);
      const r = answer.body;
      return render(
        c,
        `Rollout of version ${r.version}`,
        <>
          <p>
            <a href="/console/scoring-models">Scoring models</a>
          </p>
          {r.status === 'running' ? <meta http-equiv="refresh" content="2" /> : null}
          <p id="rollout-state" data-status={r.status}>
            {r.status}: {r.done} of {r.total} done ({r.rescored} re-scored, {r.current} already current, {r.skipped} skipped), {r.remaining}{' '}
            remaining, at most {r.leadsPerSecond} leads/s; {r.bandChanges} changed band, {r.salesReady} made sales-ready.
          </p>
          <progress max={Math.max(r.total, 1)} value={r.done} />
          <Matrix id="rollout-matrix" transitions={r.transitions} rows="band before" columns="band after" />
        </>,
      );
    });
}
