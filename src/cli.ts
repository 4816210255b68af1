/**
 * The command line. It only wires stages: read file → parseRule → derive → emit → write.
 * Exit codes: 0 success, 1 rule error or unreadable/unwritable file, 2 usage error,
 * 3 internal error (a bug in memloss). Nothing here reads stdin.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { parseRule } from './parse/rule-file.js';
import { derive } from './derive/index.js';
import type { Derivation, Regime } from './derive/types.js';
import { InternalError, RuleError, formatDiagnostic } from './ir/diagnostics.js';
import { emitText } from './emit/text.js';
import { emitJson } from './emit/json.js';
import { emitLatex } from './emit/latex.js';
import { emitHtml } from './emit/html.js';
import { emitMarkdown } from './emit/markdown.js';

type Emitter = (d: Derivation, regime: Regime) => string;

const FORMATS = ['text', 'json', 'latex', 'html', 'md'] as const;
type Format = (typeof FORMATS)[number];

const EMITTERS: Readonly<Record<Format, Emitter>> = {
  text: emitText,
  json: emitJson,
  latex: emitLatex,
  html: emitHtml,
  md: emitMarkdown,
};

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
  }
}

// ---- arguments -------------------------------------------------------------------------

interface DeriveArgs { kind: 'derive'; rule: string; format: Format; limits: string[]; regime: Regime; output?: string }
interface BuildArgs { kind: 'build'; rules: string; out: string; check: boolean }
type Parsed =
  | DeriveArgs
  | BuildArgs
  | { kind: 'usage'; message: string; command?: string }
  | { kind: 'shown'; text: string }; // --help or --version

/** `--limit a --limit b,c,a` → ['a', 'b', 'c']. */
const splitList = (v: unknown): string[] =>
  [...new Set([v].flat().flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean))];

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
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE instead of stdout' })
        .example('memloss derive rules/adamw.rule', 'M for AdamW, as text')
        .example('memloss derive rules/adam.rule --limit eps', 'M for Adam in the limit eps → 0')
        .example('memloss derive rules/adamw.rule --format latex', 'as a LaTeX document'),
    )
    .command('build', 'derive every rules/*.rule into derivations/<name>/ (json, tex, html)', (y) =>
      y
        .option('rules', { type: 'string', default: 'rules', requiresArg: true, describe: 'folder of *.rule files (subfolders are skipped)' })
        .option('out', { type: 'string', default: 'derivations', requiresArg: true, describe: 'output folder' })
        .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 naming every stale, missing or extra file' }),
    )
    .demandCommand(1, 'give a command: derive or build')
    .strict()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .exitProcess(false)
    .fail((msg: string | null, e: Error | undefined) => {
      failure ??= msg ?? e?.message ?? 'invalid arguments';
    });

  const a = (await parser.parseAsync([...argv], {}, (_e: unknown, _a: unknown, output: string) => {
    shown = output;
  })) as Record<string, unknown> & { _: (string | number)[] };
  const first = a._[0];
  const command = first === 'derive' || first === 'build' ? first : undefined;
  if (failure !== undefined) return { kind: 'usage', message: failure, command };
  if (shown || a['help'] || a['version']) return { kind: 'shown', text: shown };
  if (command === 'derive') {
    return {
      kind: 'derive',
      rule: String(a['rule']),
      format: a['format'] as Format,
      limits: (a['limit'] as string[] | undefined) ?? [],
      regime: a['exact-n'] ? 'exact-n' : 'asymptotic',
      output: a['output'] as string | undefined,
    };
  }
  if (command === 'build') return { kind: 'build', rules: String(a['rules']), out: String(a['out']), check: Boolean(a['check']) };
  return { kind: 'usage', message: 'give a command: derive or build' };
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

/** 'ENOENT: no such file or directory, open …' → 'no such file or directory'. */
function reason(e: unknown): string {
  if ((e as NodeJS.ErrnoException | undefined)?.code === 'EISDIR') return 'is a directory';
  const message = e instanceof Error ? e.message : String(e);
  return /^[A-Z]+: (.*?)(?:, \w+(?: .*)?)?$/.exec(message)?.[1] ?? message;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${reason(e)}`);
  }
}

function writeText(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${reason(e)}`);
  }
}

// ---- derive ----------------------------------------------------------------------------

function deriveCommand(args: DeriveArgs): number {
  const rule = parseRule(readText(args.rule), args.rule);
  const d = derive(rule, { limits: args.limits, exactN: args.regime === 'exact-n' });
  const text = withFinalNewline(EMITTERS[args.format](d, args.regime));
  if (args.output !== undefined) writeText(args.output, text);
  else out(text);
  return EXIT.ok;
}

// ---- build -----------------------------------------------------------------------------

/** The names of the *.rule files directly in dir (not in subfolders), sorted by code unit for a stable order. */
function listRules(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (e) {
    throw new CliError(`cannot read ${dir}: ${reason(e)}`);
  }
  return files.filter((f) => f.endsWith('.rule') && statSync(join(dir, f)).isFile()).map((f) => basename(f, '.rule')).sort();
}

/** Every file under dir, as paths relative to dir with '/' separators; [] if dir does not exist. */
function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  return entries.filter((r) => statSync(join(dir, r)).isFile()).map((r) => r.split(sep).join('/')).sort();
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
  for (const name of rules) {
    const path = join(args.rules, `${name}.rule`);
    const t0 = performance.now();
    try {
      const d = derive(parseRule(readText(path), path));
      for (const [target, emit] of BUILD_FILES) expected.set(`${name}/${target}`, withFinalNewline(emit(d, 'asymptotic')));
      out(`${name}: ${Math.round(performance.now() - t0)} ms\n`);
    } catch (e) {
      failed.add(name);
      code = Math.max(code, report(e));
    }
  }

  const shown = (rel: string) => join(args.out, rel);
  // Files of a rule that failed are neither compared nor called extra: the failure was reported.
  const extra = listFiles(args.out).filter((rel) => !expected.has(rel) && !failed.has(rel.split('/')[0]!));
  if (args.check) {
    const problems: string[] = [];
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
      throw new CliError(`cannot write ${target}: ${reason(e)}`);
    }
    writeText(target, text);
  }
  // Never delete: --out may point anywhere. Name the leftovers instead.
  for (const rel of extra) err(`memloss: warning: ${shown(rel)} is produced by no rule; delete it\n`);
  return code;
}

