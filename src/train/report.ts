/**
 * The sweep report: Markdown with a table of final results (mean ± sample standard
 * deviation over seeds) and SVG plots made with Vega-Lite (test accuracy against the
 * varied hyperparameter; test accuracy and train loss over training; Φ over training).
 * Labels, the sweep's name and paths come from the user's config: they are escaped for
 * Markdown and HTML (escapeMarkdown, codeSpan) wherever they are written; in the plots,
 * Vega's SVG renderer escapes every text and attribute itself.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../numeric/plot.js';
import { codeSpan, escapeMarkdown, oneLine } from '../emit/markdown.js';
import type { SweepConfig } from './sweep-config.js';
import type { JobOutcome } from './sweep.js';
import type { LogLine } from './train.js';

export interface Group {
  /** "AdamW, beta2 = 0.99" */
  readonly name: string;
  readonly label: string;
  readonly vary?: { readonly param: string; readonly value: number };
  readonly runs: readonly JobOutcome[];
}

export function groupOutcomes(outcomes: readonly JobOutcome[]): Group[] {
  const groups = new Map<string, JobOutcome[]>();
  for (const o of outcomes) {
    const v = o.job.vary;
    const name = v ? `${o.job.label}, ${v.param} = ${v.value}` : o.job.label;
    groups.set(name, [...(groups.get(name) ?? []), o]);
  }
  return [...groups].map(([name, runs]) => ({ name, label: runs[0]!.job.label, ...(runs[0]!.job.vary ? { vary: runs[0]!.job.vary } : {}), runs }));
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

const finals = (g: Group, key: keyof LogLine) =>
  g.runs.map((r) => r.record.last?.[key]).filter((v): v is number => typeof v === 'number');

const pm = (xs: readonly number[], f: (x: number) => string) => {
  if (xs.length === 0) return '—';
  const { mean, std } = meanStd(xs);
  return xs.length > 1 ? `${f(mean)} ± ${f(std)}` : f(mean);
};
const pct = (x: number) => (100 * x).toFixed(2);
const sig = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2));

/**
 * The training loss every run of the varied groups reached by its last step (the largest of
 * their final losses): runs that train at different speeds are compared there too, since at
 * a fixed step count a slower rule has simply overfitted less.
 */
export function matchedLoss(groups: readonly Group[]): number | undefined {
  const losses = groups.filter((g) => g.vary).flatMap((g) => finals(g, 'trainLoss'));
  return losses.length ? Math.max(...losses) : undefined;
}

/** Test accuracy at the first logged step whose training loss is at most `loss` (undefined if never). */
export function accuracyAtLoss(run: JobOutcome, loss: number): number | undefined {
  return run.log.find((l) => l.trainLoss <= loss)?.testAccuracy;
}

/** The table of final results, one row per group, and the test accuracy at the matched training loss. */
export function resultsTable(groups: readonly Group[]): string {
  const target = matchedLoss(groups);
  const at = target === undefined ? '' : ` test accuracy (%) at train loss ≤ ${sig(target)} |`;
  const rows = [`| runs | seeds | test accuracy (%) | test loss | train loss | train accuracy (%) | Φ | ‖hM‖/‖F‖ |${at}`, `|---|---|---|---|---|---|---|---|${target === undefined ? '' : '---|'}`];
  for (const g of groups) {
    const stopped = g.runs.filter((r) => r.record.stopped !== null).length;
    let matched = '';
    if (target !== undefined) {
      const reached = g.runs.map((r) => accuracyAtLoss(r, target)).filter((a): a is number => a !== undefined);
      matched = ` ${pm(reached, pct)}${reached.length && reached.length < g.runs.length ? ` (${reached.length} of ${g.runs.length} runs)` : ''} |`;
    }
    rows.push(`| ${escapeMarkdown(g.name)}${stopped ? ` (${stopped} stopped early)` : ''} | ${g.runs.length} | ${pm(finals(g, 'testAccuracy'), pct)} | ${pm(finals(g, 'testLoss'), sig)} | ${pm(finals(g, 'trainLoss'), sig)} | ${pm(finals(g, 'trainAccuracy'), pct)} | ${pm(finals(g, 'phi'), sig)} | ${pm(finals(g, 'hMOverF'), sig)} |${matched}`);
  }
  return rows.join('\n');
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Final test accuracy against the varied value (points per seed, mean line); other groups as horizontal rules at their mean. */
export function accuracySpec(groups: readonly Group[]): TopLevelSpec | undefined {
  const varied = groups.filter((g) => g.vary);
  if (varied.length === 0) return undefined;
  const param = varied[0]!.vary!.param;
  const points = varied.flatMap((g) => g.runs.map((r) => ({ series: g.label, value: String(g.vary!.value), accuracy: r.record.last?.testAccuracy })))
    .filter((p) => typeof p.accuracy === 'number');
  const rules = groups.filter((g) => !g.vary).map((g) => ({ series: `${g.name} (mean)`, accuracy: meanStd(finals(g, 'testAccuracy')).mean }))
    .filter((r) => Number.isFinite(r.accuracy));
  const order = [...new Set(varied.map((g) => g.vary!.value))].sort((a, b) => a - b).map(String);
  const y = { field: 'accuracy', type: 'quantitative', title: 'final test accuracy', scale: { zero: false }, axis: { format: '.1%' } };
  return {
    $schema: SCHEMA,
    title: `Final test accuracy against ${param}`,
    width: 420,
    height: 280,
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.6 }, encoding: { x: { field: 'value', type: 'ordinal', sort: order, title: param }, y, color: { field: 'series', type: 'nominal', title: 'runs' } } },
      { data: { values: points }, mark: { type: 'line' }, encoding: { x: { field: 'value', type: 'ordinal', sort: order }, y: { ...y, aggregate: 'mean' }, color: { field: 'series', type: 'nominal' } } },
      { data: { values: rules }, mark: { type: 'rule', strokeDash: [6, 3] }, encoding: { y, color: { field: 'series', type: 'nominal' } } },
    ],
  } as unknown as TopLevelSpec;
}

/** Mean over seeds of a logged quantity, by group and step. */
function curveRows(groups: readonly Group[], keys: readonly (keyof LogLine)[], labels: Readonly<Record<string, string>>) {
  const rows: { series: string; step: number; quantity: string; value: number }[] = [];
  for (const g of groups)
    for (const key of keys) {
      const bySteps = new Map<number, number[]>();
      for (const r of g.runs) for (const l of r.log) if (typeof l[key] === 'number') bySteps.set(l.step, [...(bySteps.get(l.step) ?? []), l[key] as number]);
      for (const [step, vs] of bySteps) if (vs.length === g.runs.length) rows.push({ series: g.name, step, quantity: labels[key]!, value: meanStd(vs).mean });
    }
  return rows;
}

/** Lines over training, one facet row per quantity, each with its own y scale. */
function facetedLines(title: string, rows: ReturnType<typeof curveRows>, yScale: Record<string, unknown>, sort?: string[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: { row: { field: 'quantity', type: 'nominal', title: null, ...(sort ? { sort } : {}) } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 480,
      height: 220,
      mark: { type: 'line' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: yScale },
        color: { field: 'series', type: 'nominal', title: 'runs', legend: { labelLimit: 320 } },
      },
    },
  } as unknown as TopLevelSpec;
}

export function curvesSpec(groups: readonly Group[]): TopLevelSpec {
  const labels = { testAccuracy: 'test accuracy', trainLoss: 'train loss' };
  return facetedLines('Over training (mean over seeds)', curveRows(groups, ['testAccuracy', 'trainLoss'], labels), { zero: false }, Object.values(labels));
}

export function phiSpec(groups: readonly Group[]): TopLevelSpec | undefined {
  const rows = curveRows(groups, ['phi', 'hMOverF'], { phi: 'Φ (derived penalty)', hMOverF: '‖hM‖/‖F‖' }).filter((r) => r.value > 0);
  if (rows.length === 0) return undefined;
  return facetedLines('The derived penalty Φ and the size of the memory term over training (mean over seeds; log scale)', rows, { type: 'log' });
}

export interface ReportInfo {
  readonly sweepFile: string;
  readonly command: string;
  readonly wallSeconds?: number;
  readonly load?: string;
  /** Wall seconds of each invocation when the sweep was resumed. */
  readonly invocations?: readonly number[];
}

/** Writes the report and its plots (in a folder named after the report, beside it); returns the Markdown. */
export async function writeReport(sweep: SweepConfig, outcomes: readonly JobOutcome[], info: ReportInfo): Promise<string> {
  const groups = groupOutcomes(outcomes);
  const plotDir = join(dirname(sweep.report), basename(sweep.report, '.md'));
  mkdirSync(plotDir, { recursive: true });
  const figures: string[] = [];
  const plots: [string, string, TopLevelSpec | undefined][] = [
    ['accuracy.svg', 'Final test accuracy against the varied hyperparameter', accuracySpec(groups)],
    ['curves.svg', 'Test accuracy and train loss over training', curvesSpec(groups)],
    ['phi.svg', 'Φ and ‖hM‖/‖F‖ over training', phiSpec(groups)],
  ];
  for (const [file, caption, spec] of plots) {
    if (!spec) continue;
    writeFileSync(join(plotDir, file), await renderSvg(spec));
    figures.push(`![${caption}](${urlPath(relative(dirname(sweep.report), join(plotDir, file)))})`);
  }
  const c = outcomes[0]!.job.config;
  const setup = [
    `- data: the first ${c.data.train} training and ${c.data.test} test images of ${codeSpan(c.data.dir)}${c.data.downsample > 1 ? `, downsampled ${c.data.downsample}×${c.data.downsample}` : ''}`,
    `- model: MLP, one hidden layer of ${c.model.hidden} ${c.model.activation} units, softmax cross-entropy`,
    `- ${c.batchSize === null ? 'full batch' : `batch size ${c.batchSize}`}, ${c.steps} steps, logged every ${c.logEvery}`,
    ...groupOutcomes(outcomes).filter((g, i, all) => all.findIndex((h) => h.label === g.label) === i).map((g) => {
      const o = g.runs[0]!.job.config.optimizer;
      const hyper = Object.entries(o.hyper).filter(([k]) => k !== g.vary?.param).map(([k, v]) => `${escapeMarkdown(k)} = ${v}`);
      const seeds = [...new Set(outcomes.filter((x) => x.job.label === g.label).map((x) => x.job.seed))];
      return `- **${escapeMarkdown(g.label)}**: ${codeSpan(o.rule)}, h = ${o.h}${hyper.length ? `, ${hyper.join(', ')}` : ''}${g.vary ? `, ${escapeMarkdown(g.vary.param)} varied` : ''}${g.runs[0]!.job.config.cancelMemoryTerm ? ', memory term cancelled (`cancelMemoryTerm`)' : ''}; seeds ${seeds.join(', ')}`;
    }),
  ];
  const notes = sweep.notes ? readFileSync(sweep.notes, 'utf8').trim() : '';
  const timing = outcomes.filter((o) => o.secondsPerStep).map((o) => o.secondsPerStep!);
  const md = [
    `# Experiments: ${escapeMarkdown(sweep.name)}`,
    '',
    `<!-- Written by \`${inComment(info.command)}\`: the tables and plots are generated${sweep.notes ? `; the discussion comes from \`${inComment(sweep.notes)}\`` : ''}. -->`,
    '',
    '## Reproduce',
    '',
    '```sh',
    oneLine(info.command),
    '```',
    '',
    `The sweep is ${codeSpan(info.sweepFile)}; each run's log (\`log.jsonl\`), checkpoint, result and config are under ${codeSpan(`${sweep.out}/<run>/`)}, and ${codeSpan(`memloss train ${sweep.out}/<run>/config.json`)} repeats one run alone (the same bytes of log). Add \`--resume\` to continue an interrupted sweep.`,
    '',
    '## Setup',
    '',
    ...setup,
    '',
    '## Results at the last step',
    '',
    'Mean ± sample standard deviation over seeds. Φ is the potential the derivation found for the rule (— when it has none); ‖hM‖/‖F‖ compares the memory correction with the update. The last column compares runs at the same training loss instead of the same step: the test accuracy at the first logged step where the training loss is at most the largest final training loss of the varied runs (— when a run never gets there).',
    '',
    resultsTable(groups),
    '',
    ...figures.flatMap((f) => [f, '']),
    ...(notes ? [notes, ''] : []),
    '## Timing',
    '',
    `${info.wallSeconds !== undefined ? `Wall time of the sweep: ${(info.wallSeconds / 60).toFixed(1)} min${info.invocations && info.invocations.length > 1 ? ` in ${info.invocations.length} invocations (${info.invocations.map((s) => `${(s / 60).toFixed(1)} min`).join(', then --resume: ')})` : ''} with ${Math.min(sweep.workers, sweep.jobs.length)} workers${info.load ? ` (load average at the end: ${info.load})` : ''}. ` : ''}${timing.length ? `Seconds per step: median ${median(timing).toFixed(3)}, range ${Math.min(...timing).toFixed(3)}–${Math.max(...timing).toFixed(3)} (a cancellation run needs one or two Hessian-vector products per step on top).` : ''}`,
    '',
  ].join('\n');
  mkdirSync(dirname(sweep.report), { recursive: true });
  writeFileSync(sweep.report, md);
  return md;
}

/** Text inside an HTML comment: one line, and no > (so no --> can end the comment early). */
const inComment = (s: string) => oneLine(s).replaceAll('>', '&gt;');

/** A relative path as a link target: each segment percent-encoded (spaces, parentheses, <, …). */
const urlPath = (p: string) => p.split(sep).map((s) => encodeURIComponent(s).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
