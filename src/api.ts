/**
 * The checks behind the public API (src/index.ts): it throws only RuleError (the caller's
 * input: a rule, or an argument of the wrong kind, code rule/bad-argument) or InternalError
 * (a bug in memloss), never a TypeError or a RangeError from deep inside.
 */
import { InternalError, RuleError } from './ir/diagnostics.js';
import type { Expr } from './ir/expr.js';
import { freeSymbols } from './ir/expr.js';

const describe = (x: unknown) =>
  x === null ? 'null' : Array.isArray(x) ? 'an array' : x === undefined ? 'undefined' : `${/^[aeiou]/.test(typeof x) ? 'an' : 'a'} ${typeof x}`;

/** A wrong argument of the function fn: a located error at <fn>:1:1 (there is no file to point into). */
export function badArgument(fn: string, message: string): RuleError {
  return new RuleError({ code: 'rule/bad-argument', span: { file: `<${fn}>`, line: 1, col: 1 }, message });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** f with its arguments checked first; RuleError and InternalError pass, anything else is a bug. */
export function guarded<A extends unknown[], R>(check: (...args: A) => void, f: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      check(...args);
      return f(...args);
    } catch (e) {
      if (e instanceof RuleError || e instanceof InternalError) throw e;
      throw new InternalError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  };
}

export function checkSource(fn: string, source: unknown, file: unknown): void {
  if (typeof source !== 'string') throw badArgument(fn, `the rule source must be a string, got ${describe(source)}`);
  if (file !== undefined && typeof file !== 'string') throw badArgument(fn, `the file name must be a string, got ${describe(file)}`);
}

const isRuleLike = (x: unknown): x is Record<string, unknown> =>
  isObject(x) && typeof x['name'] === 'string' && Array.isArray(x['params']) && Array.isArray(x['states']) && isObject(x['update']);

export function checkRule(fn: string, rule: unknown, shape: 'coordinate' | 'matrix'): void {
  if (!isRuleLike(rule)) throw badArgument(fn, `expected a rule from ${shape === 'matrix' ? 'parseRuleFile' : 'parseRule'}, got ${describe(rule)}`);
  const matrix = rule['shape'] === 'matrix';
  if (shape === 'coordinate' && matrix) throw badArgument(fn, `${rule['name']} is a matrix rule (shape matrix); derive it with deriveMatrix`);
  if (shape === 'matrix' && !matrix) throw badArgument(fn, `${rule['name']} is a coordinate-wise rule; derive it with derive`);
}

export function checkDeriveOptions(fn: string, options: unknown): void {
  if (options === undefined || options === null) return;
  if (!isObject(options)) throw badArgument(fn, `options must be an object such as { exactN: true }, got ${describe(options)}`);
  const { limits, exactN } = options;
  if (limits !== undefined && !(Array.isArray(limits) && limits.every((l) => typeof l === 'string')))
    throw badArgument(fn, `options.limits must be an array of parameter names, got ${describe(limits)}`);
  if (exactN !== undefined && typeof exactN !== 'boolean') throw badArgument(fn, `options.exactN must be true or false, got ${describe(exactN)}`);
}

export function checkDerivation(fn: string, d: unknown, shape: 'coordinate' | 'matrix'): void {
  const ok = isObject(d) && isObject(d['asymptotic']) && isRuleLike(d['rule']) && (d['kind'] === 'matrix') === (shape === 'matrix');
  if (!ok) throw badArgument(fn, `expected a derivation from ${shape === 'matrix' ? 'deriveMatrix' : 'derive'}, got ${describe(d)}`);
}

export function checkRegime(fn: string, regime: unknown): void {
  if (regime !== 'asymptotic' && regime !== 'exact-n') throw badArgument(fn, `the regime must be 'asymptotic' or 'exact-n', got ${typeof regime === 'string' ? `'${regime.slice(0, 40)}'` : describe(regime)}`);
}

export function checkBatches(fn: string, m: unknown): void {
  if (!(typeof m === 'number' && Number.isSafeInteger(m) && m >= 1)) throw badArgument(fn, `the number of batches must be a positive integer, got ${typeof m === 'number' ? m : describe(m)}`);
}

const KINDS = new Set(['num', 'sym', 'add', 'mul', 'pow', 'call', 'sum']);

export function checkEvaluate(fn: string, e: unknown, env: unknown): void {
  if (!(isObject(e) && KINDS.has(e['kind'] as string))) throw badArgument(fn, `expected an expression of a derivation, got ${describe(e)}`);
  if (!isObject(env)) throw badArgument(fn, `env must be an object of numbers such as { g: 0.3 }, got ${describe(env)}`);
  const missing = [...freeSymbols(e as unknown as Expr)].filter((s) => typeof (Object.hasOwn(env, s) ? env[s] : undefined) !== 'number').sort();
  if (missing.length) throw badArgument(fn, `env has no number for ${missing.map((s) => `'${s}'`).join(', ')}`);
}

export function checkDiagnostic(fn: string, d: unknown): void {
  const span = isObject(d) ? d['span'] : undefined;
  const ok = isObject(d) && typeof d['code'] === 'string' && typeof d['message'] === 'string'
    && isObject(span) && typeof span['file'] === 'string' && typeof span['line'] === 'number' && typeof span['col'] === 'number';
  if (!ok) throw badArgument(fn, `expected a diagnostic (code, span, message), got ${describe(d)}`);
}
