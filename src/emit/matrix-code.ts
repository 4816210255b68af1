/**
 * Generates the optimizer module of a matrix rule (`shape matrix`) from its derivation: the
 * API of src/matrix/module.ts (`loadMatrixOptimizer`), as straight-line code. Every node of
 * a matrix expression becomes one `const` holding a call into the linear-algebra runtime
 * (`memloss/linalg`, src/matrix/linalg.ts: matmul, transpose, add, scale, hadamard,
 * identity, symmetric eigendecomposition, spectral power and its Daleckii–Krein derivative,
 * polar factor and its derivative); equal subexpressions and eigendecompositions are bound
 * once per block, as the in-memory evaluator memoizes them, so both compute the same
 * numbers in the same order. Names from the rule file never reach the code: parameters are
 * p_<name>, states are reached by index or through string literals, and free text appears only
 * in `//` comments with line terminators removed.
 */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { InternalError } from '../ir/diagnostics.js';
import { prevName, type MatrixRule } from '../ir/rule.js';
import * as M from '../matrix/expr.js';
import type { MExpr } from '../matrix/expr.js';
import { FIELD, HVP, type MatrixDerivation, type MatrixRegimeResult } from '../matrix/derive.js';
import { PAST_NEGLIGIBLE } from '../matrix/module.js';
import { matrixText } from './matrix-expr.js';
import { toJs } from './expr-js.js';
import { comment, headerComment } from './optimizer-code.js';
import { codeName, nameOf } from './code-names.js';

export interface MatrixCodeOptions {
  /** TypeScript (annotations, `export`, an import of the runtime) or a JavaScript function body taking the runtime as `LA`. */
  readonly typescript: boolean;
  /** Where the TypeScript module imports the runtime from (default `memloss/linalg`). */
  readonly runtime?: string;
}

/** The package export the generated modules import the runtime from. */
export const MATRIX_RUNTIME = 'memloss/linalg';

/**
 * A string literal, U+2028 and U+2029 escaped too (valid in literals, but line breaks to
 * many tools). Object literal keys are computed: `["__proto__"]: …` makes an own property,
 * `"__proto__": …` would set the prototype.
 */
const str = (s: string) => JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** Code for a leaf, given the scope it is first needed in. */
type LeafCode = (sc: Scope) => string;

/**
 * The `const` lines of one block of straight-line code. A child scope (a closure, or a
 * loop body) sees the bindings made so far in its parent and adds its own.
 */
class Scope {
  readonly lines: string[] = [];
  constructor(
    readonly indent: string,
    private readonly memo: Map<string, string>,
    private readonly counter: { n: number },
    private readonly leaves: ReadonlyMap<string, LeafCode>,
    /** Scalar symbols read (parameters, n, s). */
    readonly symbols: Set<string>,
    /** `!` after an index (TypeScript) or nothing. */
    private readonly bang: string,
  ) {}

  child(indent: string, leaves: ReadonlyMap<string, LeafCode> = new Map()): Scope {
    return new Scope(indent, new Map(this.memo), this.counter, new Map([...this.leaves, ...leaves]), this.symbols, this.bang);
  }

  /** A fresh scope: nothing bound yet (another scalar environment). */
  fresh(indent: string): Scope {
    return new Scope(indent, new Map(), this.counter, this.leaves, this.symbols, this.bang);
  }

  /** The local holding `code`, bound under `key` once. */
  bind(key: string, code: () => string, prefix = 'm'): string {
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const c = code();
    const name = `${prefix}${this.counter.n++}`;
    this.lines.push(`${this.indent}const ${name} = ${c};`);
    this.memo.set(key, name);
    return name;
  }

  /** Names an existing local as the value of `key`. */
  alias(key: string, local: string): void {
    this.memo.set(key, local);
  }

  scalar(e: Expr): string {
    for (const s of E.freeSymbols(e)) this.symbols.add(s);
    return toJs(e, nameOf);
  }

  shape(): string {
    return this.bind('\0shape', () => `lay.shapes[b]${this.bang}`, 'sh');
  }

  leaf(name: string): string {
    return this.bind(name, () => {
      const code = this.leaves.get(name);
      if (!code) throw new InternalError(`matrix code: no value for matrix '${name}'`);
      return code(this);
    });
  }

  /** The local holding m's value (every node one `const`). */
  matrix(m: MExpr): string {
    const k = M.mkey(m);
    if (m.kind === 'leaf') return this.leaf(m.name);
    return this.bind(k, () => this.node(m));
  }

  private eig(arg: MExpr): string {
    return this.bind(`\0eig:${M.mkey(arg)}`, () => `LA.symEig(${this.matrix(arg)})`, 'e');
  }

  private gramEig(arg: MExpr): string {
    return this.bind(`\0gram:${M.mkey(arg)}`, () => `LA.symEig(LA.polarGram(${this.matrix(arg)}))`, 'e');
  }

  private node(m: MExpr): string {
    const fold = (fn: string, xs: readonly MExpr[]) => xs.map((x) => this.matrix(x)).reduce((a, b) => `LA.${fn}(${a}, ${b})`);
    switch (m.kind) {
      case 'leaf': return this.leaf(m.name);
      case 'I': return `LA.identity(${this.shape()}.${m.dim === 'r' ? 'rows' : 'cols'})`;
      case 'zero': return `(() => { throw new Error('internal: a zero matrix has no shape to evaluate at'); })()`;
      case 'scale': return `LA.scale(${this.scalar(m.coef)}, ${this.matrix(m.arg)})`;
      case 'add': return fold('add', m.terms);
      case 'mul': return fold('matmul', m.factors);
      case 'had': return `LA.hadamard(${this.matrix(m.a)}, ${this.matrix(m.b)})`;
      case 'tr': return `LA.transpose(${this.matrix(m.arg)})`;
      case 'pow': return `LA.symPow(${this.eig(m.arg)}, ${M.pValue(m.p)})`;
      case 'dpow': return `LA.symPowDerivative(${this.eig(m.arg)}, ${M.pValue(m.p)}, ${this.matrix(m.dir)})`;
      case 'msign': return `LA.polar(${this.matrix(m.arg)}, ${this.gramEig(m.arg)})`;
      case 'dmsign': return `LA.polarDerivative(${this.matrix(m.arg)}, ${this.gramEig(m.arg)}, ${this.matrix(m.dir)})`;
    }
  }
}

export function matrixOptimizerModule(d: MatrixDerivation, opts: MatrixCodeOptions): string {
  const rule: MatrixRule = d.rule;
  const ts = opts.typescript;
  const ex = ts ? 'export ' : '';
  const T = (s: string) => (ts ? s : '');
  const bang = T('!');
  const params = rule.params.map((p) => p.name);
  const L: string[] = [];

  /** A function's body: the scalars it reads, then its lines (the block loop and the rest). */
  const withScalars = (sc: Scope, body: string[], nFrom?: string): string[] => {
    const head: string[] = [];
    const used = params.filter((p) => sc.symbols.has(p));
    if (used.length) {
      head.push('  const hp = hyperOf(hyper);');
      for (const p of used) head.push(`  const ${codeName.param(p)} = hp[${str(p)}];`);
    } else head.push('  void hyper;');
    if (nFrom !== undefined && sc.symbols.has('n')) head.push(`  const n = ${nFrom};`);
    return [...head, ...body];
  };
  const newScope = (indent: string, leaves: ReadonlyMap<string, LeafCode>) => {
    return new Scope(indent, new Map(), { n: 0 }, leaves, new Set(), bang);
  };
  /** g and θ of block b. */
  const blockLeaves = new Map<string, LeafCode>([
    ['g', (sc) => `LA.block(grad, lay.theta[b]${bang}, ${sc.shape()})`],
    ['theta', (sc) => `LA.block(theta, lay.theta[b]${bang}, ${sc.shape()})`],
  ]);
  const Mat = T(': LA.Mat');

  // ---- header ----
  if (ts) {
    L.push(...headerComment(rule, 'on each row-major matrix block of θ'));
    L.push(`//   F = ${comment(matrixText(d.asymptotic.F))}`);
    L.push(`//   M = ${comment(matrixText(d.asymptotic.M))}   (V = F, E = H[V])`);
    L.push(`// Linear algebra: ${MATRIX_RUNTIME} (docs/generated-code.md).`);
    L.push(`import * as LA from ${str(opts.runtime ?? MATRIX_RUNTIME)};`);
    L.push('');
    L.push(`export type Hyper = { ${params.map((p) => `readonly ${str(p)}: number`).join('; ')}${params.length ? ';' : ''} };`);
    L.push(`export interface State { n: number; readonly arrays: { ${rule.states.map((s) => `readonly ${str(s.name)}: Float64Array;`).join(' ')} } }`);
    L.push('export type Hvp = (v: Float64Array) => Float64Array;');
    L.push('export type Shape = LA.Shape;');
    L.push('/** The module for θ made of given blocks (forShapes): the same functions. */');
    L.push('export interface Module {');
    L.push('  readonly name: string;');
    L.push('  readonly defaults: Hyper;');
    L.push('  init(dim: number): State;');
    L.push('  step(theta: Float64Array, grad: Float64Array, state: State, h: number, hyper?: Partial<Hyper>): void;');
    L.push('  direction(theta: Float64Array, grad: Float64Array, hyper?: Partial<Hyper>, n?: number): Float64Array;');
    L.push('  correction(theta: Float64Array, grad: Float64Array, hvp: Hvp, hyper?: Partial<Hyper>, n?: number): Float64Array;');
    L.push('  memorylessStep(theta: Float64Array, grad: Float64Array, hvp: Hvp, h: number, hyper?: Partial<Hyper>, n?: number): void;');
    L.push('  forShapes(blocks: readonly Shape[]): Module;');
    L.push('}');
    L.push('type Blocks = readonly Shape[] | undefined;');
    L.push('');
  }
  L.push(`${ex}const name = ${str(rule.name)};`);
  L.push(`${ex}const defaults${T(': Hyper')} = Object.freeze({ ${rule.params.map((p) => `[${str(p.name)}]: ${Number(p.valueText)}`).join(', ')} });`);
  L.push(`/** Each state's block: (rows, cols) sides of a block of θ (r: its rows, c: its columns). */`);
  L.push(`const STATE_SIDES${T(': readonly (readonly [LA.Side, LA.Side])[]')} = [${rule.states.map((s) => `[${str(s.rows)}, ${str(s.cols)}]`).join(', ')}];`);
  L.push(`const layout = (blocks${T(': Blocks')}, dim${T(': number')}) => LA.blockLayout(name, blocks, dim, STATE_SIDES);`);
  if (params.length) {
    L.push('/** The defaults, overridden by the values given (undefined ones ignored). */');
    L.push(`const hyperOf = (hyper${T(': Partial<Hyper>')})${T(': Hyper')} => ({ ...defaults, ...Object.fromEntries(Object.entries(hyper).filter((e) => e[1] !== undefined)) }${T(' as Hyper')});`);
  }
  L.push('');

  // ---- init ----
  L.push(`function initWith(blocks${T(': Blocks')}, dim${T(': number')})${T(': State')} {`);
  L.push(rule.states.length ? '  const lay = layout(blocks, dim);' : '  layout(blocks, dim);');
  L.push(`  return { n: 0, arrays: { ${rule.states.map((s, k) => `[${str(s.name)}]: new Float64Array(lay.stateLength[${k}]${bang})`).join(', ')} } };`);
  L.push('}', '');

  // ---- step: the rule itself, block by block ----
  {
    const sc = newScope('    ', blockLeaves);
    const body: string[] = [];
    const fresh: string[] = [];
    rule.states.forEach((st, k) => {
      sc.lines.push(`    // state ${comment(st.name)}`);
      const old = sc.bind(`\0old:${k}`, () => `LA.block(state.arrays[${str(st.name)}], lay.states[${k}]${bang}[b]${bang}, LA.sideShape(${sc.shape()}, ${str(st.rows)}, ${str(st.cols)}))`);
      sc.bind(prevName(st.name), () => `LA.copy(${old})`);
      const next = sc.matrix(st.rhs);
      sc.alias(st.name, next);
      fresh.push(next);
    });
    sc.lines.push('    // update');
    const U = sc.matrix(rule.update);
    body.push('  const lay = layout(blocks, theta.length);');
    body.push('  for (let b = 0; b < lay.shapes.length; b++) {');
    body.push(...sc.lines);
    body.push(`    const o = lay.theta[b]${bang};`);
    body.push(`    for (let j = 0; j < ${U}.data.length; j++) theta[o + j] -= h * ${U}.data[j]${bang};`);
    rule.states.forEach((st, k) => body.push(`    state.arrays[${str(st.name)}].set(${fresh[k]}.data, lay.states[${k}]${bang}[b]${bang});`));
    body.push('  }');
    body.push('  state.n++;');
    L.push('/** The optimizer itself: one step in place on every block, θ −= h·update; the state advances to n + 1. */');
    L.push(`function stepWith(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, state${T(': State')}, h${T(': number')}, hyper${T(': Partial<Hyper>')} = {})${T(': void')} {`);
    L.push(...withScalars(sc, body, 'state.n'));
    L.push('}', '');
  }

  // ---- direction and correction, one regime each ----
  const regimeFns = (r: MatrixRegimeResult, suffix: string) => {
    if (suffix === 'Exact' && M.mkey(r.F) === M.mkey(d.asymptotic.F)) {
      L.push('/** F⁽ⁿ⁾ does not depend on n (bias-corrected or scale-invariant update). */', 'const directionExact = directionAsymptotic;', '');
    } else {
      const sc = newScope('    ', blockLeaves);
      const F = sc.matrix(r.F);
      L.push(`function direction${suffix}(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': Float64Array')} {`);
      L.push(...withScalars(sc, [
        ...(sc.symbols.has('n') ? [] : ['  void n;']),
        '  const lay = layout(blocks, theta.length);',
        '  const out = new Float64Array(theta.length);',
        '  for (let b = 0; b < lay.shapes.length; b++) {',
        ...sc.lines,
        `    out.set(${F}.data, lay.theta[b]${bang});`,
        '  }',
        '  return out;',
      ]));
      L.push('}', '');
    }
    // correction: per block F (the field) and closures finishing M once H·V is known
    const sc = newScope('    ', blockLeaves);
    const body: string[] = [];
    const F = sc.matrix(r.F);
    const finishers: string[] = [];
    const parts: MExpr[] = r.M.kind === 'zero' ? [] : r.pastSums ? r.terms.map((t) => M.scale(t.weight, t.operator)) : [r.M];
    for (const part of parts) {
      const fc = sc.child('      ');
      fc.alias(FIELD, 'vb');
      fc.alias(HVP, 'eb');
      const out = fc.matrix(part);
      const text = fc.lines.join('\n');
      const arg = (x: string) => (new RegExp(`\\b${x}\\b`).test(text) || out === x ? x : `_${x}`);
      finishers.push([`(${arg('vb')}${Mat}, ${arg('eb')}${Mat})${Mat} => {`, ...fc.lines, `      return ${out};`, '    }'].join('\n'));
    }
    body.push('  const lay = layout(blocks, theta.length);');
    body.push('  const F = new Float64Array(theta.length);');
    body.push('  const M = new Float64Array(theta.length);');
    if (parts.length) body.push(`  const fin${T(': ((v: LA.Mat, e: LA.Mat) => LA.Mat)[][]')} = [];`);
    body.push('  for (let b = 0; b < lay.shapes.length; b++) {');
    body.push(...sc.lines);
    body.push(`    F.set(${F}.data, lay.theta[b]${bang});`);
    if (parts.length) body.push(`    fin.push([${finishers.join(', ')}]);`);
    body.push('  }');
    if (!parts.length) body.push('  void hvp;');
    else if (!r.pastSums) {
      body.push('  const Ev = hvp(F).slice();');
      body.push('  for (let b = 0; b < lay.shapes.length; b++) {');
      body.push(`    const sh = lay.shapes[b]${bang}, o = lay.theta[b]${bang};`);
      body.push(`    M.set(fin[b]${bang}[0]${bang}(LA.block(F, o, sh), LA.block(Ev, o, sh)).data, o);`);
      body.push('  }');
    } else {
      r.terms.forEach((t, ti) => {
        const past = t.past;
        if (!past) throw new InternalError(`matrix code: term ${ti + 1} of ${rule.name} has no past-sum field`);
        // each term on its own field V = Σ_{s=0}^{n−1} R(s)·F⁽ˢ⁾, from the latest past step back
        const ps = sc.fresh('        ');
        const Fs = ps.matrix(past.F);
        body.push(`  // term ${ti + 1}: its field is a sum over the past updates`);
        body.push('  {');
        body.push('    const Vt = new Float64Array(theta.length);');
        body.push('    let total = 0;');
        body.push('    for (let i_s = n - 1; i_s >= 0; i_s--) {');
        body.push(`      const w = ${sc.scalar(past.weight)};`);
        body.push(`      if (Math.abs(w) < ${PAST_NEGLIGIBLE} * total) break;`);
        body.push('      total += Math.abs(w);');
        body.push('      for (let b = 0; b < lay.shapes.length; b++) {');
        body.push(...ps.lines);
        body.push(`        const o = lay.theta[b]${bang};`);
        body.push(`        for (let j = 0; j < ${Fs}.data.length; j++) Vt[o + j] += w * ${Fs}.data[j]${bang};`);
        body.push('      }');
        body.push('    }');
        body.push('    const Et = hvp(Vt).slice();');
        body.push('    for (let b = 0; b < lay.shapes.length; b++) {');
        body.push(`      const sh = lay.shapes[b]${bang}, o = lay.theta[b]${bang};`);
        body.push(`      const Mt = fin[b]${bang}[${ti}]${bang}(LA.block(Vt, o, sh), LA.block(Et, o, sh));`);
        body.push(`      for (let j = 0; j < Mt.data.length; j++) M[o + j] += Mt.data[j]${bang};`);
        body.push('    }');
        body.push('  }');
      });
    }
    body.push('  return { F, M };');
    const usesN = sc.symbols.has('n') || r.pastSums;
    L.push(`/** M⁽ⁿ⁾ (${r.regime}) and the F it uses as its field; hvp(v) = H·v at θ, once per field. */`);
    L.push(`function correction${suffix}(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, hyper${T(': Partial<Hyper>')}, n${T(': number')})${T(': { F: Float64Array; M: Float64Array }')} {`);
    L.push(...withScalars(sc, [...(usesN ? [] : ['  void n;']), ...body]));
    L.push('}', '');
  };
  regimeFns(d.asymptotic, 'Asymptotic');
  regimeFns(d.exactN, 'Exact');

  const fns = [
    '/** F⁽ⁿ⁾ on a constant history, per block: the exact finite-n form when n is given, else the n → ∞ form. */',
    `function directionWith(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': Float64Array')} {`,
    '  return n === undefined ? directionAsymptotic(blocks, theta, grad, hyper, 0) : directionExact(blocks, theta, grad, hyper, n);',
    '}',
    '',
    `function correctionWith(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': { F: Float64Array; M: Float64Array }')} {`,
    '  return n === undefined ? correctionAsymptotic(blocks, theta, grad, hvp, hyper, 0) : correctionExact(blocks, theta, grad, hvp, hyper, n);',
    '}',
    '',
    '/** The memoryless iteration, in place: θ −= h·(F⁽ⁿ⁾ + h·M⁽ⁿ⁾). */',
    `function memorylessStepWith(blocks${T(': Blocks')}, theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, h${T(': number')}, hyper${T(': Partial<Hyper>')} = {}, n${T('?: number')})${T(': void')} {`,
    '  const { F, M } = correctionWith(blocks, theta, grad, hvp, hyper, n);',
    `  for (let j = 0; j < theta.length; j++) theta[j] -= h * (F[j]${bang} + h * M[j]${bang});`,
    '}',
    '',
    '// θ as one dim×1 column; forShapes gives the module for θ made of row-major matrix blocks',
    `${ex}const init = (dim${T(': number')})${T(': State')} => initWith(undefined, dim);`,
    `${ex}const step = (theta${T(': Float64Array')}, grad${T(': Float64Array')}, state${T(': State')}, h${T(': number')}, hyper${T('?: Partial<Hyper>')})${T(': void')} => stepWith(undefined, theta, grad, state, h, hyper);`,
    `${ex}const direction = (theta${T(': Float64Array')}, grad${T(': Float64Array')}, hyper${T('?: Partial<Hyper>')}, n${T('?: number')})${T(': Float64Array')} => directionWith(undefined, theta, grad, hyper, n);`,
    `${ex}const correction = (theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, hyper${T('?: Partial<Hyper>')}, n${T('?: number')})${T(': Float64Array')} => correctionWith(undefined, theta, grad, hvp, hyper, n).M;`,
    `${ex}const memorylessStep = (theta${T(': Float64Array')}, grad${T(': Float64Array')}, hvp${T(': Hvp')}, h${T(': number')}, hyper${T('?: Partial<Hyper>')}, n${T('?: number')})${T(': void')} => memorylessStepWith(undefined, theta, grad, hvp, h, hyper, n);`,
    '',
    '/** The same module for θ made of these row-major matrix blocks, concatenated in order. */',
    `${ex}function forShapes(blocks${T(': readonly Shape[]')})${T(': Module')} {`,
    '  return {',
    '    name,',
    '    defaults,',
    '    init: (dim) => initWith(blocks, dim),',
    '    step: (theta, grad, state, h, hyper) => stepWith(blocks, theta, grad, state, h, hyper),',
    '    direction: (theta, grad, hyper, n) => directionWith(blocks, theta, grad, hyper, n),',
    '    correction: (theta, grad, hvp, hyper, n) => correctionWith(blocks, theta, grad, hvp, hyper, n).M,',
    '    memorylessStep: (theta, grad, hvp, h, hyper, n) => memorylessStepWith(blocks, theta, grad, hvp, h, hyper, n),',
    '    forShapes,',
    '  };',
    '}',
  ];
  L.push(...fns);
  if (!ts) L.push('return { name, defaults, init, step, direction, correction, memorylessStep, forShapes };');
  return `${L.join('\n')}\n`;
}
