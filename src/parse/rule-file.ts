/** Reads a rule file (docs/rule-language.md) into a Rule, reporting located diagnostics. */
import * as E from '../ir/expr.js';
import type { Expr } from '../ir/expr.js';
import { ratFromDecimal, toNumber } from '../ir/rational.js';
import { RuleError, nearest, type Diagnostic, type DiagnosticCode, type Span } from '../ir/diagnostics.js';
import { MATHJS_WORDS, RESERVED, prevName, type Domain, type FnDecl, type MatrixRule, type MatrixStateDecl, type ParamDecl, type Rule, type StateDecl } from '../ir/rule.js';
import { isSymmetric, type MExpr } from '../matrix/expr.js';
import { ExprReader, type ExprScope } from './expression.js';
import { MatrixExprReader, type MatrixScope, type MatrixShape } from './matrix-expression.js';
import { LIMITS, numberProblem, quote, shorten } from './limits.js';
import { evaluate } from '../ir/eval.js';
import { latexName, textName } from '../emit/names.js';

/** Two names that print alike (beta1 and beta_1 are both β₁) would make every document ambiguous. */
const printedKeys = (id: string) => [`text ${textName(id)}`, `latex ${latexName(id)}`];

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
// one way to match each number (no backtracking over how its digits split)
const NUMBER = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const KEYWORDS = ['optimizer', 'cite', 'shape', 'param', 'fn', 'state', 'update'];
const TAKEN = new Set(['I', 'msign', 'sqrt', ...E.FN_NAMES, 'pow', 'prev', 'inf', 'in', 'from', ...KEYWORDS]);
/** `from` between a state's recursion and its initial value: a whole word (no name can be `from`). */
const FROM = /(?<![A-Za-z0-9_.])from(?![A-Za-z0-9_])/;

/** Strips a trailing # comment, leaving # inside a quoted string alone. */
function stripComment(line: string): string {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && inQuote) { i++; continue; }
    if (c === '"') inQuote = !inQuote;
    else if (c === '#' && !inQuote) return line.slice(0, i);
  }
  return line;
}

/**
 * Reads a coordinate-wise rule. A `shape matrix` file is a located error here: read it with
 * parseRuleFile, which returns either kind.
 */
export function parseRule(source: string, file = '<rule>'): Rule {
  const r = parseRuleFile(source, file);
  if ('shape' in r) {
    throw new RuleError({ code: 'rule/unsupported', span: { ...r.shapeSpan }, message: 'this is a matrix rule (shape matrix); derive it with memloss derive, or read it with parseRuleFile' });
  }
  return r;
}

/** Reads a rule file of either shape: coordinate-wise (Rule) or `shape matrix` (MatrixRule). */
export function parseRuleFile(source: string, file = '<rule>'): Rule | MatrixRule {
  const diagnostics: Diagnostic[] = [];
  const at = (line: number, col: number): Span => ({ file, line, col });
  const report = (code: DiagnosticCode, line: number, col: number, message: string): void => {
    diagnostics.push({ code, span: at(line, col), message });
  };
  /** A limit is reached: report it with what was found so far, and read no further. */
  const refuse = (line: number, col: number, message: string): never => {
    report('rule/too-large', line, col, message);
    throw new RuleError(diagnostics);
  };
  if (source.length > LIMITS.fileBytes) refuse(1, 1, `a rule may have at most ${LIMITS.fileBytes} characters; this one has ${source.length}`);

  let name: string | undefined;
  let cite: string | undefined;
  const params: ParamDecl[] = [];
  const fns: FnDecl[] = [];
  const states: StateDecl[] = [];
  let update: { expr: Expr; source: string; span: Span } | undefined;
  // matrix rules (shape matrix): their own states and update
  let shapeSpan: Span | undefined;
  const mstates: MatrixStateDecl[] = [];
  let mupdate: { expr: MExpr; source: string; span: Span } | undefined;
  const declared = new Map<string, number>();
  const printed = new Map<string, { id: string; line: number }>(); // printedKeys → the name that prints so
  for (const r of RESERVED) for (const k of printedKeys(r)) printed.set(k, { id: r, line: 0 });
  const seen = { param: 0, fn: 0, state: 0 };
  // States whose line failed still count as declared, so one mistake gives one diagnostic.
  const failedStates = new Set<string>();

  const reportMathjsWord = (id: string, line: number, col: number): false => {
    report('rule/reserved-name', line, col, `'${id}' is reserved: the JSON output writes expressions in mathjs, which reads '${id}' as a constant or an operator`);
    return false;
  };
  const declare = (id: string, line: number, col: number): boolean => {
    if ((RESERVED as readonly string[]).includes(id)) {
      report('rule/reserved-name', line, col, `'${id}' is reserved (g, theta, n and h have fixed meanings)`);
      return false;
    }
    if (TAKEN.has(id)) {
      report('rule/reserved-name', line, col, `'${id}' is a keyword or a built-in function name`);
      return false;
    }
    if (MATHJS_WORDS.has(id)) return reportMathjsWord(id, line, col);
    const before = declared.get(id);
    if (before !== undefined) {
      report('rule/duplicate', line, col, `${quote(id)} is already declared on line ${before}`);
      return false;
    }
    const keys = printedKeys(id);
    const alike = keys.map((k) => printed.get(k)).find((x) => x !== undefined);
    if (alike) {
      const other = alike.line ? `${quote(alike.id)} on line ${alike.line}; rename one of them` : `the reserved name ${quote(alike.id)}; rename it`;
      // the name itself is fine: keep it declared, so that its uses raise no second error
      report('rule/name-clash', line, col, `${quote(id)} prints as ${shorten(textName(id))}, the same as ${other}`);
    }
    declared.set(id, line);
    for (const k of keys) printed.set(k, { id, line });
    return true;
  };

  // prev(g), prev(theta): read through a placeholder until the names are known, then through a
  // state of decay 0 the parser adds first (its new value is the input, its previous value the last one)
  const previousUses = new Map<'g' | 'theta', Span>();
  const placeholder = (input: 'g' | 'theta') => E.sym(`${input}@last`);
  const previousInput = (input: 'g' | 'theta', span: Span): Expr => {
    if (!previousUses.has(input)) previousUses.set(input, span);
    return placeholder(input);
  };

  /** Scope for an expression at this point of the file. */
  const scopeFor = (ownState?: string, fnArgs?: readonly string[]): ExprScope => {
    const symbols = new Map<string, Expr>();
    const forbidden = new Map<string, string>();
    for (const p of params) symbols.set(p.name, E.sym(p.name));
    if (fnArgs) {
      for (const a of fnArgs) symbols.set(a, E.sym(`${a}@arg`));
    }
    for (const r of ['g', 'theta', 'n']) symbols.set(r, E.sym(r));
    forbidden.set('h', "'h' is the step size: the update is multiplied by it, so it cannot appear inside a rule expression");
    forbidden.set('from', "'from' gives a state its initial value, at the end of its line: state NAME = EXPR from INIT");
    const prevable = new Set<string>();
    if (!fnArgs) {
      for (const s of states) {
        if (s.name === ownState) continue;
        symbols.set(s.name, E.sym(s.name));
        prevable.add(s.name);
      }
      for (const f of failedStates) { symbols.set(f, E.sym(f)); prevable.add(f); }
      if (ownState) {
        symbols.set(ownState, E.sym(prevName(ownState)));
        prevable.add(ownState);
      }
    }
    return { symbols, prevable, ownState, forbidden, fns: new Map(fns.map((f) => [f.name, f])), previousInput };
  };

  /**
   * Scope for the initial value of `state`: the parameters, numbers and fn helpers, nothing
   * that changes from step to step (g, theta, n, the states).
   */
  const initScope = (state: string): ExprScope => {
    const why = (what: string) => `the initial value of ${quote(state)} is its value before step 0, built from the parameters and numbers; it cannot read ${what}`;
    const forbidden = new Map<string, string>([
      ['g', why("the gradient 'g'")], ['theta', why("the iterate 'theta'")], ['n', why("the step index 'n'")],
      ['h', "'h' is the step size: the update is multiplied by it, so it cannot appear inside a rule expression"],
    ]);
    for (const s of [...states.map((x) => x.name), ...failedStates, state]) forbidden.set(s, why(s === state ? `${quote(s)} itself` : `the state ${quote(s)}`));
    return {
      symbols: new Map(params.map((p) => [p.name, E.sym(p.name)])), prevable: new Set(), forbidden,
      fns: new Map(fns.map((f) => [f.name, f])), noPrev: why('a previous value prev(…)'),
    };
  };

  /** The initial value after `from`, or undefined after reporting why it cannot be one. */
  const readInit = (state: string, text: string, line: number, col: number): Expr | undefined => {
    const e = readExpr(text, line, col, initScope(state));
    if (!e) return undefined;
    // a fn helper may read g, theta or n in its body
    const varying = ['g', 'theta', 'n'].find((x) => E.hasSymbol(e, x));
    if (varying) {
      report('rule/unknown-symbol', line, col, `the initial value of ${quote(state)} reads '${varying}' through a fn call; it may read the parameters and numbers only`);
      return undefined;
    }
    const v = evaluate(e, Object.fromEntries(params.map((p) => [p.name, toNumber(p.value)])));
    if (!Number.isFinite(v)) {
      report('rule/bad-constant', line, col, `the initial value of ${quote(state)} is ${Number.isNaN(v) ? 'not a real number' : 'infinite'} at the default parameters`);
      return undefined;
    }
    return e;
  };

  const readExpr = (text: string, line: number, col: number, scope: ExprScope): Expr | undefined => {
    try {
      return new ExprReader(text, at(line, col), scope).read();
    } catch (err) {
      if (err instanceof RuleError) { diagnostics.push(...err.diagnostics); return undefined; }
      throw err;
    }
  };

  const matrixScope = (own?: { name: string; sym: boolean }): MatrixScope => {
    const st = new Map<string, MatrixShape>(mstates.map((s) => [s.name, { rows: s.rows, cols: s.cols, sym: s.sym }]));
    const forbidden = new Map<string, string>([['h', "'h' is the step size: the update is multiplied by it, so it cannot appear inside a rule expression"]]);
    for (const f of failedStates) forbidden.set(f, `'${f}' could not be read (see its line)`);
    return { params: new Set(params.map((p) => p.name)), states: st, ownState: own, forbidden };
  };
  const readMatrix = (text: string, span: Span, scope: MatrixScope, what: string) => {
    try {
      return new MatrixExprReader(text, span, scope).read(what);
    } catch (err) {
      if (err instanceof RuleError) { diagnostics.push(...err.diagnostics); return undefined; }
      throw err;
    }
  };
  /** A matrix state: read once for its shape, and if square once more assuming it symmetric, kept if that holds. */
  const readMatrixState = (id: string, text: string, span: Span) => {
    const plain = readMatrix(text, span, matrixScope({ name: id, sym: false }), `the recursion of '${id}'`);
    if (!plain) return undefined;
    if (plain.rows === plain.cols) {
      const symmetric = new MatrixExprReader(text, span, matrixScope({ name: id, sym: true })).read('');
      if (isSymmetric(symmetric.m)) return { rhs: symmetric.m, rows: plain.rows, cols: plain.cols, sym: true };
    }
    return { rhs: plain.m, rows: plain.rows, cols: plain.cols, sym: false };
  };

  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.length > LIMITS.lineChars) refuse(i + 1, LIMITS.lineChars + 1, `a line may have at most ${LIMITS.lineChars} characters; this one has ${raw.length}`);
    if (diagnostics.length >= LIMITS.diagnostics) {
      report('rule/too-large', i + 1, 1, `more than ${LIMITS.diagnostics} problems; the rest of the file is not read`);
      break;
    }
    readLine(raw, i + 1);
  }

  function readLine(raw: string, lineNo: number): void {
    const line = stripComment(raw);
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    if (!text) return;
    const col0 = indent + 1;
    const kw = /^[A-Za-z_]+/.exec(text)?.[0] ?? '';
    const rest = text.slice(kw.length);
    const restCol = col0 + kw.length + (rest.length - rest.trimStart().length);
    const body = rest.trim();
    switch (kw) {
      case 'optimizer': {
        if (name !== undefined) return report('rule/duplicate', lineNo, col0, 'the optimizer is named twice');
        // any text: it is only ever printed (escaped), never evaluated
        if (!body) return report('rule/syntax', lineNo, restCol, 'expected an optimizer name after `optimizer`');
        name = body;
        return;
      }
      case 'cite': {
        const m = /^"((?:[^"\\]|\\.)*)"$/.exec(body);
        if (!m) return report('rule/syntax', lineNo, restCol, 'expected a quoted citation: cite "Author, Title, Year"');
        cite = m[1]!.replace(/\\(.)/g, '$1');
        return;
      }
      case 'shape': {
        if (body === 'coordinate') return;
        if (body === 'matrix') {
          if (states.length || fns.length || update || failedStates.size)
            return report('rule/syntax', lineNo, col0, "'shape matrix' must come before every fn, state and update line");
          shapeSpan = at(lineNo, restCol);
          return;
        }
        return report('rule/syntax', lineNo, restCol, "expected 'shape coordinate' or 'shape matrix'");
      }
      case 'param': {
        const m = new RegExp(`^(${IDENT})\\s*=\\s*(${NUMBER})\\s+in\\s+([\\[(])\\s*(-?inf|${NUMBER})\\s*,\\s*(-?inf|${NUMBER})\\s*([\\])])$`).exec(body);
        if (!m) return report('rule/syntax', lineNo, restCol, 'expected: param NAME = VALUE in (LO, HI) — brackets [ ] for closed ends, inf for unbounded');
        const [, id, valueText, lb, loT, hiT, rb] = m;
        if (++seen.param > LIMITS.params) refuse(lineNo, col0, `a rule may have at most ${LIMITS.params} parameters`);
        const shownId = textName(id!);
        if (shownId === 'k' || shownId === 's') return report('rule/reserved-name', lineNo, restCol, `a parameter cannot be named ${quote(id!)}: memloss writes lags as k and summation indices as s in its output`);
        if (!declare(id!, lineNo, restCol)) return;
        const valueCol = restCol + body.indexOf(valueText!, id!.length);
        for (const [t, col] of [[valueText!, valueCol], [loT!, restCol + body.lastIndexOf(loT!, body.lastIndexOf(','))], [hiT!, restCol + body.lastIndexOf(hiT!)]] as const) {
          const problem = /inf$/.test(t) ? undefined : numberProblem(t);
          if (problem) return report('rule/bad-number', lineNo, col, problem);
        }
        const bound = (t: string) => (t === 'inf' ? Infinity : t === '-inf' ? -Infinity : Number(t));
        const domain: Domain = {
          lo: bound(loT!), hi: bound(hiT!), loOpen: lb === '(', hiOpen: rb === ')',
          text: `${lb}${loT}, ${hiT}${rb}`,
        };
        const value = ratFromDecimal(valueText!);
        const v = toNumber(value);
        if (domain.lo > domain.hi) return report('rule/syntax', lineNo, valueCol, `empty domain ${domain.text}`);
        const inside = (domain.loOpen ? v > domain.lo : v >= domain.lo) && (domain.hiOpen ? v < domain.hi : v <= domain.hi);
        if (!inside) return report('rule/default-outside-domain', lineNo, valueCol, `default ${valueText} of ${quote(id!)} lies outside its domain ${domain.text}`);
        params.push({ name: id!, value, valueText: valueText!, domain, span: at(lineNo, restCol) });
        return;
      }
      case 'fn': {
        const m = new RegExp(`^(${IDENT})\\s*\\(\\s*(${IDENT}(?:\\s*,\\s*${IDENT})*)?\\s*\\)\\s*=\\s*(.+)$`).exec(body);
        if (!m) return report('rule/syntax', lineNo, restCol, 'expected: fn NAME(x, …) = expression');
        const [, id, argText, exprText] = m;
        if (shapeSpan) return report('rule/unsupported', lineNo, col0, 'fn helpers are not supported in matrix rules yet; write the expression out');
        if (++seen.fn > LIMITS.fns) refuse(lineNo, col0, `a rule may have at most ${LIMITS.fns} fn definitions`);
        if (!declare(id!, lineNo, restCol)) return;
        const args = argText ? argText.split(',').map((s) => s.trim()) : [];
        const word = args.find((a) => MATHJS_WORDS.has(a));
        if (word !== undefined) { reportMathjsWord(word, lineNo, restCol + id!.length + new RegExp(`\\b${word}\\b`).exec(body.slice(id!.length))!.index); return; }
        const exprCol = col0 + line.trim().lastIndexOf(exprText!);
        const expr = readExpr(exprText!, lineNo, exprCol, scopeFor(undefined, args));
        if (expr) fns.push({ name: id!, args, body: expr, source: exprText!, span: at(lineNo, restCol) });
        return;
      }
      case 'state': {
        const m = new RegExp(`^(${IDENT})\\s*=\\s*(.+)$`).exec(body);
        if (!m) return report('rule/syntax', lineNo, restCol, 'expected: state NAME = expression [from INITIAL VALUE]');
        const [, id, text] = m;
        if (update || mupdate) return report('rule/state-order', lineNo, col0, 'states must be declared before the update');
        if (++seen.state > LIMITS.states) refuse(lineNo, col0, `a rule may have at most ${LIMITS.states} states`);
        if (!declare(id!, lineNo, restCol)) return;
        const exprCol = col0 + line.trim().indexOf(text!, kw.length + 1 + id!.length);
        // `EXPR from INIT`: the recursion, then the value before step 0
        const from = FROM.exec(text!);
        const exprText = from ? text!.slice(0, from.index).trimEnd() : text!;
        const initRaw = from ? text!.slice(from.index + 'from'.length) : '';
        const initText = initRaw.trim();
        const fromCol = exprCol + (from?.index ?? 0);
        const initCol = fromCol + 'from'.length + initRaw.length - initRaw.trimStart().length;
        const fail = (code: DiagnosticCode, col: number, message: string) => { failedStates.add(id!); report(code, lineNo, col, message); };
        if (from && !exprText) return fail('rule/syntax', exprCol, `expected the recursion of ${quote(id!)} before 'from': state NAME = EXPR from INIT`);
        if (from && !initText) return fail('rule/syntax', fromCol, `expected an initial value after 'from': state NAME = EXPR from INIT`);
        const again = FROM.exec(initText);
        if (again) return fail('rule/syntax', initCol + again.index, `'from' is given twice; a state has one initial value: state NAME = EXPR from INIT`);
        if (shapeSpan) {
          // refused, but the state is still read: its uses raise no second error
          if (from) report('rule/unsupported', lineNo, fromCol, 'initial values (from …) are not supported in matrix rules yet: a matrix state starts at 0');
          const st = readMatrixState(id!, exprText, at(lineNo, exprCol));
          if (st) mstates.push({ name: id!, ...st, source: exprText, span: at(lineNo, restCol) });
          else failedStates.add(id!);
          return;
        }
        const expr = readExpr(exprText, lineNo, exprCol, scopeFor(id!));
        const init = from ? readInit(id!, initText, lineNo, initCol) : E.ZERO;
        if (expr && init) states.push({ name: id!, rhs: expr, source: exprText, init, initSource: from ? initText : '0', span: at(lineNo, restCol) });
        else failedStates.add(id!);
        return;
      }
      case 'update': {
        if (update || mupdate) return report('rule/duplicate', lineNo, col0, 'the update is given twice');
        if (!body) return report('rule/syntax', lineNo, restCol, 'expected: update expression');
        if (shapeSpan) {
          const r = readMatrix(body, at(lineNo, restCol), matrixScope(), 'the update');
          if (!r) return;
          if (r.rows !== 'r' || r.cols !== 'c')
            return report('rule/syntax', lineNo, restCol, `the update must have the shape of the parameter, r×c; this one is ${r.rows}×${r.cols}`);
          mupdate = { expr: r.m, source: body, span: at(lineNo, restCol) };
          return;
        }
        const expr = readExpr(body, lineNo, restCol, scopeFor());
        if (expr) update = { expr, source: body, span: at(lineNo, restCol) };
        return;
      }
      default: {
        const hint = kw ? nearest(kw, KEYWORDS) : undefined;
        report('rule/syntax', lineNo, col0, `expected a declaration (${KEYWORDS.join(', ')})${hint ? `; did you mean '${hint}'?` : ''}`);
      }
    }
  }

  if (name === undefined && diagnostics.length === 0) report('rule/missing', 1, 1, "missing 'optimizer NAME' line");
  if (shapeSpan) {
    if (!mupdate && diagnostics.length === 0) report('rule/missing', Math.max(1, lines.length), 1, "missing 'update' line");
    if (diagnostics.length) throw new RuleError(diagnostics);
    return Object.freeze({
      shape: 'matrix' as const, name: name!, file, cite, params: Object.freeze(params), states: Object.freeze(mstates),
      update: mupdate!.expr, updateSource: mupdate!.source, updateSpan: mupdate!.span, shapeSpan,
    });
  }
  if (!update && !diagnostics.some((d) => d.span.line > 0 && /update/.test(d.message)) && diagnostics.length === 0)
    report('rule/missing', Math.max(1, lines.length), 1, "missing 'update' line");
  if (diagnostics.length) throw new RuleError(diagnostics);
  const implicit: StateDecl[] = [];
  const renamed = new Map<string, Expr>();
  for (const [input, span] of previousUses) {
    let id = `${input}_prev`;
    for (let i = 2; declared.has(id); i++) id = `${input}_prev${i}`;
    implicit.push({ name: id, rhs: E.sym(input), source: input, init: E.ZERO, initSource: '0', span, implicit: true });
    renamed.set(placeholder(input).name, E.sym(prevName(id)));
  }
  const rename = (e: Expr) => (renamed.size ? E.subs(e, renamed) : e);
  return Object.freeze({
    name: name!, file, cite, params: Object.freeze(params), fns: Object.freeze(fns.map((f) => ({ ...f, body: rename(f.body) }))),
    states: Object.freeze([...implicit, ...states.map((st) => ({ ...st, rhs: rename(st.rhs) }))]),
    update: rename(update!.expr), updateSource: update!.source, updateSpan: update!.span,
  });
}
