/**
 * The command line. It only wires stages: read file → parseRule → derive → emit → write
 * (and for `validate`: → compiled optimizer → numeric runs → table, JSON, plot; `train` and
 * `sweep` are handled by src/train/commands.ts, with their own exit codes: docs/train.md).
 * Exit codes: 0 success, 1 rule error, unreadable/unwritable file or failed validation,
 * 2 usage error, 3 internal error (a bug in memloss). Nothing here reads stdin.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { parseRuleFile } from './parse/rule-file.js';
import { FileReadError, fileErrorReason, readRuleSource } from './parse/read-file.js';
import { isMatrixRule, type MatrixRule, type Rule } from './ir/rule.js';
import { deriveMatrix, type MatrixDerivation } from './matrix/derive.js';
import { loadMatrixOptimizer } from './matrix/module.js';
import { buildMatrixDocument, emitMatrixJson } from './emit/matrix-document.js';
import { renderText } from './emit/text.js';
import { renderLatex } from './emit/latex.js';
import { renderHtml } from './emit/html.js';
import { renderMarkdown } from './emit/markdown.js';
import { derive } from './derive/index.js';
import type { Derivation, Regime } from './derive/types.js';
import { InternalError, RuleError, formatDiagnostic, nearest } from './ir/diagnostics.js';
import { ratFromDecimal } from './ir/rational.js';
import { createHash } from 'node:crypto';
import { catalogueMarkdown, type CatalogueEntry, type RecordedValidation } from './emit/catalogue.js';
import { dict } from './ir/dict.js';
import { emitText } from './emit/text.js';
import { emitJson, sortKeys, type Json } from './emit/json.js';
import { emitLatex } from './emit/latex.js';
import { emitHtml } from './emit/html.js';
import { emitMarkdown } from './emit/markdown.js';
import { emitMatrixTs, emitTs } from './emit/ts.js';
import { emitWasm, emitWat } from './emit/wasm.js';
import { emitWgsl, wgslKernels } from './emit/wgsl.js';
import { loadOptimizer } from './numeric/compile.js';
import { loadVerifiedOptimizer, verifyModule } from './numeric/verify-module.js';
import { verificationTime } from './verify/index.js';
import { FINITE_SUM_PROBLEMS, PROBLEMS, problemNames } from './numeric/problems/index.js';
import { deriveBatches } from './derive/batches.js';
import { buildBatchDocument, emitBatchJson } from './emit/batch-document.js';
import { formatBatchValidation, runBatchValidation, type BatchValidationResult } from './numeric/validate-batches.js';
import { progressBar } from './numeric/progress.js';
import { sweepCommand, trainCommand, type SweepArgs, type TrainArgs } from './train/commands.js';
import {
  formatValidation, matrixRuleFacts, matrixValidationParams, ruleFacts, runValidation, validationJson, validationParams,
  type ParamChoice, type ValidationResult,
} from './numeric/validate.js';

type Emitter = (d: Derivation, regime: Regime) => string;

/** WGSL: every compute kernel, each a complete WGSL module, under a comment naming it (docs/webgpu.md). */
const wgslText = (rule: Parameters<typeof emitWgsl>[0], d: Derivation) =>
  wgslKernels(emitWgsl(rule, d)).map(([name, k]) => `// ---- kernel ${name} ----\n${k.code}`).join('\n\n') + '\n';

/**
 * Code targets of `memloss codegen`: a TypeScript module, a self-contained ES module with
 * WebAssembly inside, its WAT text, and the WGSL compute kernels.
 */
const CODE_TARGETS = { ts: emitTs, wasm: emitWasm, wat: emitWat, wgsl: wgslText } as const;
const TARGETS = Object.keys(CODE_TARGETS) as (keyof typeof CODE_TARGETS)[];
type Target = keyof typeof CODE_TARGETS;

const FORMATS = ['text', 'json', 'latex', 'html', 'md'] as const;
type Format = (typeof FORMATS)[number];

const EMITTERS: Readonly<Record<Format, Emitter>> = {
  text: emitText,
  json: emitJson,
  latex: emitLatex,
  html: emitHtml,
  md: emitMarkdown,
};

type MatrixEmitter = (d: MatrixDerivation, regime: Regime) => string;

/** The same formats for matrix rules: one document model, the shared block printers, and their own JSON. */
const MATRIX_EMITTERS: Readonly<Record<Format, MatrixEmitter>> = {
  text: (d, r) => renderText(buildMatrixDocument(d, r)),
  json: emitMatrixJson,
  latex: (d, r) => renderLatex(buildMatrixDocument(d, r)),
  html: (d, r) => renderHtml(buildMatrixDocument(d, r), d.rule.name),
  md: (d, r) => renderMarkdown(buildMatrixDocument(d, r)),
};

/** Matrix rules: `--limit` is not implemented for them. */
function matrixOnly(rule: MatrixRule, limits: readonly string[]): MatrixDerivation {
  if (limits.length) throw new CliError(`--limit is not available for matrix rules (${rule.name}); set the parameter small instead`);
  return deriveMatrix(rule);
}

/** The files `memloss build` writes into derivations/<name>/, all in the asymptotic regime. */
const BUILD_FILES: readonly (readonly [string, Emitter])[] = [
  ['derivation.json', emitJson],
  ['derivation.tex', emitLatex],
  ['derivation.html', emitHtml],
];

const EXIT = { ok: 0, ruleError: 1, usage: 2, internal: 3 } as const;

/** A user-facing failure outside the rule language (a file that cannot be read or written): one line, exit 1. */
class CliError extends Error {}

const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
const withFinalNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** Runs memloss with the given arguments (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = await parseArgs(argv);
  switch (parsed.kind) {
    case 'usage':
      err(`memloss: ${oneLine(parsed.message)}\n`);
      err(`Run 'memloss${parsed.command ? ` ${parsed.command}` : ''} --help' for usage.\n`);
      return EXIT.usage;
    case 'shown':
      out(withFinalNewline(parsed.text));
      return EXIT.ok;
    case 'derive':
      return guarded(() => deriveCommand(parsed));
    case 'build':
      return guarded(() => buildCommand(parsed));
    case 'validate':
      return guarded(() => validateCommand(parsed));
    case 'codegen':
      return guarded(() => codegenCommand(parsed));
    case 'train':
      return guarded(() => trainCommand(parsed, { out, err }));
    case 'sweep':
      return guarded(() => sweepCommand(parsed, { out, err }));
  }
}

// ---- arguments -------------------------------------------------------------------------

interface DeriveArgs { kind: 'derive'; rule: string; format: Format; limits: string[]; regime: Regime; verify: boolean; set: Record<string, number>; batches?: number; output?: string }
interface BuildArgs { kind: 'build'; rules: string; out: string; check: boolean; validate: boolean; catalogue?: string }
interface CodegenArgs { kind: 'codegen'; rule: string; target: Target; output?: string }
interface ValidateArgs {
  kind: 'validate'; rule: string; problems: string[]; hs: number[]; horizon: number;
  set: Record<string, number>; seed: number; plot?: string; json: boolean; batches?: number; orderSeed: number;
  compareDefaults: boolean;
}
type Parsed =
  | ({ kind: 'train' } & TrainArgs)
  | ({ kind: 'sweep' } & SweepArgs)
  | DeriveArgs
  | BuildArgs
  | CodegenArgs
  | ValidateArgs
  | { kind: 'usage'; message: string; command?: string }
  | { kind: 'shown'; text: string }; // --help or --version

/** `--limit a --limit b,c,a` → ['a', 'b', 'c']. */
const splitList = (v: unknown): string[] =>
  [...new Set([v].flat().flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean))];

/** The most steps validate runs per problem, summed over the step sizes (docs/validate.md). */
const MAX_VALIDATE_STEPS = 1_000_000;

/** The step sizes validate runs by default (see docs/validate.md). */
const DEFAULT_HS = '0.02,0.01,0.005,0.0025';

/**
 * `--h` is validate's step-size list, but yargs reads `--h` as `-h` (help); within validate it
 * is renamed to `--step-sizes` before parsing, and `-h` keeps meaning help.
 */
const renameH = (argv: readonly string[]): string[] =>
  argv[0] !== 'validate' ? [...argv] : argv.map((a) => (a === '--h' ? '--step-sizes' : a.startsWith('--h=') ? `--step-sizes=${a.slice(4)}` : a));

async function parseArgs(argv: readonly string[]): Promise<Parsed> {
  let failure: string | undefined;
  let shown = '';
  const parser = yargs()
    .scriptName('memloss')
    .locale('en')
    .usage('memloss <command>\n\nDerive the memory correction M of an optimizer from its rule file.')
    .command('derive <rule>', 'derive the memory correction of one rule file', (y) =>
      y
        .positional('rule', { type: 'string', describe: 'rule file, e.g. rules/adamw.rule' })
        .option('format', { choices: FORMATS, default: 'text' as Format, describe: 'output format' })
        .option('limit', {
          type: 'string', requiresArg: true, coerce: splitList,
          describe: 'parameter to send to 0 after deriving (repeatable, or a comma list: eps,lambda)',
        })
        .option('exact-n', { type: 'boolean', default: false, describe: 'exact finite-n result instead of the asymptotic one' })
        .option('set', {
          type: 'string', requiresArg: true, coerce: splitList,
          describe: 'parameter values to use instead of the defaults, for the verdict and the values shown (repeatable, or a comma list: beta1=0.95,beta2=0.9)',
        })
        .option('verify', { type: 'boolean', default: true, describe: 'compare the result with the independent oracle before printing it (--no-verify skips that, for speed only)' })
        .option('batches', { type: 'number', requiresArg: true, describe: 'mini-batches: the pathwise M for m batches per epoch and its expectation under random reshuffling' })
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE instead of stdout' })
        .example('memloss derive rules/adamw.rule', 'M for AdamW, as text')
        .example('memloss derive rules/heavy-ball.rule --batches 10', 'the mini-batch correction and its noise term (docs/minibatch.md)')
        .example('memloss derive rules/adam.rule --limit eps', 'M for Adam in the limit eps → 0')
        .example('memloss derive rules/adamw.rule --format latex', 'as a LaTeX document'),
    )
    .command('build', 'derive every rules/*.rule into derivations/<name>/ (json, tex, html, and the <name>.ts module)', (y) =>
      y
        .option('rules', { type: 'string', default: 'rules', requiresArg: true, describe: 'folder of *.rule files (subfolders are skipped)' })
        .option('out', { type: 'string', default: 'derivations', requiresArg: true, describe: 'output folder' })
        .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 naming every stale, missing or extra file' })
        .option('validate', { type: 'boolean', default: false, describe: 'also run memloss validate on the quartic and logistic problems for each rule and record the slopes (derivations/<name>/validation.json; minutes)' })
        .option('catalogue', { type: 'string', requiresArg: true, describe: 'the catalogue of every rule, refused ones (rules/rejected/) included (default docs/optimizers.md with the default --rules and --out)' })
        .example('memloss build --check', 'is derivations/ up to date?')
        .example('memloss build --validate', 'regenerate everything, the recorded validations too'),
    )
    .command('codegen <rule>', 'generate the optimizer module of one rule file (the true optimizer and its memoryless approximation)', (y) =>
      y
        .positional('rule', { type: 'string', describe: 'rule file' })
        .option('target', { choices: TARGETS, default: 'ts' as Target, describe: 'code target' })
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE instead of stdout' })
        .example('memloss codegen my.rule --target ts -o my.ts', 'a standalone TypeScript module (docs/generated-code.md)')
        .example('memloss codegen my.rule --target wasm -o my.wasm.js', 'an ES module running WebAssembly (docs/wasm.md)')
        .example('memloss codegen my.rule --target wgsl -o my.wgsl', 'WebGPU compute kernels, f32 (docs/webgpu.md)'),
    )
    .command('validate <rule>', 'measure the O(h²) claim: the optimizer against its memoryless iteration at several step sizes', (y) =>
      y
        .positional('rule', { type: 'string', describe: 'rule file, e.g. rules/adamw.rule' })
        .option('problem', {
          type: 'string', default: 'quartic', requiresArg: true,
          describe: `test problems, a comma list of ${problemNames().join(', ')} or all`,
        })
        .option('step-sizes', { type: 'string', default: DEFAULT_HS, requiresArg: true, describe: 'step sizes h, a comma list (also written --h LIST)' })
        .option('horizon', { type: 'number', default: 2, requiresArg: true, describe: 'time horizon T: round(T/h) steps per step size' })
        .option('set', {
          type: 'string', requiresArg: true, coerce: splitList,
          describe: 'parameter values over the validation defaults (repeatable, or a comma list: beta=0.9,eps=1e-3)',
        })
        .option('seed', { type: 'number', default: 1, requiresArg: true, describe: 'seed of the problem data and the starting point' })
        .option('batches', { type: 'number', requiresArg: true, describe: 'mini-batches: split the problem into m equal batches and validate the pathwise M on one batch order (logistic, mlp)' })
        .option('order-seed', { type: 'number', default: 1, requiresArg: true, describe: 'with --batches: seed of the batch order (random reshuffling)' })
        .option('plot', { type: 'string', requiresArg: true, describe: 'write an SVG plot of the gaps against h to FILE' })
        .option('compare-defaults', { type: 'boolean', default: true, describe: "where validate moved parameters (shortened memories, raised eps), also run at the rule's own values and show those slopes (--no-compare-defaults skips it)" })
        .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
        .example('memloss validate rules/heavy-ball.rule', 'on the quartic, default step sizes')
        .example('memloss validate rules/adamw.rule --problem all --plot gaps.svg', 'on every problem, with a plot')
        .example('memloss validate rules/adam.rule --set beta1=0.9,beta2=0.999 --h 0.001,0.0005,0.00025', 'at the usual parameters, smaller steps')
        .example('memloss validate rules/heavy-ball.rule --problem logistic --batches 200', 'per-example batches, one reshuffled order'),
    )
    .command('train <config>', 'train an MLP on an MNIST-format data set with any rule file (docs/train.md)', (y) =>
      y
        .positional('config', { type: 'string', describe: 'training config (JSON), e.g. experiments/adamw.json' })
        .option('resume', { type: 'boolean', default: false, describe: 'continue from the run\'s last checkpoint (bitwise the same result)' })
        .option('cancel-memory-term', { type: 'boolean', default: false, describe: 'subtract the derived memory correction h·M after each step' })
        .example('memloss train experiments/adamw.json', 'one JSON line per logged step on stdout'),
    )
    .command('sweep <config>', 'run a grid of training runs in worker threads and write a Markdown report with SVG plots', (y) =>
      y
        .positional('config', { type: 'string', describe: 'sweep config (JSON), e.g. experiments/sweep.json' })
        .option('resume', { type: 'boolean', default: false, describe: 'skip finished runs, continue unfinished ones from their checkpoints' })
        .option('workers', { type: 'number', requiresArg: true, describe: 'worker threads (default: the config\'s, else 2)' })
        .option('report-only', { type: 'boolean', default: false, describe: 'write the report from the finished runs, train nothing' }),
    )
    .demandCommand(1, 'give a command: derive, build, codegen, validate, train or sweep')
    .strict()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .exitProcess(false)
    .fail((msg: string | null, e: Error | undefined) => {
      failure ??= msg ?? e?.message ?? 'invalid arguments';
    });

  const a = (await parser.parseAsync(renameH(argv), {}, (_e: unknown, _a: unknown, output: string) => {
    shown = output;
  })) as Record<string, unknown> & { _: (string | number)[] };
  const first = a._[0];
  const command = first === 'derive' || first === 'build' || first === 'codegen' || first === 'validate' || first === 'train' || first === 'sweep' ? first : undefined;
  if (failure !== undefined) return { kind: 'usage', message: failure, command };
  if (shown || a['help'] || a['version']) return { kind: 'shown', text: shown };
  if (command === 'derive') {
    const batches = a['batches'] as number | undefined;
    if (batches !== undefined && !(Number.isInteger(batches) && batches >= 1))
      return { kind: 'usage', message: `--batches takes a positive integer, got '${String(batches)}'`, command };
    const set = parseSet(a['set']);
    if (typeof set === 'string') return { kind: 'usage', message: set, command };
    return {
      ...(batches !== undefined ? { batches } : {}),
      set,
      kind: 'derive',
      rule: String(a['rule']),
      format: a['format'] as Format,
      limits: (a['limit'] as string[] | undefined) ?? [],
      regime: a['exact-n'] ? 'exact-n' : 'asymptotic',
      verify: a['verify'] !== false,
      output: a['output'] as string | undefined,
    };
  }
  if (command === 'build') {
    const rules = String(a['rules']), outDir = String(a['out']);
    const catalogue = a['catalogue'] !== undefined ? String(a['catalogue']) : rules === 'rules' && outDir === 'derivations' ? join('docs', 'optimizers.md') : undefined;
    return { kind: 'build', rules, out: outDir, check: Boolean(a['check']), validate: Boolean(a['validate']), ...(catalogue !== undefined ? { catalogue } : {}) };
  }
  if (command === 'validate') return validateArgs(a);
  if (command === 'train') return { kind: 'train', config: String(a['config']), resume: Boolean(a['resume']), cancelMemoryTerm: Boolean(a['cancel-memory-term']) };
  if (command === 'sweep') {
    const workers = a['workers'] as number | undefined;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) return { kind: 'usage', message: `--workers takes a positive integer, got '${String(workers)}'`, command };
    return { kind: 'sweep', sweep: String(a['config']), resume: Boolean(a['resume']), reportOnly: Boolean(a['report-only']), ...(workers !== undefined ? { workers } : {}) };
  }
  if (command === 'codegen') return { kind: 'codegen', rule: String(a['rule']), target: a['target'] as Target, output: a['output'] as string | undefined };
  return { kind: 'usage', message: 'give a command: derive, build, codegen, validate, train or sweep' };
}

/** Checks validate's option values; every mistake is a usage error (exit 2). */
function validateArgs(a: Record<string, unknown>): ValidateArgs | { kind: 'usage'; message: string; command: string } {
  const usage = (message: string) => ({ kind: 'usage' as const, message, command: 'validate' });
  const known = problemNames();
  const problems = splitList(a['problem']).flatMap((p) => (p === 'all' ? known : [p]));
  if (problems.length === 0) return usage(`--problem names no problem; choose from ${known.join(', ')} or all`);
  const unknown = problems.find((p) => !Object.hasOwn(PROBLEMS, p));
  if (unknown !== undefined) return usage(`unknown problem '${unknown}'; choose from ${known.join(', ')} or all`);
  const hs = splitList(a['step-sizes']).map(Number);
  if (hs.some((h) => !(h > 0 && Number.isFinite(h)))) return usage(`--h takes positive numbers, got '${String(a['step-sizes'])}'`);
  if (new Set(hs).size < 2) return usage('--h needs at least two different step sizes');
  const horizon = Number(a['horizon']);
  if (!(horizon > 0 && Number.isFinite(horizon))) return usage(`--horizon takes a positive number, got '${String(a['horizon'])}'`);
  const tooLong = hs.find((h) => Math.round(horizon / h) < 1);
  if (tooLong !== undefined) return usage(`step size ${tooLong} is longer than the horizon ${horizon}`);
  // every run is bounded: round(T/h) steps per step size (h = 1e-12 would be 10^12 steps)
  const steps = hs.reduce((n, h) => n + Math.round(horizon / h), 0);
  if (!(steps <= MAX_VALIDATE_STEPS)) {
    const shown = steps < 1e15 ? String(steps) : steps.toExponential(2);
    return usage(`horizon ${horizon} with step sizes ${hs.join(', ')} makes ${shown} steps per problem; the limit is ${MAX_VALIDATE_STEPS} (a shorter --horizon or larger --h)`);
  }
  const seed = Number(a['seed']);
  if (!Number.isInteger(seed)) return usage(`--seed takes an integer, got '${String(a['seed'])}'`);
  const set = parseSet(a['set']);
  if (typeof set === 'string') return usage(set);
  const plot = a['plot'] as string | undefined;
  const batches = a['batches'] as number | undefined;
  if (batches !== undefined && !(Number.isInteger(batches) && batches >= 1)) return usage(`--batches takes a positive integer, got '${String(batches)}'`);
  const orderSeed = Number(a['order-seed']);
  if (!Number.isInteger(orderSeed)) return usage(`--order-seed takes an integer, got '${String(a['order-seed'])}'`);
  if (batches !== undefined) {
    const noBatches = problems.find((p) => !Object.hasOwn(FINITE_SUM_PROBLEMS, p));
    if (noBatches !== undefined) return usage(`--batches: problem '${noBatches}' is not a sum over samples; choose from ${Object.keys(FINITE_SUM_PROBLEMS).sort().join(', ')}`);
    if (plot !== undefined) return usage('--plot is not available with --batches');
  }
  return { kind: 'validate', ...(batches !== undefined ? { batches } : {}), orderSeed, rule: String(a['rule']), problems: [...new Set(problems)], hs, horizon, set, seed, ...(plot !== undefined ? { plot } : {}), json: Boolean(a['json']), compareDefaults: a['compare-defaults'] !== false };
}

/** `--set name=value,…` as a prototype-free map, or the usage message for a malformed item. */
function parseSet(items: unknown): Record<string, number> | string {
  const set = dict<number>();
  for (const item of (items as string[] | undefined) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(item);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value)) return `--set takes name=value with a number, got '${item}'`;
    set[m[1]!] = value;
  }
  return set;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---- errors ----------------------------------------------------------------------------

/** Runs a command, turning every failure into its message and exit code. */
async function guarded(run: () => Promise<number> | number): Promise<number> {
  try {
    return await run();
  } catch (e) {
    return report(e);
  }
}

/** Prints a failure (RuleError: its diagnostics, one per line; anything else: one line) and returns the exit code. */
function report(e: unknown): number {
  if (e instanceof RuleError) {
    for (const d of e.diagnostics) err(`${oneLine(formatDiagnostic(d))}\n`);
    return EXIT.ruleError;
  }
  if (e instanceof CliError) {
    err(`memloss: ${oneLine(e.message)}\n`);
    return EXIT.ruleError;
  }
  // Anything else is a bug: an InternalError, or an unexpected exception from a stage.
  const message = e instanceof InternalError ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}`;
  err(`memloss: ${oneLine(message)}; please report\n`);
  if (process.env['MEMLOSS_DEBUG'] === '1' && e instanceof Error && e.stack) err(`${e.stack}\n`);
  return EXIT.internal;
}

/** A rule file's text: a regular file within the size limit (src/parse/read-file.ts). */
function readRule(file: string): string {
  try {
    return readRuleSource(file);
  } catch (e) {
    if (e instanceof FileReadError) throw new CliError(`cannot read ${file}: ${e.message}`);
    throw e;
  }
}

function writeText(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${fileErrorReason(e)}`);
  }
}

// ---- derive ----------------------------------------------------------------------------

/** The rule with --set values as its parameters' defaults, each checked against its domain. */
function withValues<R extends Rule | MatrixRule>(rule: R, set: Readonly<Record<string, number>>): R {
  const names = Object.keys(set);
  if (!names.length) return rule;
  for (const name of names) {
    const p = rule.params.find((q) => q.name === name);
    if (!p) {
      const near = nearest(name, rule.params.map((q) => q.name));
      throw new CliError(`--set: ${rule.name} has no parameter '${name}'${near ? `; did you mean '${near}'?` : ''}`);
    }
    const v = set[name]!, d = p.domain;
    const inside = (d.loOpen ? v > d.lo : v >= d.lo) && (d.hiOpen ? v < d.hi : v <= d.hi);
    if (!inside) throw new CliError(`--set: ${name} = ${v} is outside its declared domain ${d.text}`);
  }
  return { ...rule, params: rule.params.map((p) => (Object.hasOwn(set, p.name) ? { ...p, value: ratFromDecimal(String(set[p.name])), valueText: String(set[p.name]) } : p)) };
}

function deriveCommand(args: DeriveArgs): number {
  const rule = withValues(parseRuleFile(readRule(args.rule), args.rule), args.set);
  if (isMatrixRule(rule)) {
    if (args.batches !== undefined) throw new CliError(`--batches: ${rule.name} is a matrix rule; mini-batch corrections are derived for coordinate-wise rules only`);
    const text = withFinalNewline(MATRIX_EMITTERS[args.format](matrixOnly(rule, args.limits), args.regime));
    if (args.output !== undefined) writeText(args.output, text);
    else out(text);
    return EXIT.ok;
  }
  if (args.batches !== undefined) return deriveBatchesCommand(args, rule, args.batches);
  const text = withFinalNewline(EMITTERS[args.format](derive(rule, { limits: args.limits, exactN: args.regime === 'exact-n', verify: args.verify }), args.regime));
  if (args.output !== undefined) writeText(args.output, text);
  else out(text);
  return EXIT.ok;
}

/** The mini-batch document: weights on a batch history, pathwise M, expectation under reshuffling. */
function deriveBatchesCommand(args: DeriveArgs, rule: Rule, batches: number): number {
  const d = derive(rule, { limits: args.limits, exactN: true, verify: args.verify });
  const b = deriveBatches(d, batches);
  const blocks = () => buildBatchDocument(d, b);
  const text = args.format === 'json' ? emitBatchJson(d, b)
    : args.format === 'latex' ? renderLatex(blocks())
      : args.format === 'html' ? renderHtml(blocks(), rule.name)
        : args.format === 'md' ? renderMarkdown(blocks()) : renderText(blocks());
  if (args.output !== undefined) writeText(args.output, text);
  else out(text);
  return EXIT.ok;
}

// ---- build -----------------------------------------------------------------------------

/** Whether path is a file; a symbolic link to nothing is a one-line error, not a crash. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (e) {
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new CliError(`${path} is a symbolic link to nothing (${fileErrorReason(e)}); remove it or point it at a file`);
    throw new CliError(`cannot read ${path}: ${fileErrorReason(e)}`);
  }
}

/**
 * A rule file's output name (derivations/<name>/): its name without .rule, each run of
 * characters other than letters, digits, - and _ made one -, none at the ends. So no name
 * can climb out of --out (`...rule`) or hold a separator.
 */
const outputName = (file: string) => basename(file, '.rule').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * The *.rule files directly in dir (not in subfolders) with their output names, sorted by
 * code unit for a stable order. A name that is empty or taken twice is refused.
 */
function listRules(dir: string): { path: string; name: string }[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (e) {
    throw new CliError(`cannot read ${dir}: ${fileErrorReason(e)}`);
  }
  const rules = files.filter((f) => f.endsWith('.rule') && isFile(join(dir, f))).sort().map((f) => ({ path: join(dir, f), name: outputName(f) }));
  const byName = new Map<string, string>();
  for (const r of rules) {
    if (!r.name) throw new CliError(`${r.path}: the file name gives no output name (it needs a letter, digit, - or _ besides .rule); rename it`);
    const other = byName.get(r.name);
    if (other !== undefined) throw new CliError(`${other} and ${r.path} would both be written to '${r.name}' (output names keep letters, digits, - and _); rename one`);
    byName.set(r.name, r.path);
  }
  return rules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every file under dir, as paths relative to dir with '/' separators; [] if dir does not exist. */
function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (e) {
    if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) throw new CliError(`${dir} is a symbolic link to nothing (${fileErrorReason(e)}); remove it or point it at a folder`);
    return [];
  }
  return entries.filter((r) => isFile(join(dir, r))).map((r) => r.split(sep).join('/')).sort();
}

/** Throws unless path, with links resolved as far as it exists, lies inside dir. */
function insideOut(dir: string, path: string): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      const up = resolve(p, '..');
      return up === resolve(p) ? resolve(p) : join(real(up), basename(p));
    }
  };
  const rel = relative(real(dir), real(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || resolve(rel) === rel) throw new CliError(`${path} would be written outside --out ${dir} (a symbolic link leads out of it); refusing`);
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function buildCommand(args: BuildArgs): number {
  const rules = listRules(args.rules);
  if (rules.length === 0) throw new CliError(`no *.rule files in ${args.rules}`);
  let code: number = EXIT.ok;
  const expected = new Map<string, string>(); // 'adamw/derivation.json' → content
  const failed = new Set<string>();
  const catalogue: CatalogueEntry[] = [];
  const problems: string[] = [];
  for (const { path, name } of rules) {
    const t0 = performance.now();
    try {
      const source = readRule(path);
      const rule = parseRuleFile(source, path);
      let d: Derivation | MatrixDerivation;
      if (isMatrixRule(rule)) {
        // matrix rules: the documents and the TypeScript module (its runtime is memloss/linalg)
        d = deriveMatrix(rule);
        expected.set(`${name}/derivation.json`, MATRIX_EMITTERS.json(d, 'asymptotic'));
        expected.set(`${name}/derivation.tex`, MATRIX_EMITTERS.latex(d, 'asymptotic'));
        expected.set(`${name}/derivation.html`, MATRIX_EMITTERS.html(d, 'asymptotic'));
        expected.set(`${name}/${name}.ts`, emitMatrixTs(d));
        out(`${name}: ${Math.round(performance.now() - t0)} ms\n`);
      } else {
        // exact-n too: the generated module's direction and correction with n need it
        const v0 = verificationTime.ms;
        const c = derive(rule, { exactN: true, verify: true });
        verifyGenerated(rule, c);
        for (const [target, emit] of BUILD_FILES) expected.set(`${name}/${target}`, withFinalNewline(emit(c, 'asymptotic')));
        expected.set(`${name}/${name}.ts`, emitTs(rule, c));
        const verified = c.verification ? ` (verification ${Math.round(verificationTime.ms - v0)} ms)` : '';
        out(`${name}: ${Math.round(performance.now() - t0)} ms${verified}\n`);
        d = c;
      }
      if (args.catalogue !== undefined || args.validate) {
        const validation = recordedValidation(args, name, source, rule, expected, problems);
        catalogue.push({ file: path, dir: name, derivation: d, ...(validation ? { validation } : {}) });
      }
    } catch (e) {
      failed.add(name);
      code = Math.max(code, report(e));
    }
  }

  const shown = (rel: string) => join(args.out, rel);
  let catalogueText: string | undefined;
  if (args.catalogue !== undefined) {
    catalogue.push(...refusedRules(join(args.rules, 'rejected'), problems));
    catalogueText = catalogueMarkdown(catalogue);
  }
  // Files of a rule that failed are neither compared nor called extra: the failure was reported.
  const extra = listFiles(args.out).filter((rel) => !expected.has(rel) && !failed.has(rel.split('/')[0]!));
  if (args.check) {
    if (catalogueText !== undefined && readIfExists(args.catalogue!) !== catalogueText) problems.push(`${args.catalogue} is ${readIfExists(args.catalogue!) === undefined ? 'missing' : 'stale'}`);
    for (const [rel, text] of expected) {
      const onDisk = readIfExists(join(args.out, rel));
      if (onDisk === undefined) problems.push(`${shown(rel)} is missing`);
      else if (onDisk !== text) problems.push(`${shown(rel)} is stale`);
    }
    for (const rel of extra) problems.push(`${shown(rel)} is extra (no rule produces it)`);
    for (const p of problems) err(`memloss: ${p}\n`);
    if (problems.length) {
      err(`memloss: ${problems.length} file${problems.length === 1 ? '' : 's'} out of date; run 'memloss build'\n`);
      code = Math.max(code, EXIT.ruleError);
    }
    return code;
  }

  for (const [rel, text] of expected) {
    const target = join(args.out, rel);
    if (readIfExists(target) === text) continue; // unchanged: keep the file (and its mtime)
    try {
      mkdirSync(join(target, '..'), { recursive: true });
    } catch (e) {
      throw new CliError(`cannot write ${target}: ${fileErrorReason(e)}`);
    }
    insideOut(args.out, target);
    writeText(target, text);
  }
  if (catalogueText !== undefined && readIfExists(args.catalogue!) !== catalogueText) writeText(args.catalogue!, catalogueText);
  for (const p of problems) err(`memloss: warning: ${p}\n`);
  // Never delete: --out may point anywhere. Name the leftovers instead.
  for (const rel of extra) err(`memloss: warning: ${shown(rel)} is produced by no rule; delete it\n`);
  return code;
}

/** The catalogue's problems and step sizes: validate's defaults, on a problem of each kind. */
const CATALOGUE_PROBLEMS = ['quartic', 'logistic'];

/**
 * The recorded validation of a rule (derivations/<name>/validation.json): run now with
 * --validate, else read back if it was recorded for this very rule text ('stale' if not).
 */
function recordedValidation(args: BuildArgs, name: string, source: string, rule: Rule | MatrixRule,
  expected: Map<string, string>, problems: string[]): readonly RecordedValidation[] | 'stale' | undefined {
  const rel = `${name}/validation.json`;
  const hash = createHash('sha256').update(source).digest('hex');
  if (!args.validate) {
    const onDisk = readIfExists(join(args.out, rel));
    if (onDisk === undefined) return undefined;
    expected.set(rel, onDisk); // kept as it is: only --validate writes it
    let recorded: { rule?: string; results?: RecordedValidation[] } = {};
    try { recorded = JSON.parse(onDisk) as typeof recorded; } catch { /* unreadable: as stale as another rule's */ }
    if (recorded.rule === hash && Array.isArray(recorded.results)) return recorded.results;
    problems.push(`${join(args.out, rel)} was recorded for another version of the rule; run 'memloss build --validate'`);
    return 'stale';
  }
  const hs = DEFAULT_HS.split(',').map(Number);
  const vargs: ValidateArgs = { kind: 'validate', rule: name, problems: CATALOGUE_PROBLEMS, hs, horizon: 2, set: {}, seed: 1, json: false, orderSeed: 1, compareDefaults: false };
  const { module, params, facts } = validationSetup(rule, vargs);
  const hyper = hyperOf(params);
  const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
  const results: RecordedValidation[] = CATALOGUE_PROBLEMS.map((problem) => {
    const r = runValidation({ module, problem: PROBLEMS[problem]!({ seed: 1 }), hs, horizon: 2, hyper, seed: 1, facts });
    return { problem, exact: round(r.slopes.exact), none: round(r.slopes.none), ok: r.verdict.ok, reason: r.verdict.reason };
  });
  const record = { rule: hash, stepSizes: hs, horizon: 2, parameters: params.map((p) => ({ name: p.name, value: p.value, source: p.source })), results };
  expected.set(rel, `${JSON.stringify(sortKeys(record as unknown as Json), null, 2)}\n`);
  return results;
}

/** The rules of rules/rejected/: each must be refused, and the catalogue gives its reason. */
function refusedRules(dir: string, problems: string[]): CatalogueEntry[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return listRules(dir).map(({ path }) => {
    const source = readRule(path);
    const name = /^optimizer\s+(.+)$/m.exec(source)?.[1]?.trim() ?? path;
    const cite = /^cite\s+"((?:[^"\\]|\\.)*)"/m.exec(source)?.[1];
    try {
      const rule = parseRuleFile(source, path);
      if (isMatrixRule(rule)) deriveMatrix(rule); else derive(rule, { verify: true });
      problems.push(`${path} derives; move it out of ${dir}`);
      return { file: path, name, ...(cite ? { cite } : {}), refusal: 'derives (misplaced in rules/rejected/)' };
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return { file: path, name, ...(cite ? { cite } : {}), refusal: e.diagnostics.map((d) => formatDiagnostic(d).replace(`${path}:`, 'line ')).join('; ') };
    }
  });
}


// ---- codegen ----------------------------------------------------------------------------

/** The module's code against the oracle, before it is written (where the derivation was verified). */
function verifyGenerated(rule: Rule, d: Derivation): void {
  if (d.verification) verifyModule(rule, d, loadOptimizer(rule, d));
}

function codegenCommand(args: CodegenArgs): number {
  const rule = parseRuleFile(readRule(args.rule), args.rule);
  if (isMatrixRule(rule) && args.target !== 'ts')
    throw new CliError(`--target ${args.target} is not available for matrix rules (${rule.name}); use --target ts (a TypeScript module, docs/generated-code.md)`);
  let text: string;
  if (isMatrixRule(rule)) text = emitMatrixTs(deriveMatrix(rule));
  else {
    const d = derive(rule, { exactN: true, verify: true });
    verifyGenerated(rule, d);
    text = CODE_TARGETS[args.target](rule, d);
  }
  if (args.output !== undefined) writeText(args.output, text);
  else out(text);
  return EXIT.ok;
}

// ---- validate --------------------------------------------------------------------------

/** How a parameter value was chosen, for the line printed above the tables. */
function describeParam(p: ParamChoice): string {
  switch (p.source) {
    case 'default': return `${p.name} = ${p.value}`;
    case 'set': return `${p.name} = ${p.value} (--set)`;
    case 'raised': return `${p.name} = ${p.value} (raised from ${p.default}: smooth on the scale of a step)`;
    case 'shortened': return `${p.name} = ${Number(p.value.toPrecision(4))} (from ${p.default}: memory shortened)`;
  }
}

/** The module, parameters and facts validate runs with, for either kind of rule. */
function validationSetup(rule: Rule | MatrixRule, args: ValidateArgs) {
  if (isMatrixRule(rule)) {
    const d = deriveMatrix(rule);
    const params = matrixValidationParams(d, args.hs, args.set);
    return { module: loadMatrixOptimizer(d), params, facts: matrixRuleFacts(d, hyperOf(params)), factsAt: (h: Record<string, number>) => matrixRuleFacts(d, h), notes: d.notes };
  }
  const d = derive(rule, { exactN: true, verify: true });
  if (!d.exactN || ('unavailable' in d.exactN && !d.exactN.recursion))
    throw new CliError(`validate needs the exact finite-n form of ${rule.name}, and it has none: ${d.exactN ? d.exactN.unavailable : 'not derived'}`);
  const params = validationParams(rule, d, args.hs, args.set);
  return { module: loadVerifiedOptimizer(rule, d), params, facts: ruleFacts(rule, d, hyperOf(params)), factsAt: (h: Record<string, number>) => ruleFacts(rule, d, h), notes: d.notes };
}

const hyperOf = (params: readonly ParamChoice[]) => Object.fromEntries(params.map((p) => [p.name, p.value]));

async function validateCommand(args: ValidateArgs): Promise<number> {
  const rule = parseRuleFile(readRule(args.rule), args.rule);
  for (const [name, value] of Object.entries(args.set)) {
    const p = rule.params.find((q) => q.name === name);
    if (!p) {
      const names = rule.params.map((q) => q.name);
      err(`memloss: --set: ${rule.name} has no parameter '${name}'${names.length ? `; its parameters are ${names.join(', ')}` : ''}\n`);
      err(`Run 'memloss validate --help' for usage.\n`);
      return EXIT.usage;
    }
    const { lo, hi, loOpen, hiOpen, text } = p.domain;
    if (value < lo || value > hi || (loOpen && value === lo) || (hiOpen && value === hi)) {
      err(`memloss: --set: ${name} = ${value} lies outside its domain ${text}\n`);
      return EXIT.usage;
    }
  }
  const { module, params, facts, factsAt, notes } = validationSetup(rule, args);
  const hyper = Object.fromEntries(params.map((p) => [p.name, p.value]));

  if (!args.json) {
    out(`${rule.name} (${args.rule}): the optimizer against its memoryless iteration, horizon ${args.horizon}, seed ${args.seed}\n`);
    if (params.length) out(`parameters: ${params.map(describeParam).join(', ')}\n`);
    if (facts.signOnMemoryPath !== undefined)
      out(`note: exact sign lies on the memory path, so M vanishes almost everywhere; the memoryless iteration matches the optimizer only until a momentum coordinate changes sign, and order 2 cannot show after that\n`);
  }
  const bar = progressBar(process.stderr);
  if (args.batches !== undefined) {
    if (isMatrixRule(rule)) throw new CliError(`--batches: ${rule.name} is a matrix rule; mini-batch corrections are derived for coordinate-wise rules only`);
    return validateBatches(args, args.batches, rule, module, hyper, params, bar);
  }
  const results: ValidationResult[] = [];
  for (const name of args.problems) {
    const problem = PROBLEMS[name]!({ seed: args.seed });
    const r = runValidation({
      module, problem, hs: args.hs, horizon: args.horizon, hyper, seed: args.seed, facts,
      onProgress: (done, total) => bar.update(done, total, name),
    });
    bar.done();
    results.push(r);
    if (!args.json) out(`\n${formatValidation(r)}`);
  }
  // the same at the rule's own values where validate moved some: for comparison, not for the verdict
  const moved = params.filter((p) => p.source === 'raised' || p.source === 'shortened');
  const atOwn: { problem: string; slopes: ValidationResult['slopes']; ok: boolean; reason: string }[] = [];
  if (moved.length && args.compareDefaults) {
    const own = Object.fromEntries(params.map((p) => [p.name, p.source === 'set' ? p.value : p.default]));
    if (!args.json) out(`\nat the rule's own values (${moved.map((p) => `${p.name} = ${p.default}`).join(', ')}), for comparison (the memoryless expansion needs h·(memory) small; the verdict above stands):\n`);
    for (const name of args.problems) {
      const r = runValidation({ module, problem: PROBLEMS[name]!({ seed: args.seed }), hs: args.hs, horizon: args.horizon, hyper: own, seed: args.seed, facts: factsAt(own), onProgress: (done, total) => bar.update(done, total, name) });
      bar.done();
      atOwn.push({ problem: name, slopes: r.slopes, ok: r.verdict.ok, reason: r.verdict.reason });
      const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
      if (!args.json) out(`  ${name}: slopes exact M ${f(r.slopes.exact)}, asymptotic M ${f(r.slopes.asymptotic)}, no M ${f(r.slopes.none)}; ${r.verdict.ok ? 'second order shows here too' : r.verdict.reason}\n`);
    }
  }
  if (args.plot !== undefined) {
    const { renderPlot } = await import('./numeric/plot.js');
    writeText(args.plot, await renderPlot(results, `${rule.name}: max gap against h`));
    if (!args.json) out(`\nplot written to ${args.plot}\n`);
  }
  const ok = results.every((r) => r.verdict.ok);
  if (args.json)
    out(validationJson({ rule: rule.name, file: args.rule, horizon: args.horizon, seed: args.seed, stepSizes: args.hs, parameters: params, notes, ok, results, ...(atOwn.length ? { atOwnValues: atOwn } : {}) }));
  for (const r of results) if (!r.verdict.ok) err(`memloss: validation failed on ${r.problem}: ${r.verdict.reason}\n`);
  // non-finite closed forms are a bug in memloss, not a property of the rule
  if (results.some((r) => r.verdict.diagnosis === 'non-finite-form')) return EXIT.internal;
  return ok ? EXIT.ok : EXIT.ruleError;
}

/** `validate --batches m`: the pathwise M on one reshuffled batch order, per problem. */
function validateBatches(args: ValidateArgs, batches: number, rule: Rule, module: ReturnType<typeof loadOptimizer>, hyper: Record<string, number>,
  params: readonly ParamChoice[], bar: ReturnType<typeof progressBar>): number {
  if (!module.historyWeights) {
    // the same located reason derive --batches gives
    deriveBatches(derive(rule), batches);
    throw new CliError(`${rule.name}: the memory is not linear in the gradients`);
  }
  try {
    module.historyWeights(hyper, 0, 0);
  } catch (e) {
    throw new CliError(`--batches: ${rule.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const results: BatchValidationResult[] = [];
  for (const name of args.problems) {
    let problem;
    try {
      problem = FINITE_SUM_PROBLEMS[name]!({ seed: args.seed, batches });
    } catch (e) {
      throw new CliError(`--batches: ${e instanceof Error ? e.message : String(e)}`);
    }
    const r = runBatchValidation({
      module, problem, hs: args.hs, horizon: args.horizon, hyper, seed: args.seed, orderSeed: args.orderSeed,
      onProgress: (done, total) => bar.update(done, total, name),
    });
    bar.done();
    results.push(r);
    if (!args.json) out(`\n${formatBatchValidation(r)}`);
  }
  const ok = results.every((r) => r.ok);
  if (args.json)
    out(validationJson({ rule: rule.name, file: args.rule, batches, orderSeed: args.orderSeed, horizon: args.horizon, seed: args.seed, stepSizes: args.hs, parameters: params, ok, results }));
  for (const r of results) if (!r.ok) err(`memloss: validation failed on ${r.problem} with ${batches} batches: ${r.reason}\n`);
  return ok ? EXIT.ok : EXIT.ruleError;
}
