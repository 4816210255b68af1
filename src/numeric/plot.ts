/**
 * The gap plot of `memloss validate`: maxₙ ‖θₙ − θ̃ₙ‖∞ against h on log–log axes, one line per
 * variant of M, with dashed reference lines of slope 1 and 2. A Vega-Lite specification,
 * compiled by `vega-lite` and rendered to SVG by Vega's headless view (no browser, no
 * canvas: SVG output needs neither). Both are loaded only when a plot is asked for.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ValidationResult, Variant } from './validate.js';
import { VARIANTS } from './validate.js';

const LABEL: Readonly<Record<Variant, string>> = {
  exact: 'with exact-n M',
  asymptotic: 'with asymptotic M',
  none: 'without M',
};
const REF1 = 'slope 1 (reference)';
const REF2 = 'slope 2 (reference)';

interface Row {
  readonly problem: string;
  readonly h: number;
  readonly gap: number;
  readonly series: string;
}

/** Measured gaps (positive and finite only: a log axis has no place for 0 or ∞) and reference lines. */
export function plotRows(results: readonly ValidationResult[]): Row[] {
  const rows: Row[] = [];
  const shown = (g: number) => g > 0 && Number.isFinite(g);
  for (const r of results) {
    for (const v of VARIANTS)
      for (const run of r.runs) if (shown(run.gap[v])) rows.push({ problem: r.problem, h: run.h, gap: run.gap[v], series: LABEL[v] });
    // C·hᵖ just below (slope 2) and just above (slope 1) the first gap of the variant it is compared with
    const first = (order: readonly Variant[]) => {
      for (const v of order) for (const run of r.runs) if (shown(run.gap[v])) return { h: run.h, gap: run.gap[v] };
      return undefined;
    };
    const refs = [[REF2, 2, 0.5, ['exact', 'asymptotic', 'none']], [REF1, 1, 2, ['none', 'asymptotic', 'exact']]] as const;
    for (const [series, p, offset, order] of refs) {
      const a = first(order);
      if (a) for (const run of r.runs) rows.push({ problem: r.problem, h: run.h, gap: offset * a.gap * (run.h / a.h) ** p, series });
    }
  }
  return rows;
}

/** The Vega-Lite specification; one panel per problem. */
export function plotSpec(results: readonly ValidationResult[], title: string): TopLevelSpec {
  const measured = VARIANTS.map((v) => LABEL[v]);
  const stepSizes = [...new Set(results.flatMap((r) => r.runs.map((run) => run.h)))];
  const isRef = { field: 'series', oneOf: [REF2, REF1] };
  const logAxis = { type: 'log', nice: false, padding: 12 };
  const layers = {
    layer: [
      {
        // its own field, so that the references get a legend of their own
        transform: [{ filter: isRef }, { calculate: 'datum.series', as: 'reference' }],
        mark: { type: 'line', color: '#888', strokeWidth: 1 },
        encoding: {
          strokeDash: {
            field: 'reference', type: 'nominal', title: 'reference', scale: { domain: [REF2, REF1], range: [[6, 3], [2, 2]] },
            legend: { symbolType: 'stroke', symbolStrokeColor: '#888', symbolStrokeWidth: 1.5 },
          },
        },
      },
      {
        transform: [{ filter: { not: isRef } }],
        mark: { type: 'line', point: true },
        encoding: {
          color: { field: 'series', type: 'nominal', title: 'memoryless iteration', scale: { domain: measured } },
          tooltip: [{ field: 'series', type: 'nominal' }, { field: 'h', type: 'quantitative' }, { field: 'gap', type: 'quantitative', format: '.3e' }],
        },
      },
    ],
    encoding: {
      x: { field: 'h', type: 'quantitative', scale: logAxis, title: 'step size h', axis: { format: '.2~g', values: stepSizes } },
      y: { field: 'gap', type: 'quantitative', scale: logAxis, title: 'max gap ‖θₙ − θ̃ₙ‖∞', axis: { format: '.0e' } },
      detail: { field: 'series', type: 'nominal' },
    },
    width: 320,
    height: 260,
  } as const;
  const data = { values: plotRows(results) };
  const config = { legend: { labelLimit: 240 } };
  const spec =
    results.length > 1
      ? { title, data, config, facet: { field: 'problem', type: 'nominal', title: null }, columns: 3, resolve: { scale: { y: 'independent' } }, spec: layers }
      : { title: `${title} — ${results[0]?.problem ?? ''}`, data, config, ...layers };
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec } as unknown as TopLevelSpec;
}

/** Renders the plot to an SVG document. */
export function renderPlot(results: readonly ValidationResult[], title: string): Promise<string> {
  return renderSvg(plotSpec(results, title));
}

/** Any Vega-Lite specification to an SVG document (also used by the training report). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const silent = { level: () => silent, error: () => silent, warn: () => silent, info: () => silent, debug: () => silent };
  const compiled = vl.compile(spec, { logger: silent as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
