/**
 * Hostile sweep labels, sweep name and paths through the sweep report: report.md keeps every
 * table row whole and no raw < from them, and rendered laxly (browser.ts) it opens in
 * headless Chromium with no script run and its plots found; each SVG plot is well-formed
 * XML with the labels as text, and opened as a document it runs nothing either. The runs
 * are made up (the report reads only their records and logs): no training needed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/train/report.js';
import { readSweepConfig } from '../../src/train/sweep-config.js';
import type { JobOutcome } from '../../src/train/sweep.js';
import type { LogLine } from '../../src/train/train.js';
import { CI, haveBrowser, laxMarkdown, noBrowser, openBrowser, tableCells, type Browser } from './browser.js';

const tmp = mkdtempSync(join(tmpdir(), 'memloss-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Each sets window.__pwned or alerts if it runs; the first two also break a table row. */
const LABELS = [
  '<script>window.__pwned = 1</script> | A | B',
  '<img src=x onerror="window.__pwned = 2"> \\| escaped',
  'x</td></tr></table><svg onload="alert(3)"></svg>',
  '**bold** [link](javascript:alert(4)) `code` $x$ ~~s~~ _u_ # h & &amp; <!-- --> ]]>',
];
const NAME = '<script>alert("name")</script> | # not a heading\n<img src=x onerror="window.__pwned = 5">';
// paths: a backtick closes a code span, a space or parenthesis ends a link target
const OUT = join(tmp, 'runs `<img src=x onerror=alert(6)>`');
const REPORT = join(tmp, 'report dir', 'the report (1).md');
const DATA = 'data`<script>window.__pwned = 7</script>';

const sweepFile = join(tmp, 'sweep.json');
writeFileSync(sweepFile, JSON.stringify({
  name: NAME, out: OUT, report: REPORT, seeds: [1, 2],
  base: { data: { dir: DATA, train: 60, test: 30 }, model: { hidden: 8 }, steps: 10, logEvery: 5 },
  runs: [
    { label: LABELS[0], optimizer: { rule: 'rules/adamw.rule', h: 0.01 }, vary: { param: 'beta2', values: [0.9, 0.999] } },
    { label: LABELS[1], optimizer: { rule: 'rules/lion.rule', h: 0.003 } },
    { label: LABELS[2], optimizer: { rule: 'rules/heavy-ball.rule', h: 0.01 } },
    { label: LABELS[3], optimizer: { rule: 'rules/adamw.rule', h: 0.01, hyper: { beta1: 0.8 } }, cancelMemoryTerm: true, seeds: [1] },
  ],
}));
const sweep = readSweepConfig(sweepFile);

/** A made-up run: a log every 5 steps, numbers that differ by job. */
const outcome = (job: (typeof sweep.jobs)[number], k: number): JobOutcome => {
  const log: LogLine[] = [0, 5, 10].map((step) => ({
    step, trainLoss: 2 / (1 + step + k), trainAccuracy: 0.3 + 0.05 * k, testLoss: 2.1 / (1 + step + k),
    testAccuracy: 0.25 + 0.04 * k + 0.01 * step, phi: 0.1 + step + k, hMOverF: 0.01 * (1 + k),
  }));
  return { job, record: { name: job.config.name, steps: 10, step: 10, stopped: null, last: log.at(-1)! }, log };
};
const outcomes = sweep.jobs.map(outcome);
const command = `memloss sweep ${sweepFile}`;
let md = '';

beforeAll(async () => {
  md = await writeReport(sweep, outcomes, { sweepFile, command });
});

const PLOTS = ['accuracy.svg', 'curves.svg', 'phi.svg'].map((f) => join(dirname(REPORT), 'the report (1)', f));

describe('the sweep report with hostile labels', () => {
  it('every table row has the header\'s cells, and each label sits in its own row', () => {
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    const width = tableCells(rows[0]!).length;
    expect(rows.length).toBe(2 + 5); // header, rule, 5 groups
    for (const row of rows) expect(tableCells(row), row).toHaveLength(width);
    expect(rows.slice(2).map((r) => tableCells(r)[1])).toEqual(['2', '2', '2', '2', '1']);
  });

  it('no raw < from a label, the name or a path outside code spans, and the HTML comment stays one comment', () => {
    const lines = md.split('\n');
    expect(lines.filter((l) => l.includes('<!--'))).toHaveLength(1);
    const comment = lines.find((l) => l.startsWith('<!--'))!;
    expect(comment.indexOf('-->')).toBe(comment.length - 3);
    const outsideCode = lines.filter((l) => l !== comment && !l.startsWith('memloss sweep')).join('\n').replace(/(`+)[\s\S]*?[^`]\1(?!`)/g, '');
    expect(outsideCode).not.toMatch(/</);
    expect(md).toContain('# Experiments: &lt;script&gt;alert("name")&lt;/script&gt; \\| \\# not a heading &lt;img');
  });

  it('the SVG plots are well-formed, with the labels as escaped text', () => {
    for (const svg of PLOTS) {
      const text = readFileSync(svg, 'utf8');
      expect(text).toMatch(/^<svg/);
      // no element or event-handler attribute from a label: they are text, attribute values escaped
      expect(text).not.toMatch(/<(script|img|iframe)\b|<[a-z]+[^>]*\son[a-z]+="/);
    }
    expect(readFileSync(PLOTS[1]!, 'utf8')).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
  });
});

if (!haveBrowser && !CI) console.warn(`skipping the Chromium injection checks: ${noBrowser}`);
describe.skipIf(!haveBrowser && !CI)('the rendered report and the plots in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!haveBrowser) return;
    browser = await openBrowser();
  });
  afterAll(async () => browser?.close());

  it('the check can fail: the same report with the labels written raw runs them', async () => {
    if (!haveBrowser) expect.fail(`CI=true but ${noBrowser}`);
    expect(await browser.ran({ html: laxMarkdown(`| runs |\n|---|\n${LABELS.map((l) => `| ${l} |`).join('\n')}`) })).not.toEqual([]);
  });

  it('the report rendered laxly runs no script, and its plot links resolve', async () => {
    if (!haveBrowser) expect.fail(`CI=true but ${noBrowser}`);
    const page = join(dirname(REPORT), 'rendered.html');
    mkdirSync(dirname(page), { recursive: true });
    writeFileSync(page, laxMarkdown(md));
    expect(await browser.ran({ url: pathToFileURL(page).href })).toEqual([]);
    const images = await browser.inspect(pathToFileURL(page).href, () => Array.from(document.images).map((i) => i.naturalWidth));
    expect(images).toHaveLength(3);
    for (const w of images) expect(w).toBeGreaterThan(0);
  });

  it('each plot, opened as a document, parses and runs no script', async () => {
    if (!haveBrowser) expect.fail(`CI=true but ${noBrowser}`);
    for (const svg of PLOTS) {
      const url = pathToFileURL(svg).href;
      expect(await browser.ran({ url }), svg).toEqual([]);
      const dom = await browser.inspect(url, () => ({
        root: document.documentElement.localName,
        parseErrors: document.querySelectorAll('parsererror').length,
        scripts: document.querySelectorAll('script, foreignObject, iframe, img').length,
        handlers: Array.from(document.querySelectorAll('*')).flatMap((e) => e.getAttributeNames().filter((a) => a.startsWith('on'))),
      }));
      expect(dom, svg).toEqual({ root: 'svg', parseErrors: 0, scripts: 0, handlers: [] });
    }
  });
});
