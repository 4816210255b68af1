/**
 * Generates an optimizer module (the API of src/numeric/types.ts) from a rule and its
 * derivation: TypeScript for `derivations/<name>/<name>.ts`, or plain JavaScript for the
 * in-memory loader. Every function is one fused loop over Float64Array; loop-invariant
 * subexpressions (bias corrections) are hoisted and repeated ones bound once per
 * coordinate. Names from the rule file never reach the code: parameters are p_<name>,
 * states s_<name>, and free text (name, citation) appears only in escaped comments and
 * string literals.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { isPrevName, stateOfPrev, type Rule } from '../ir/rule.js';
import type { CorrectionTerm, Derivation, RegimeResult } from '../derive/types.js';
import { toJs } from './expr-js.js';
import { toText } from './expr-text.js';
import { linearHistoryWeights } from '../derive/batches.js';
import type { BatchWeights } from '../derive/types.js';

export interface CodeOptions {
  /** TypeScript (annotations, `export`) or plain JavaScript for `new Function`. */
  readonly typescript: boolean;
}

/** Free text in a `//` comment: no line terminators can end it early. */
const comment = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, ' ');

const PER_COORDINATE = new Set(['g', 'theta']);

export function nameOf(symbol: string): string {
  if (symbol === 'g') return 'g';
  if (symbol === 'theta') return 'th';
  if (symbol === 'n') return 'n';
  if (symbol === 'k') return 'k';
  if (symbol === 's') return 'i_s';
  if (isPrevName(symbol)) return `s_${stateOfPrev(symbol)}_prev`;
  return `p_${symbol}`;
}

/**
 * Local bindings for a loop body: the largest loop-invariant subexpressions go before the
 * loop, compound subexpressions used twice or more inside it are computed once per coordinate.
 */
export class Bindings {
  readonly hoisted: [string, Expr][] = [];
  readonly inner: [string, Expr][] = [];
  readonly names = new Map<Expr, string>();

  constructor(roots: readonly Expr[], isVarying: (sym: string) => boolean, private readonly prefix = '') {
    const varying = new Map<Expr, boolean>();
    const uses = new Map<Expr, number>();
    const order: Expr[] = [];
    const visit = (e: Expr) => {
      uses.set(e, (uses.get(e) ?? 0) + 1);
      if (varying.has(e)) return;
      let v = e.kind === 'sym' ? isVarying(e.name) : false;
      if (e.kind !== 'sum') for (const c of E.children(e)) { visit(c); v ||= varying.get(c)!; }
      else v = [...E.freeSymbols(e)].some(isVarying);
      varying.set(e, v);
      order.push(e);
    };
    for (const r of roots) visit(r);
    const compound = (e: Expr) => e.kind !== 'num' && e.kind !== 'sym';
    const hoist = new Set<Expr>();
    const markHoist = (e: Expr) => {
      if (!compound(e)) return;
      if (!varying.get(e)) { hoist.add(e); return; }
      if (e.kind !== 'sum') for (const c of E.children(e)) markHoist(c);
    };
    for (const r of roots) markHoist(r);
    for (const e of order) {
      if (hoist.has(e)) {
        const name = `${this.prefix}c${this.hoisted.length}`;
        this.hoisted.push([name, e]);
      } else if (compound(e) && varying.get(e) && (uses.get(e) ?? 0) >= 2 && e.kind !== 'sum') {
        this.inner.push([`${this.prefix}t${this.inner.length}`, e]);
      }
    }
  }

  /** `const name = …;` lines, each printed with the bindings defined before it. */
  declare(list: [string, Expr][], indent: string): string[] {
    return list.map(([name, e]) => {
      const line = `${indent}const ${name} = ${toJs(e, nameOf, this.names)};`;
      this.names.set(e, name);
      return line;
    });
  }
}

/**
 * Drops `const` locals (parameters, hoisted and shared values) that nothing reads, until none
 * is left: generated code stays clean under noUnusedLocals, and no work is wasted.
 */
function pruneUnused(lines: string[]): string[] {
  let out = lines;
  for (;;) {
    const text = out.join('\n');
    const unused = out.findIndex((line) => {
      const m = /^\s*const (p_\w+|(?:[vw]\d+_)?[ct]\d+) = /.exec(line);
      return m !== null && (text.match(new RegExp(`\\b${m[1]}\\b`, 'g')) ?? []).length === 1;
    });
    if (unused < 0) break;
    out = out.filter((_, i) => i !== unused);
  }
  // no parameter left: the merged hyperparameters are not needed either
  if (!out.some((l) => /\bp_\w+/.test(l))) out = out.map((l) => (/^\s*const p = \{ \.\.\.defaults, \.\.\.hyper \};$/.test(l) ? l.replace(/const p = .*/, 'void hyper;') : l));
  return out;
}

export function optimizerModule(rule: Rule, d: Derivation, opts: CodeOptions): string {
  const ts = opts.typescript;
  const ex = ts ? 'export ' : '';
  const T = (s: string) => (ts ? s : '');
  const params = rule.params.map((p) => p.name);
  const states = rule.states.map((s) => s.name);
  const exact = d.exactN && !('unavailable' in d.exactN) ? d.exactN : undefined;
  const L: string[] = [];
  const hyperType = `{ ${params.map((p) => `readonly ${JSON.stringify(p)}: number`).join('; ')}${params.length ? ';' : ''} }`;
  const readHyper = (indent: string) =>
    params.length
      ? [`${indent}const p = { ...defaults, ...hyper };`, ...params.map((q) => `${indent}const p_${q} = p[${JSON.stringify(q)}]${T('!')};`)]
      : [`${indent}void hyper;`];

  if (ts) {
    L.push(`// Generated by memloss from ${comment(rule.file)}: do not edit; \`memloss build\` regenerates it.`);
    L.push(`// Optimizer: ${comment(rule.name)}${rule.cite ? `. Reference: ${comment(rule.cite)}` : ''}.`);
    L.push('// Step: θₙ₊₁ = θₙ − h·update, coordinate by coordinate:');
    for (const s of rule.states) L.push(`//   state ${s.name} = ${comment(s.source)}`);
    L.push(`//   update ${comment(rule.updateSource)}`);
    L.push(`// Memoryless iteration (derivations/…/derivation.tex): θ̃ₙ₊₁ = θ̃ₙ − h·(F⁽ⁿ⁾(θ̃ₙ) + h·M⁽ⁿ⁾(θ̃ₙ)), asymptotically`);
    L.push(`//   F(θ) = ${comment(toText(d.asymptotic.F))}`);
    for (const t of d.asymptotic.M) L.push(`//   M(θ) ∋ ${comment(toText(t.weight))} · ${t.kind === 'hvp' ? 'H·' : ''}(${comment(toText(t.field))})`);
    if (!d.asymptotic.M.length) L.push('//   M(θ) = 0 (almost everywhere)');
    L.push('');
    L.push(`export type Hyper = ${hyperType};`);
    L.push(`export interface State { n: number; readonly arrays: { ${states.map((s) => `readonly ${JSON.stringify(s)}: Float64Array;`).join(' ')} } }`);
    L.push('export type Hvp = (v: Float64Array) => Float64Array;');
    L.push('');
  }
  L.push(`${ex}const name = ${JSON.stringify(rule.name)};`);
  L.push(`${ex}const defaults${T(': Hyper')} = Object.freeze({ ${rule.params.map((p) => `${JSON.stringify(p.name)}: ${Number(p.valueText)}`).join(', ')} });`);
  L.push('');

  // init
  L.push(`${ex}function init(dim${T(': number')})${T(': State')} {`);
  if (!states.length) L.push('  void dim;');
  L.push(`  return { n: 0, arrays: { ${states.map((s) => `${JSON.stringify(s)}: new Float64Array(dim)`).join(', ')} } };`);
  L.push('}', '');

  // step: the rule itself
  {
    const news = rule.states.map((s) => s.rhs);
    const varying = (sym: string) => PER_COORDINATE.has(sym) || states.includes(sym) || isPrevName(sym);
    const b = new Bindings([...news, rule.update], varying);
    L.push(`/** The optimizer itself: one step in place, θ −= h·update; the state advances to n + 1. */`);
    L.push(`${ex}function step(theta${T(': Float64Array')}, grad${T(': Float64Array')}, state${T(': State')}, h${T(': number')}, hyper${T(': Partial<Hyper>')} = {})${T(': void')} {`);
    L.push(...readHyper('  '));
    L.push('  const n = state.n;');
    for (const s of states) L.push(`  const a_${s} = state.arrays[${JSON.stringify(s)}];`);
    L.push(...b.declare(b.hoisted, '  '));
    L.push('  for (let i = 0; i < theta.length; i++) {');
    L.push('    const g = grad[i]' + T('!') + ';');
    L.push('    const th = theta[i]' + T('!') + ';');
    for (const s of states) L.push(`    const s_${s}_prev = a_${s}[i]${T('!')};`);
    // state updates in file order; later expressions read the new values
    const stateName = (sym: string) => (states.includes(sym) ? `s_${sym}` : nameOf(sym));
    const inner = b.inner;
    let emitted = 0;
    const flush = (ready: (e: Expr) => boolean) => {
      while (emitted < inner.length && ready(inner[emitted]![1])) {
        const [nm, e] = inner[emitted]!;
        L.push(`    const ${nm} = ${toJs(e, stateName, b.names)};`);
        b.names.set(e, nm);
        emitted++;
      }
    };
    const known = new Set<string>(['g', 'theta', 'n', ...params, ...states.map((s) => `${s}@prev`)]);
    const ready = (e: Expr) => [...E.freeSymbols(e)].every((x) => known.has(x));
    rule.states.forEach((st) => {
      flush(ready);
      L.push(`    const s_${st.name} = ${toJs(st.rhs, stateName, b.names)};`);
      L.push(`    a_${st.name}[i] = s_${st.name};`);
      known.add(st.name);
    });
    flush(() => true);
    L.push(`    theta[i] = th - h * (${toJs(rule.update, stateName, b.names)});`);
    L.push('  }');
    L.push('  state.n = n + 1;');
    L.push('}', '');
  }

  // direction and correction, for one regime each
  const fieldsOf = (r: RegimeResult) => r.M;
  const regimeFns = (r: RegimeResult, suffix: string) => {
    const varying = (sym: string) => PER_COORDINATE.has(sym);
    // direction
    {
      const b = new Bindings([r.F], varying);
      L.push(`function direction${suffix}(theta${T(': Float64Array')}, grad${T(': Float64Array')}, out${T(': Float64Array')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': Float64Array')} {`);
      L.push(...readHyper('  '));
      L.push('  void n;');
      L.push(...b.declare(b.hoisted, '  '));
      L.push('  for (let i = 0; i < theta.length; i++) {');
      L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
      L.push(...b.declare(b.inner, '    '));
      L.push(`    out[i] = ${toJs(r.F, nameOf, b.names)};`);
      L.push('  }');
      L.push('  return out;');
      L.push('}', '');
    }
    // correction: fields first (one array per term), then H·field through the caller's hvp
    {
      const terms: readonly CorrectionTerm[] = fieldsOf(r);
      L.push(`function correction${suffix}(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, out${T(': Float64Array')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': Float64Array')} {`);
      L.push(...readHyper('  '));
      L.push('  void n; void hvp; void theta; void grad;');
      L.push('  out.fill(0);');
      terms.forEach((t, ti) => {
        const fb = new Bindings([t.field], varying, `v${ti}_`);
        L.push(`  // term ${ti + 1}: ${comment(toText(t.weight))} · ${t.kind === 'hvp' ? 'H·' : ''}(${comment(toText(t.field))})`);
        L.push(`  const v${ti} = new Float64Array(theta.length);`);
        L.push('  {');
        L.push(...fb.declare(fb.hoisted, '    '));
        L.push('    for (let i = 0; i < theta.length; i++) {');
        L.push(`      const g = grad[i]${T('!')};`, `      const th = theta[i]${T('!')};`, '      void g; void th;');
        L.push(...fb.declare(fb.inner, '      '));
        L.push(`      v${ti}[i] = ${toJs(t.field, nameOf, fb.names)};`);
        L.push('    }');
        L.push('  }');
        L.push(`  const hv${ti} = ${t.kind === 'hvp' ? `hvp(v${ti})` : `v${ti}`};`);
        const wb = new Bindings([t.weight], varying, `w${ti}_`);
        L.push('  {');
        L.push(...wb.declare(wb.hoisted, '    '));
        L.push('    for (let i = 0; i < theta.length; i++) {');
        L.push(`      const g = grad[i]${T('!')};`, `      const th = theta[i]${T('!')};`, '      void g; void th;');
        L.push(...wb.declare(wb.inner, '      '));
        L.push(`      out[i] += (${toJs(t.weight, nameOf, wb.names)}) * hv${ti}[i]${T('!')};`);
        L.push('    }');
        L.push('  }');
      });
      L.push('  return out;');
      L.push('}', '');
    }
  };
  regimeFns(d.asymptotic, 'Asymptotic');
  if (exact) regimeFns(exact, 'Exact');
  const noExact = exact ? '' : `throw new Error(${JSON.stringify(`the exact finite-n form is not available: ${d.exactN && 'unavailable' in d.exactN ? d.exactN.unavailable : 'not derived'}`)});`;

  L.push('/** F⁽ⁿ⁾(θ) on a constant history: the exact finite-n form when n is given, else the n → ∞ form. */');
  L.push(`${ex}function direction(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': Float64Array')} {`);
  L.push('  const out = new Float64Array(theta.length);');
  L.push(exact ? '  return n === undefined ? directionAsymptotic(theta, grad, out, hyper, 0) : directionExact(theta, grad, out, hyper, n);' : `  if (n !== undefined) ${noExact}\n  return directionAsymptotic(theta, grad, out, hyper, 0);`);
  L.push('}', '');
  L.push('/** M⁽ⁿ⁾(θ): the exact finite-n form when n is given, else the asymptotic one; hvp(v) = H·v at θ. */');
  L.push(`${ex}function correction(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': Float64Array')} {`);
  L.push('  const out = new Float64Array(theta.length);');
  L.push(exact ? '  return n === undefined ? correctionAsymptotic(theta, grad, hvp, out, hyper, 0) : correctionExact(theta, grad, hvp, out, hyper, n);' : `  if (n !== undefined) ${noExact}\n  return correctionAsymptotic(theta, grad, hvp, out, hyper, 0);`);
  L.push('}', '');
  L.push('/** The memoryless iteration, in place: θ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾). */');
  L.push(`${ex}function memorylessStep(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, h${T(': number')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': void')} {`);
  L.push('  const F = direction(theta, grad, hyper, n);');
  L.push('  const M = correction(theta, grad, hvp, hyper, n);');
  L.push(`  for (let i = 0; i < theta.length; i++) theta[i] = theta[i]${T('!')} - h * (F[i]${T('!')} + h * M[i]${T('!')});`);
  L.push('}', '');

  // penalty: M = w ∘ ∇Φ with one potential
  const pot = d.interpretation.potentials?.length === 1 ? d.interpretation.potentials[0]! : undefined;
  const exportsList = ['name', 'defaults', 'init', 'step', 'direction', 'correction', 'memorylessStep'];
  if (pot) {
    const varying = (sym: string) => PER_COORDINATE.has(sym);
    const pb = new Bindings([pot.potential.perCoordinate], varying);
    const lossCoefficient = pot.potential.lossCoefficient;
    L.push(`/** Φ(∇L(θ), θ) = Σⱼ ${comment(toText(pot.potential.perCoordinate))} + (${comment(toText(lossCoefficient))})·L(θ); pass loss = L(θ) when that coefficient is not 0. */`);
    L.push(`${ex}function penalty(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T(': Partial<Hyper>')} = {}, loss${T('?: number')})${T(': number')} {`);
    L.push(...readHyper('  '));
    L.push(...pb.declare(pb.hoisted, '  '));
    L.push('  let total = 0;');
    L.push('  for (let i = 0; i < theta.length; i++) {');
    L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
    L.push(...pb.declare(pb.inner, '    '));
    L.push(`    total += ${toJs(pot.potential.perCoordinate, nameOf, pb.names)};`);
    L.push('  }');
    if (!E.isZero(lossCoefficient)) {
      L.push(`  const lossCoefficient = ${toJs(lossCoefficient, nameOf)};`);
      L.push(`  if (lossCoefficient !== 0) {`);
      L.push(`    if (loss === undefined) throw new Error('penalty: this potential contains L(θ); pass loss = L(θ)');`);
      L.push('    total += lossCoefficient * loss;');
      L.push('  }');
    } else L.push('  void loss;');
    L.push('  return total;');
    L.push('}', '');
    const wb = new Bindings([pot.weight], varying);
    L.push(`/** The weight w of M = w ∘ ∇Φ: ${comment(toText(pot.weight))}. */`);
    L.push(`${ex}function penaltyWeight(theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T(': Partial<Hyper>')} = {})${T(': Float64Array')} {`);
    L.push(...readHyper('  '));
    L.push('  const out = new Float64Array(theta.length);');
    L.push(...wb.declare(wb.hoisted, '  '));
    L.push('  for (let i = 0; i < theta.length; i++) {');
    L.push(`    const g = grad[i]${T('!')};`, `    const th = theta[i]${T('!')};`, '    void g; void th;');
    L.push(...wb.declare(wb.inner, '    '));
    L.push(`    out[i] = ${toJs(pot.weight, nameOf, wb.names)};`);
    L.push('  }');
    L.push('  return out;');
    L.push('}', '');
    exportsList.push('penalty', 'penaltyWeight');
  }
  // history weights on a batch history, for rules whose memory is linear in the gradients
  const history = linearHistoryWeights(d);
  if (history) {
    const exactWeights = history.exactN && !('unavailable' in history.exactN) ? history.exactN : undefined;
    const weightFn = (w: BatchWeights, suffix: string) => {
      const b = new Bindings([w.lagG, w.lagTheta, w.current, w.thetaCoefficient], (sym) => sym === 'k');
      L.push(`function historyWeights${suffix}(hyper${T(': Partial<Hyper>')}, n${T(': number')}, count${T(': number')})${T(': HistoryWeights')} {`);
      L.push(...readHyper('  '));
      L.push('  void n;');
      L.push(...b.declare(b.hoisted, '  '));
      L.push('  const g = new Float64Array(count + 1), theta = new Float64Array(count + 1);');
      L.push(`  g[0] = ${toJs(w.current, nameOf, b.names)};`);
      L.push(`  for (let k = 1; k <= ${suffix === 'Exact' ? 'Math.min(count, n)' : 'count'}; k++) {`);
      L.push(...b.declare(b.inner, '    '));
      L.push(`    g[k] = ${toJs(w.lagG, nameOf, b.names)};`);
      L.push(`    theta[k] = ${toJs(w.lagTheta, nameOf, b.names)};`);
      L.push('  }');
      L.push(`  return { g, theta, thetaCoefficient: ${toJs(w.thetaCoefficient, nameOf, b.names)} };`);
      L.push('}', '');
    };
    weightFn(history.asymptotic, 'Asymptotic');
    if (exactWeights) weightFn(exactWeights, 'Exact');
    if (ts) L.push('export interface HistoryWeights { readonly g: Float64Array; readonly theta: Float64Array; readonly thetaCoefficient: number }', '');
    L.push('/** Weights of past batch gradients (g) and iterates (theta) in F⁽ⁿ⁾, lags 0..count: exact finite-n when n is given. */');
    L.push(`${ex}function historyWeights(hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')}, count = 0)${T(': HistoryWeights')} {`);
    const why = history.exactN && 'unavailable' in history.exactN ? history.exactN.unavailable : 'not derived';
    L.push(exactWeights
      ? '  return n === undefined ? historyWeightsAsymptotic(hyper, 0, count) : historyWeightsExact(hyper, n, count);'
      : `  if (n !== undefined) throw new Error(${JSON.stringify(`the exact finite-n history weights are not available: ${why}`)});\n  return historyWeightsAsymptotic(hyper, 0, count);`);
    L.push('}', '');
    exportsList.push('historyWeights');
  }
  if (!ts) L.push(`return { ${exportsList.join(', ')} };`);
  // prune each function (from a line starting with `function`/`export function` to its closing brace)
  const pruned: string[] = [];
  let current: string[] | undefined;
  for (const line of L) {
    if (/^(export )?function /.test(line)) current = [line];
    else if (current) {
      current.push(line);
      if (line === '}') { pruned.push(...pruneUnused(current)); current = undefined; }
    } else pruned.push(line);
  }
  return `${pruned.join('\n')}\n`;
}
